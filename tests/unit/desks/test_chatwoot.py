"""A hand-off as a Chatwoot conversation, both ways, with the real client against a fake."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from bots.desks.chatwoot import ChatwootDesk
from bots.models import (
    ConversationState,
    FinalReply,
    HandoffClaimed,
    HandoffResolved,
    SilenceReason,
    Silent,
    StaffReply,
)
from bots.secret import Secret
from bots.store.sqlite import SQLiteStore
from bots.turn.runtime import PersonaRuntime
from tests.fakes import fake_chatwoot
from tests.fakes.fake_chatwoot import FakeChatwoot
from tests.support.desk_rig import KEY, WEBHOOK_SECRET, DeskBot, desk_bot


@pytest.fixture
def chatwoot() -> Iterator[FakeChatwoot]:
    with FakeChatwoot() as fake:
        yield fake


@pytest.fixture
async def bot(
    store: SQLiteStore, cafe_runtime: PersonaRuntime, chatwoot: FakeChatwoot
) -> AsyncIterator[DeskBot]:
    desk = ChatwootDesk(
        chatwoot.url, fake_chatwoot.ACCOUNT, fake_chatwoot.INBOX, Secret(fake_chatwoot.TOKEN)
    )
    async with desk_bot(store, cafe_runtime, desk) as rig:
        yield rig


async def webhook(bot: DeskBot, chatwoot: FakeChatwoot, ticket_id: str, event: str) -> int:
    headers, body = chatwoot.webhook(ticket_id, WEBHOOK_SECRET, event=event)
    status, _ = bot.webhooks.handle("/desks/chatwoot", headers, body)
    await asyncio.gather(*bot.relay.tasks)
    return status


async def test_a_hand_off_becomes_a_conversation_and_comes_back(
    bot: DeskBot, chatwoot: FakeChatwoot
) -> None:
    await bot.say("When are you open?")
    await bot.say("I want to talk to a human please")
    await bot.settle()
    ticket_id = await bot.ticket_id()
    conversation = chatwoot.conversations[int(ticket_id)]
    messages = conversation.messages
    # The summary and the link as a private note, then the transcript as messages.
    assert messages[0]["private"] is True
    assert "Chat thread: https://slack.example" in (messages[0]["content"])
    incoming = [m["content"] for m in messages if m["message_type"] == 0]
    assert incoming == ["When are you open?", "I want to talk to a human please"]
    notes = [m["content"] for m in messages[1:] if m["private"]]
    assert any("Sources: When are you open? (https://cafe.example/hours)" in n for n in notes)
    assert "handoff_user_asked" in conversation.labels
    assert conversation.attributes == {"bots_conversation": KEY.as_id()}

    # The bot's own notes never come back; an agent's public reply does.
    assert await webhook(bot, chatwoot, ticket_id, "message_created") == 200
    assert bot.shown == []
    chatwoot.reply(ticket_id, "Bea", "Hello from Chatwoot!")
    chatwoot.reply(ticket_id, "Bea", "(internal: check the booking)", private=True)
    await webhook(bot, chatwoot, ticket_id, "message_created")
    assert bot.shown == [
        HandoffClaimed(KEY, "Bea (Chatwoot)"),
        StaffReply(KEY, "Bea", "Hello from Chatwoot!", "Chatwoot"),
    ]
    assert await bot.engine.state(KEY) is ConversationState.HUMAN

    assert await bot.say("Thanks! One more thing") == [Silent(SilenceReason.HUMAN_OWNS_THREAD)]
    await bot.settle()
    assert messages[-1]["content"] == "Thanks! One more thing"
    assert messages[-1]["message_type"] == 0  # as the contact's own message

    chatwoot.resolve(ticket_id)
    await webhook(bot, chatwoot, ticket_id, "conversation_status_changed")
    assert isinstance(bot.shown[-1], HandoffResolved)
    assert await bot.engine.state(KEY) is ConversationState.RESOLVED
    assert isinstance((await bot.say("Do you have wifi?"))[-1], FinalReply)


async def test_a_bad_chatwoot_signature_is_refused(bot: DeskBot, chatwoot: FakeChatwoot) -> None:
    await bot.say("I want to talk to a human")
    await bot.settle()
    ticket_id = await bot.ticket_id()
    chatwoot.reply(ticket_id, "Bea", "Hi")
    headers, body = chatwoot.webhook(ticket_id, "wrong-secret")
    assert bot.webhooks.handle("/desks/chatwoot", headers, body)[0] == 401
    unsigned = {"Content-Type": "application/json"}
    assert bot.webhooks.handle("/desks/chatwoot", unsigned, body)[0] == 401
    assert bot.shown == []
