"""BOTS_DESK_SOLVE_ON_RESOLVE: staff resolving the thread in the chat solves the desk ticket."""

from __future__ import annotations

import pytest

from bots.desks.chatwoot import ChatwootDesk
from bots.desks.protocol import DeskClient
from bots.desks.settings import DeskSettings
from bots.desks.zendesk import ZendeskDesk
from bots.models import HandoffRequested
from bots.secret import Secret
from bots.store.sqlite import SQLiteStore
from bots.turn.runtime import PersonaRuntime
from tests.fakes import fake_chatwoot, fake_zendesk
from tests.fakes.fake_chatwoot import FakeChatwoot
from tests.fakes.fake_zendesk import FakeZendesk
from tests.support.desk_rig import KEY, DeskBot, desk_bot


async def handed_off_and_resolved(bot: DeskBot) -> None:
    events = await bot.say("I want to talk to a human please")
    assert isinstance(events[-1], HandoffRequested)
    await bot.settle()  # the ticket exists
    await bot.engine.resolve(KEY, "U0STAFF")
    await bot.settle()  # the update reached the connector, the outbox ran


def zendesk_desk(zendesk: FakeZendesk) -> DeskClient:
    return ZendeskDesk(zendesk.url, fake_zendesk.EMAIL, Secret(fake_zendesk.TOKEN))


async def test_resolved_in_the_chat_solves_the_zendesk_ticket(
    store: SQLiteStore, cafe_runtime: PersonaRuntime
) -> None:
    with FakeZendesk() as zendesk:
        desk = zendesk_desk(zendesk)
        async with desk_bot(store, cafe_runtime, desk, solve_on_resolve=True) as bot:
            await handed_off_and_resolved(bot)
        (ticket,) = zendesk.tickets.values()
        assert ticket.status == "solved"
        assert ticket.assignee_id == fake_zendesk.API_USER  # Zendesk solves assigned tickets
        assert ticket.comments[-1]["public"] is False  # the note is internal


async def test_off_by_default_the_ticket_stays_open_for_the_team(
    store: SQLiteStore, cafe_runtime: PersonaRuntime
) -> None:
    with FakeZendesk() as zendesk:
        async with desk_bot(store, cafe_runtime, zendesk_desk(zendesk)) as bot:
            await handed_off_and_resolved(bot)
        (ticket,) = zendesk.tickets.values()
        assert ticket.status == "new"
    assert DeskSettings().solve_on_resolve is False


async def test_a_desk_down_when_solving_is_retried_from_the_outbox(
    store: SQLiteStore, cafe_runtime: PersonaRuntime
) -> None:
    with FakeZendesk() as zendesk:
        async with desk_bot(
            store, cafe_runtime, zendesk_desk(zendesk), solve_on_resolve=True
        ) as bot:
            events = await bot.say("I want to talk to a human please")
            assert isinstance(events[-1], HandoffRequested)
            await bot.settle()
            zendesk.fail(429, Retry_After="7")
            await bot.engine.resolve(KEY, "U0STAFF")
            await bot.settle()
            (ticket,) = zendesk.tickets.values()
            assert ticket.status == "new"  # not yet: 429
            bot.clock.advance(8)
            await bot.outbox.run_due()
        assert ticket.status == "solved"


async def test_resolved_in_the_chat_resolves_the_chatwoot_conversation(
    store: SQLiteStore, cafe_runtime: PersonaRuntime
) -> None:
    with FakeChatwoot() as chatwoot:
        desk = ChatwootDesk(
            chatwoot.url, fake_chatwoot.ACCOUNT, fake_chatwoot.INBOX, Secret(fake_chatwoot.TOKEN)
        )
        async with desk_bot(store, cafe_runtime, desk, solve_on_resolve=True) as bot:
            await handed_off_and_resolved(bot)
        (conversation,) = chatwoot.conversations.values()
        assert conversation.status == "resolved"


@pytest.mark.parametrize(("raw", "on"), [("", False), ("true", True), ("off", False)])
def test_the_setting(raw: str, on: bool) -> None:
    environ = {"BOTS_DESK": "chatwoot", "CHATWOOT_URL": "https://cw.example"}
    environ |= {"CHATWOOT_API_TOKEN": "t", "CHATWOOT_ACCOUNT_ID": "1", "CHATWOOT_INBOX_ID": "2"}
    environ["BOTS_DESK_SOLVE_ON_RESOLVE"] = raw
    assert DeskSettings.from_env(environ).solve_on_resolve is on
