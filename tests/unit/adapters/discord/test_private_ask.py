"""The private `/ask` through the real client: an ephemeral answer, then post it or get a person."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bots.adapters.discord.formatting import thread_key
from bots.models import ConversationState
from bots.store.sqlite import SQLiteStore
from tests.fakes.fake_discord import (
    GENERAL_ID,
    GUILD_ID,
    SUPPORT_ID,
    USER_ID,
    ask_command,
    button_click,
    custom_ids,
)
from tests.support.discord_rig import Rig, running_bot
from tests.unit.adapters.discord.test_adapter import NO_PINGS, ScriptedModel

CALLBACK = r"/interactions/\d+/[^/]+/callback"
FOLLOWUP = r"/webhooks/\d+/[^/]+"


async def ask(rig: Rig, question: str) -> dict[str, Any]:
    """`/ask`; returns the ephemeral answer as Discord holds it (in the channel it was asked)."""
    await rig.interact(ask_command(question))
    [deferred] = rig.fake.made("POST", CALLBACK)
    assert deferred.body["type"] == 5
    assert deferred.body["data"]["flags"] == 64
    answer = rig.fake.made("POST", FOLLOWUP)[-1].body
    return {
        **answer,
        "id": "1300000000000009999",
        "channel_id": GENERAL_ID,
        "flags": 64,
        "author": {
            "id": "900000000000000100",
            "username": "SupportBot",
            "bot": True,
            "discriminator": "0",
            "global_name": None,
            "avatar": None,
        },
        "timestamp": "2026-01-01T00:00:00+00:00",
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "type": 0,
    }


async def test_the_answer_is_ephemeral_with_buttons_to_post_it_or_get_a_person(
    tmp_path: Path, store: SQLiteStore
) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("We open at 8.", parts=3)) as rig:
        answer = await ask(rig, "When do you open?")
        assert answer["content"] == "We open at 8."
        assert answer["flags"] == 64
        asked = rig.fake.made("POST", CALLBACK)[0].path.split("/")[2]  # the interaction id
        assert custom_ids(answer) == [
            f"bots:askpub:{GUILD_ID}:{asked}:{USER_ID}",
            f"bots:askperson:{GUILD_ID}:{asked}:{USER_ID}",
        ]
        assert not rig.fake.posts(GENERAL_ID)  # nothing public


async def test_post_in_the_channel_puts_the_question_and_answer_there(
    tmp_path: Path, store: SQLiteStore
) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("We open at 8.", parts=1)) as rig:
        answer = await ask(rig, "When do you open?")
        public, _ = custom_ids(answer)
        await rig.interact(button_click(public, answer, author="900000000000000777"))
        assert not rig.fake.posts(GENERAL_ID)  # only the asker may
        await rig.interact(button_click(public, answer))
        [posted] = rig.fake.posts(GENERAL_ID)
        assert posted["content"] == f"<@{USER_ID}> asked: When do you open?\n\nWe open at 8."
        assert posted["allowed_mentions"] == NO_PINGS
        edit = rig.fake.made("PATCH", FOLLOWUP + "/messages/@original")[-1].body
        assert edit["content"] == "Posted in the channel."
        assert edit["components"] == []


async def test_ask_for_a_person_opens_a_public_thread_and_hands_it_to_the_team(
    tmp_path: Path, store: SQLiteStore
) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("Refunds take 5 days.")) as rig:
        answer = await ask(rig, "Where is my refund?")
        _, person = custom_ids(answer)
        await rig.interact(button_click(person, answer))
        [posted] = rig.fake.posts(GENERAL_ID)
        assert posted["content"] == f"<@{USER_ID}> asked: Where is my refund?"
        [thread] = rig.fake.made("POST", rf"/channels/{GENERAL_ID}/messages/\d+/threads")
        thread_id = thread.path.split("/")[4]
        key = thread_key(GUILD_ID, thread_id)
        assert await rig.engine.state(key) == ConversationState.WAITING_FOR_HUMAN
        [card] = rig.fake.posts(SUPPORT_ID)
        fields = {f["name"]: f["value"] for f in card["embeds"][0]["fields"]}
        assert fields["Reason"].startswith("a person was asked for")
        assert "Where is my refund?" in fields["Reason"]
        assert thread_id in fields["Thread"]


async def test_a_question_that_asks_for_a_person_goes_to_a_public_thread(
    tmp_path: Path, store: SQLiteStore
) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("unused")) as rig:
        await rig.interact(ask_command("Can I talk to a human please?"))
        [thread] = rig.fake.made("POST", rf"/channels/{GENERAL_ID}/messages/\d+/threads")
        assert len(rig.fake.posts(SUPPORT_ID)) == 1  # one notice, for the public thread
        told = rig.fake.made("POST", FOLLOWUP)[-1].body
        assert f"<#{thread.path.split('/')[4]}>" in told["content"]
        assert told["flags"] == 64
