"""Discord hand-offs through the real client: the support card, its buttons, claims, commands.

Assertions are on what the fake Discord receives: the role ping and nothing else, the card's
embed and its updates, interaction callbacks (answered or deferred at once), and silence
while a person owns the thread.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bots.adapters.discord.formatting import thread_key
from bots.models import ConversationState
from bots.store.sqlite import SQLiteStore
from tests.fakes.fake_discord import (
    APP_ID,
    GUILD_ID,
    ROLE_ID,
    STAFF_ID,
    SUPPORT_ID,
    USER_ID,
    button_click,
    custom_ids,
    slash,
    user_message,
)
from tests.support.discord_rig import Rig, running_bot
from tests.unit.adapters.discord.test_adapter import NO_PINGS, ScriptedModel, contents

CALLBACK = r"/interactions/\d+/[^/]+/callback"


async def hand_off(rig: Rig) -> tuple[str, dict[str, Any]]:
    """A user asks for a person; returns the thread id and the card as Discord holds it."""
    question = user_message("Can I talk to a human please?")
    await rig.send(question)
    [card] = rig.fake.posts(SUPPORT_ID)
    posted = next(m for m in rig.fake.messages.values() if m["channel_id"] == SUPPORT_ID)
    assert posted["embeds"] == card["embeds"]
    return question["id"], posted


async def test_a_hand_off_tells_the_user_and_pings_only_the_support_role(
    tmp_path: Path, store: SQLiteStore
) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("unused")) as rig:
        thread, card = await hand_off(rig)
        [told] = rig.fake.posts(thread)
        assert "person" in told["content"]
        assert told["allowed_mentions"] == NO_PINGS
        [notice] = rig.fake.posts(SUPPORT_ID)
        assert notice["content"].startswith(f"<@&{ROLE_ID}> ")
        assert notice["allowed_mentions"] == {"parse": [], "roles": [int(ROLE_ID)]}
        [embed] = notice["embeds"]
        fields = {f["name"]: f["value"] for f in embed["fields"]}
        assert fields["Reason"] == "a person was asked for"
        assert f"/channels/{GUILD_ID}/{thread}" in fields["Thread"]
        assert embed["description"]
        assert custom_ids(card) == [
            f"bots:claim:{GUILD_ID}:{thread}",
            f"bots:resolve:{GUILD_ID}:{thread}",
        ]


async def test_claim_button_updates_the_card_and_the_bot_stays_silent_until_resolve(
    tmp_path: Path, store: SQLiteStore
) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("Back to you.", parts=1)) as rig:
        thread, card = await hand_off(rig)
        claim, resolve = custom_ids(card)
        await rig.interact(button_click(claim, card, author=STAFF_ID, roles=[ROLE_ID]))
        [callback] = rig.fake.made("POST", CALLBACK)
        assert callback.body["type"] == 6  # deferred update: answered at once
        [update] = rig.fake.edits(SUPPORT_ID)
        status = {f["name"]: f["value"] for f in update.body["embeds"][0]["fields"]}["Status"]
        assert status == f"Claimed by <@{STAFF_ID}>"
        assert custom_ids(rig.fake.messages[card["id"]]) == [resolve]
        conversation = await store.get_conversation(thread_key(GUILD_ID, thread))
        assert conversation is not None
        assert conversation.state is ConversationState.HUMAN

        before = len(rig.fake.posts(thread))
        await rig.send(user_message("hello?", channel=thread, mention_bot=False))
        assert len(rig.fake.posts(thread)) == before  # silent while a person has it

        await rig.interact(button_click(resolve, card, author=STAFF_ID, roles=[ROLE_ID]))
        assert len(rig.fake.posts(thread)) == before + 1  # the user is told
        final = rig.fake.edits(SUPPORT_ID)[-1].body
        assert "Resolved by" in str(final["embeds"][0]["fields"])
        assert final["components"] == []
        await rig.send(user_message("and now?", channel=thread, mention_bot=False))
        assert contents(rig.fake.posts(thread))[-1] == "Back to you."


async def test_only_staff_can_click_claim(tmp_path: Path, store: SQLiteStore) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("unused")) as rig:
        _thread, card = await hand_off(rig)
        claim, _ = custom_ids(card)
        await rig.interact(button_click(claim, card, author=USER_ID))
        [callback] = rig.fake.made("POST", CALLBACK)
        assert callback.body["type"] == 4
        assert callback.body["data"]["flags"] == 64  # ephemeral
        assert "support team" in callback.body["data"]["content"]
        assert rig.fake.edits(SUPPORT_ID) == []


async def test_a_message_from_a_support_role_member_claims_the_thread(
    tmp_path: Path, store: SQLiteStore
) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("unused")) as rig:
        thread, _card = await hand_off(rig)
        before = len(rig.fake.posts(thread))
        staff = user_message(
            "Hi, I'm here to help",
            channel=thread,
            mention_bot=False,
            author=STAFF_ID,
            roles=[ROLE_ID],
        )
        await rig.send(staff)
        [update] = rig.fake.edits(SUPPORT_ID)
        assert f"Claimed by <@{STAFF_ID}>" in str(update.body["embeds"])
        assert len(rig.fake.posts(thread)) == before


async def test_buttons_work_after_a_restart(tmp_path: Path, store: SQLiteStore) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("unused")) as rig:
        thread, card = await hand_off(rig)
    async with running_bot(tmp_path, store, ScriptedModel("unused")) as rig:
        rig.fake.messages[card["id"]] = card
        claim, _ = custom_ids(card)
        await rig.interact(button_click(claim, card, author=STAFF_ID, roles=[ROLE_ID]))
        [update] = rig.fake.edits(SUPPORT_ID)
        assert f"Claimed by <@{STAFF_ID}>" in str(update.body["embeds"])
        conversation = await store.get_conversation(thread_key(GUILD_ID, thread))
        assert conversation is not None
        assert conversation.state is ConversationState.HUMAN


async def test_unclaimed_hand_offs_get_reminders_that_ping_the_role(
    tmp_path: Path, store: SQLiteStore
) -> None:
    now = [datetime.now(UTC)]
    async with running_bot(
        tmp_path, store, ScriptedModel("unused"), engine_clock=lambda: now[0]
    ) as rig:
        _thread, card = await hand_off(rig)
        await rig.bot.tick()
        assert rig.fake.posts(SUPPORT_ID)[1:] == []  # not yet
        now[0] += timedelta(hours=3)
        await rig.bot.tick()
        reminders = rig.fake.posts(SUPPORT_ID)[1:]
        assert reminders, rig.fake.calls[-3:]
        assert reminders[0]["content"].startswith(f"<@&{ROLE_ID}> Still unclaimed")
        assert str(reminders[0]["message_reference"]["message_id"]) == card["id"]
        assert reminders[0]["allowed_mentions"]["roles"] == [int(ROLE_ID)]


async def test_slash_status_is_deferred_then_answered(tmp_path: Path, store: SQLiteStore) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("Yes.", parts=1)) as rig:
        question = user_message("Open today?")
        await rig.send(question)
        await rig.interact(slash("status", channel=question["id"]))
        [callback] = rig.fake.made("POST", CALLBACK)
        assert callback.body["type"] == 5  # deferred: Discord's 3 s are met before any work
        [followup] = rig.fake.made("POST", rf"/webhooks/{APP_ID}/[^/]+")
        assert "answering" in followup.body["content"]


async def test_slash_handoff_and_resolve_are_staff_only(tmp_path: Path, store: SQLiteStore) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("Yes.", parts=1)) as rig:
        question = user_message("Open today?")
        await rig.send(question)
        thread = question["id"]
        await rig.interact(slash("handoff", channel=thread))
        [refused] = rig.fake.made("POST", CALLBACK)
        assert refused.body["type"] == 4
        assert rig.fake.posts(SUPPORT_ID) == []

        reason = [{"type": 3, "name": "reason", "value": "billing question"}]
        await rig.interact(
            slash("handoff", channel=thread, author=STAFF_ID, roles=[ROLE_ID], options=reason)
        )
        [card] = rig.fake.posts(SUPPORT_ID)
        assert "billing question" in str(card["embeds"])
        await rig.interact(slash("resolve", channel=thread, author=STAFF_ID, roles=[ROLE_ID]))
        assert "Resolved by" in str(rig.fake.edits(SUPPORT_ID)[-1].body["embeds"])
        followups = rig.fake.made("POST", rf"/webhooks/{APP_ID}/[^/]+")
        assert [f.body["content"] for f in followups] == [
            "Handed to the support team.",
            "Handed back to the bot.",
        ]


async def test_thumbs_down_records_feedback_and_offers_a_person(
    tmp_path: Path, store: SQLiteStore
) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("We open at 8.", parts=1)) as rig:
        question = user_message("When do you open?")
        await rig.send(question)
        thread = question["id"]
        answer_id = next(m["id"] for m in rig.fake.messages.values() if m["channel_id"] == thread)
        answer = rig.fake.messages[answer_id]
        up, down = custom_ids(answer)
        assert up.startswith("bots:fb:up:")
        assert down.startswith("bots:fb:down:")

        await rig.interact(button_click(down, answer, author=STAFF_ID))
        [refused] = rig.fake.made("POST", CALLBACK)
        assert refused.body["data"]["flags"] == 64  # only the asker may rate

        await rig.interact(button_click(down, answer, author=USER_ID))
        update = rig.fake.made("POST", CALLBACK)[-1]
        assert update.body["type"] == 7  # the answer loses its buttons at once
        assert update.body["data"]["components"] == []
        assert contents(rig.fake.posts(thread))[-1] == "Shall I get a person?"
        await rig.send(user_message("yes please", channel=thread, mention_bot=False))
        [card] = rig.fake.posts(SUPPORT_ID)
        assert "the answer did not help" in str(card["embeds"])


async def test_a_hand_off_card_refused_with_a_429_without_via_is_posted_on_the_retry(
    tmp_path: Path, store: SQLiteStore
) -> None:
    """discord.py does not retry a 429 without `Via`; the team must still hear of it."""
    async with running_bot(tmp_path, store, ScriptedModel("unused")) as rig:
        support = f"/channels/{SUPPORT_ID}/messages"
        rig.fake.rate_limit_next("POST", support, retry_after=2.0, via=False, header=True)
        await hand_off(rig)
        assert [c.status for c in rig.fake.made("POST", support)] == [429, 200]
        assert 2.0 in rig.sleep.calls
