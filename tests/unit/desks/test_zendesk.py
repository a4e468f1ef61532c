"""A hand-off as a Zendesk ticket, both ways, with the real client against a fake Zendesk."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest

from bots.desks.zendesk import ZendeskDesk
from bots.models import (
    ConversationState,
    FinalReply,
    HandoffClaimed,
    HandoffRequested,
    HandoffResolved,
    SilenceReason,
    Silent,
    StaffReply,
)
from bots.secret import Secret
from bots.store.sqlite import SQLiteStore
from bots.turn.runtime import PersonaRuntime
from tests.fakes import fake_zendesk
from tests.fakes.fake_zendesk import FakeZendesk
from tests.support.desk_rig import KEY, WEBHOOK_SECRET, DeskBot, desk_bot


@pytest.fixture
def zendesk() -> Iterator[FakeZendesk]:
    with FakeZendesk() as fake:
        yield fake


@pytest.fixture
async def bot(
    store: SQLiteStore, cafe_runtime: PersonaRuntime, zendesk: FakeZendesk
) -> AsyncIterator[DeskBot]:
    desk = ZendeskDesk(zendesk.url, fake_zendesk.EMAIL, Secret(fake_zendesk.TOKEN))
    async with desk_bot(store, cafe_runtime, desk) as rig:
        yield rig


async def webhook(bot: DeskBot, zendesk: FakeZendesk, ticket_id: str) -> int:
    headers, body = zendesk.webhook(ticket_id, WEBHOOK_SECRET)
    status, _ = bot.webhooks.handle("/desks/zendesk", headers, body)
    await asyncio.gather(*bot.relay.tasks)
    return status


async def test_a_hand_off_becomes_a_ticket_and_comes_back(
    bot: DeskBot, zendesk: FakeZendesk
) -> None:
    answered = await bot.say("When are you open?")
    assert isinstance(answered[-1], FinalReply)
    events = await bot.say("I want to talk to a human please")
    handoff = events[-1]
    assert isinstance(handoff, HandoffRequested)
    assert handoff.record is not None
    # The team's notice says the ticket is pending until Zendesk has it.
    assert any("Zendesk ticket: pending" in line for line in handoff.record.summary)
    await bot.settle()

    ticket_id = await bot.ticket_id()
    ticket = zendesk.tickets[int(ticket_id)]
    description = ticket.comments[0]
    assert description["public"] is False  # the transcript is for agents only
    assert "User: When are you open?" in description["body"]
    assert "Sources: When are you open? (https://cafe.example/hours)" in description["body"]
    assert (
        "Chat thread: https://slack.example/archives/C1/p1700000000.000100" in description["body"]
    )
    assert ticket.subject == "When are you open?"
    assert set(ticket.tags) >= {"persona_cafe", "platform_slack", "handoff_user_asked"}
    assert ticket.priority == "high"  # BOTS_DESK_PRIORITY user_asked=high in the rig

    # An agent answers publicly in Zendesk: the reply is posted in the thread, by name.
    agent = zendesk.agent("Ana Agent")
    zendesk.reply(ticket_id, agent, "Hi! We open at 8 tomorrow.")
    assert await webhook(bot, zendesk, ticket_id) == 200
    assert bot.shown == [
        HandoffClaimed(KEY, "Ana Agent (Zendesk)"),  # the team's notice: claimed by Ana
        StaffReply(KEY, "Ana Agent", "Hi! We open at 8 tomorrow.", "Zendesk"),
    ]
    assert await bot.engine.state(KEY) is ConversationState.HUMAN

    # The user replies in the thread: the bot stays silent, the ticket gets a comment.
    quiet = await bot.say("Great, and is there parking?")
    assert quiet == [Silent(SilenceReason.HUMAN_OWNS_THREAD)]
    await bot.settle()
    assert "Great, and is there parking?" in ticket.comments[-1]["body"]

    # Solved in Zendesk: the thread is resolved with the hand-back message.
    zendesk.solve(ticket_id)
    await webhook(bot, zendesk, ticket_id)
    resolved = bot.shown[-1]
    assert isinstance(resolved, HandoffResolved)
    assert resolved.staff_id == "Ana Agent (Zendesk)"
    assert await bot.engine.state(KEY) is ConversationState.RESOLVED

    # And the bot answers again (it is no longer silent in the thread).
    again = await bot.say("Do you have wifi?")
    assert isinstance(again[-1], FinalReply)


async def test_a_redelivered_webhook_is_applied_once(bot: DeskBot, zendesk: FakeZendesk) -> None:
    await bot.say("I want to talk to a human")
    await bot.settle()
    ticket_id = await bot.ticket_id()
    zendesk.reply(ticket_id, zendesk.agent("Ana"), "On it.")
    for _ in range(3):  # Zendesk retries a delivery it thinks failed
        assert await webhook(bot, zendesk, ticket_id) == 200
    await bot.relay.poll()  # and a poll sees the same reply again
    assert [type(e) for e in bot.shown] == [HandoffClaimed, StaffReply]
    # Retention drops the processed-event ids; the ticket remembers its last posted reply.
    await bot.store.delete_turns_before(bot.clock.now.replace(year=2100))
    await bot.relay.poll()
    assert [type(e) for e in bot.shown] == [HandoffClaimed, StaffReply]
    zendesk.solve(ticket_id)
    for _ in range(2):
        await webhook(bot, zendesk, ticket_id)
    assert [type(e) for e in bot.shown] == [HandoffClaimed, StaffReply, HandoffResolved]


async def test_a_bad_signature_is_refused_and_not_logged(
    bot: DeskBot, zendesk: FakeZendesk, caplog: pytest.LogCaptureFixture
) -> None:
    await bot.say("I want to talk to a human")
    await bot.settle()
    ticket_id = await bot.ticket_id()
    headers, body = zendesk.webhook(ticket_id, "not-the-secret")
    caplog.set_level(logging.DEBUG)
    status, _ = bot.webhooks.handle("/desks/zendesk", headers, body)
    assert status == 401
    assert not bot.relay.tasks
    refusals = [r.getMessage() for r in caplog.records if r.name == "bots.desks.receiver"]
    assert refusals == ["refused a zendesk webhook without a valid signature (401)"]
    assert body.decode() not in caplog.text
    stale_headers, stale_body = zendesk.webhook(
        ticket_id, WEBHOOK_SECRET, at=bot.clock.now.replace(year=2020)
    )
    assert bot.webhooks.handle("/desks/zendesk", stale_headers, stale_body)[0] == 401


async def test_zendesk_down_or_429_loses_nothing(bot: DeskBot, zendesk: FakeZendesk) -> None:
    zendesk.fail(429, Retry_After="7")
    await bot.say("I want to talk to a human")
    await bot.settle()
    assert not zendesk.tickets  # refused for now
    conversation = await bot.store.get_conversation(KEY)
    assert conversation is not None
    assert await bot.store.pending_desk_jobs(conversation.id) == 1
    [job] = await bot.store.due_desk_jobs(bot.clock.now + timedelta(seconds=7))
    assert job.attempts == 1
    # Retry-After honoured: not due after 6 s, due after 7 s.
    bot.clock.advance(6)
    assert await bot.outbox.run_due() == 0
    zendesk.fail(503, count=1)
    bot.clock.advance(1)
    assert await bot.outbox.run_due() == 0  # Zendesk down: tried, failed, rescheduled
    bot.clock.advance(5)  # back-off after the second failure: 4 s
    assert await bot.outbox.run_due() == 1
    assert len(zendesk.tickets) == 1
    assert await bot.store.pending_desk_jobs(conversation.id) == 0


async def test_the_subject_is_the_models_when_it_wrote_a_summary(
    bot: DeskBot, zendesk: FakeZendesk
) -> None:
    from dataclasses import replace

    from bots.desks.connector import DeskConnector
    from bots.handoff.lifecycle import MODEL_SUMMARY_LABEL

    events = await bot.say("hi, I want to talk to a human about my order")
    record = events[-1].record  # type: ignore[union-attr]
    assert record is not None
    summary = (*record.summary, MODEL_SUMMARY_LABEL + "Wants a refund for order 42. Was told…")
    connector = DeskConnector(bot.desk, bot.store, bot.outbox)
    await connector.deliver(replace(record, summary=summary))
    await bot.settle()
    subjects = sorted(t.subject for t in zendesk.tickets.values())
    assert "Wants a refund for order 42." in subjects
