"""Message actions through the real client: "Ask <bot> about this" and "Hand to support".

A right-click > Apps on a message is INTERACTION_CREATE type 2 with `data.type` 3,
`target_id` and the message under `resolved.messages`; assertions are on what the fake
Discord receives: the commands registered, the thread, who asked, the answer, the callbacks.
"""

from __future__ import annotations

from pathlib import Path

from bots.adapters.discord.formatting import thread_key
from bots.models import ConversationState, Role
from bots.store.sqlite import SQLiteStore
from tests.fakes.fake_discord import (
    GENERAL_ID,
    GUILD_ID,
    ROLE_ID,
    STAFF_ID,
    SUPPORT_ID,
    USER_ID,
    message_command,
    user_message,
)
from tests.support.discord_rig import running_bot
from tests.unit.adapters.discord.test_adapter import NO_PINGS, ScriptedModel, contents

ASK = "Ask Test Cafe Helper about this"
CALLBACK = r"/interactions/\d+/[^/]+/callback"
HELPER = "900000000000000202"


async def test_both_message_commands_are_registered_for_guilds(
    tmp_path: Path, store: SQLiteStore
) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("unused")) as rig:
        [sync] = rig.fake.made("PUT", r"/applications/\d+/commands")
        menus = {c["name"]: c for c in sync.body if c["type"] == 3}
        assert set(menus) == {ASK, "Hand to support"}
        assert all(
            menu["contexts"] == [0] or menu.get("dm_permission") is False for menu in menus.values()
        )


async def test_ask_answers_the_message_in_a_thread_as_its_author_and_says_who_asked(
    tmp_path: Path, store: SQLiteStore
) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("We open at 8.", parts=1)) as rig:
        question = user_message("when do you open on sundays", mention_bot=False)
        await rig.send(question)
        assert not rig.fake.posts(question["id"])  # not addressed to the bot: left alone
        await rig.interact(message_command(ASK, question, author=HELPER))
        [deferred] = rig.fake.made("POST", CALLBACK)
        assert deferred.body["type"] == 5
        assert deferred.body["data"]["flags"] == 64  # only the one who asked sees "thinking"
        thread = question["id"]
        assert rig.fake.made("POST", f"/channels/{GENERAL_ID}/messages/{thread}/threads")
        said = rig.fake.posts(thread)
        assert said[0]["content"] == f"<@{HELPER}> asked me to answer <@{USER_ID}>'s message."
        assert said[0]["allowed_mentions"] == NO_PINGS
        assert contents(said)[1] == "We open at 8."
        conversation = await store.get_conversation(thread_key(GUILD_ID, thread))
        assert conversation is not None
        [asked, _] = await store.recent_turns(conversation.id, 5)
        assert (asked.role, asked.author_id) == (Role.USER, USER_ID)
        assert asked.text == "when do you open on sundays"
        [followup] = rig.fake.made("POST", r"/webhooks/\d+/[^/]+")
        assert followup.body["content"] == f"Answered in <#{thread}>."
        assert followup.body["flags"] == 64


async def test_ask_twice_on_one_message_answers_once(tmp_path: Path, store: SQLiteStore) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("Yes.", parts=1)) as rig:
        question = user_message("can I bring my dog", mention_bot=False)
        await rig.interact(message_command(ASK, question, author=HELPER))
        await rig.interact(message_command(ASK, question, author=HELPER))
        assert contents(rig.fake.posts(question["id"])).count("Yes.") == 1


async def test_ask_in_a_thread_answers_there(tmp_path: Path, store: SQLiteStore) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("Sure.", parts=1)) as rig:
        first = user_message("Hello")
        await rig.send(first)
        thread = first["id"]
        follow = user_message("and dogs?", channel=thread, mention_bot=False, author=HELPER)
        await rig.interact(message_command(ASK, follow, channel_type=11))
        assert len(rig.fake.made("POST", r"/channels/\d+/messages/\d+/threads")) == 1
        assert contents(rig.fake.posts(thread))[-1] == "Sure."


async def test_hand_to_support_is_for_staff_and_hands_the_thread_over(
    tmp_path: Path, store: SQLiteStore
) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("unused")) as rig:
        message = user_message("my order never came", mention_bot=False)
        await rig.interact(message_command("Hand to support", message))
        [refusal] = rig.fake.made("POST", CALLBACK)
        assert refusal.body["type"] == 4
        assert refusal.body["data"]["flags"] == 64
        assert not rig.fake.posts(SUPPORT_ID)
        await rig.interact(
            message_command("Hand to support", message, author=STAFF_ID, roles=[ROLE_ID])
        )
        key = thread_key(GUILD_ID, message["id"])
        assert await rig.engine.state(key) == ConversationState.WAITING_FOR_HUMAN
        [card] = rig.fake.posts(SUPPORT_ID)
        fields = {f["name"]: f["value"] for f in card["embeds"][0]["fields"]}
        assert "my order never came" in str(fields)
        assert rig.fake.posts(message["id"])  # the user is told in the new thread
