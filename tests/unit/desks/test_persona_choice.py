"""The persona chooses the desk (`handoff.desk`) and its priorities (`handoff.desk_priority`)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bots.app.desk_wiring import warn_unmet_choices
from bots.config import Settings
from bots.desks.settings import DeskSettings
from bots.desks.zendesk import ZendeskDesk
from bots.models import HandoffRequested
from bots.secret import Secret
from bots.store.sqlite import SQLiteStore
from bots.turn.runtime import PersonaRuntime
from tests.fakes import fake_zendesk
from tests.fakes.fake_zendesk import FakeZendesk
from tests.support.desk_rig import desk_bot


@pytest.fixture
def zendesk() -> Iterator[FakeZendesk]:
    with FakeZendesk() as fake:
        yield fake


def choosing(runtime: PersonaRuntime, **handoff: object) -> PersonaRuntime:
    """`runtime`'s persona with these `handoff:` fields, as if written in its file."""
    persona = runtime.persona
    changed = persona.model_copy(update={"handoff": persona.handoff.model_copy(update=handoff)})
    return PersonaRuntime.build(changed, runtime.retriever.entries, None)


async def hand_off(
    store: SQLiteStore, runtime: PersonaRuntime, zendesk: FakeZendesk
) -> HandoffRequested:
    desk = ZendeskDesk(zendesk.url, fake_zendesk.EMAIL, Secret(fake_zendesk.TOKEN))
    async with desk_bot(store, runtime, desk) as bot:
        events = await bot.say("I want to talk to a human please")
        await bot.settle()
    handoff = events[-1]
    assert isinstance(handoff, HandoffRequested)
    return handoff


async def test_the_persona_priority_wins_over_the_settings(
    store: SQLiteStore, cafe_runtime: PersonaRuntime, zendesk: FakeZendesk
) -> None:
    # The rig's settings say user_asked=high; the persona says urgent.
    runtime = choosing(cafe_runtime, desk="zendesk", desk_priority={"user_asked": "urgent"})
    await hand_off(store, runtime, zendesk)
    (ticket,) = zendesk.tickets.values()
    assert ticket.priority == "urgent"


async def test_without_a_persona_rule_the_settings_priority_holds(
    store: SQLiteStore, cafe_runtime: PersonaRuntime, zendesk: FakeZendesk
) -> None:
    runtime = choosing(cafe_runtime, desk_priority={"llm_unavailable": "urgent"})
    await hand_off(store, runtime, zendesk)
    (ticket,) = zendesk.tickets.values()
    assert ticket.priority == "high"


@pytest.mark.parametrize("choice", ["none", "chatwoot"])
async def test_a_persona_choosing_no_desk_or_another_gets_no_ticket_here(
    store: SQLiteStore, cafe_runtime: PersonaRuntime, zendesk: FakeZendesk, choice: str
) -> None:
    handoff = await hand_off(store, choosing(cafe_runtime, desk=choice), zendesk)
    assert not zendesk.tickets
    assert handoff.record is not None
    assert not any("ticket: pending" in line for line in handoff.record.summary)


def test_a_choice_the_settings_cannot_meet_is_warned_about(
    cafe_runtime: PersonaRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(desks=DeskSettings())
    with caplog.at_level(logging.WARNING):
        warn_unmet_choices(settings, {"cafe": choosing(cafe_runtime, desk="zendesk")})
        warn_unmet_choices(settings, {"cafe": choosing(cafe_runtime, desk="none")})
    (warning,) = caplog.records
    assert "persona cafe chooses the zendesk desk" in warning.getMessage()
    assert "BOTS_DESK is not set" in warning.getMessage()
