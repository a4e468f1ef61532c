"""A restart in the middle: queued desk calls and open tickets survive in the store."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from bots.desks.zendesk import ZendeskDesk
from bots.models import HandoffClaimed, HandoffResolved, StaffReply
from bots.secret import Secret
from bots.store.sqlite import SQLiteStore
from bots.turn.runtime import PersonaRuntime
from tests.fakes import fake_zendesk
from tests.fakes.fake_zendesk import FakeZendesk
from tests.support.desk_rig import WEBHOOK_SECRET, Clock, desk_bot


@pytest.fixture
def zendesk() -> Iterator[FakeZendesk]:
    with FakeZendesk() as fake:
        yield fake


def desk(zendesk: FakeZendesk) -> ZendeskDesk:
    return ZendeskDesk(zendesk.url, fake_zendesk.EMAIL, Secret(fake_zendesk.TOKEN))


async def test_a_restart_while_the_desk_is_down_loses_nothing(
    db_path: Path, cafe_runtime: PersonaRuntime, zendesk: FakeZendesk
) -> None:
    clock = Clock()
    first = SQLiteStore(db_path)
    await first.open()
    zendesk.fail(503, count=2)
    async with desk_bot(first, cafe_runtime, desk(zendesk), clock) as bot:
        await bot.say("I want to talk to a human")
        await bot.settle()  # Zendesk is down: queued, not created
        await bot.say("my booking is for 4 people")  # a comment, queued behind the ticket
        await bot.settle()
    await first.close()
    assert not zendesk.tickets

    clock.advance(60)
    second = SQLiteStore(db_path)  # the bot started again
    await second.open()
    try:
        async with desk_bot(second, cafe_runtime, desk(zendesk), clock) as bot:
            await bot.outbox.run_due()  # still down at the first try after the start
            assert not zendesk.tickets
            clock.advance(5)
            await bot.outbox.run_due()
            [ticket] = zendesk.tickets.values()
            assert "my booking is for 4 people" in ticket.comments[-1]["body"]
            ticket_id = str(ticket.id)
            zendesk.reply(ticket_id, zendesk.agent("Ana"), "Booked for 4.")
            zendesk.solve(ticket_id)
            await bot.relay.poll()  # polling finds what no webhook told
            assert [type(e) for e in bot.shown] == [HandoffClaimed, StaffReply, HandoffResolved]
            headers, body = zendesk.webhook(ticket_id, WEBHOOK_SECRET)
            bot.webhooks.handle("/desks/zendesk", headers, body)  # a late webhook: nothing new
            await asyncio.gather(*bot.relay.tasks)
            assert len(bot.shown) == 3
    finally:
        await second.close()


async def test_forgetting_names_the_tickets_and_deletes_remotely_only_when_asked(
    store: SQLiteStore, cafe_runtime: PersonaRuntime, zendesk: FakeZendesk
) -> None:
    async with desk_bot(store, cafe_runtime, desk(zendesk)) as bot:
        await bot.say("I want to talk to a human")
        await bot.settle()
        ticket_id = await bot.ticket_id()
        conversation = await store.get_conversation_by_id(
            (await store.open_desk_tickets())[0].conversation_id
        )
        assert conversation is not None
        forgotten = await store.forget_conversation(conversation.id)
        assert forgotten.desk_tickets == (f"zendesk:{ticket_id}",)
        assert int(ticket_id) in zendesk.tickets  # kept in the desk by default
        assert await store.open_desk_tickets() == []
        await bot.outbox.delete(conversation.id, "zendesk", ticket_id)  # the explicit option
        await bot.outbox.run_due()
        assert int(ticket_id) not in zendesk.tickets
