"""A bot with a help desk, for tests: engine, store, outbox, relay and webhooks, as wired.

The desk is the real client (bots/desks) over real httpx against a fake desk server on
127.0.0.1; `shown` collects what the relay hands to the platform adapter.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bots.app.desk_wiring import knowledge_sources
from bots.desks.connector import DeskConnector
from bots.desks.outbox import DeskOutbox
from bots.desks.protocol import DeskClient
from bots.desks.receiver import DeskWebhooks
from bots.desks.relay import DeskRelay
from bots.models import EngineEvent, IncomingMessage, ThreadKey
from bots.secret import Secret
from bots.store import Store
from bots.turn.engine import Engine
from bots.turn.runtime import PersonaRuntime

KEY = ThreadKey("slack", "T1", "C1", "1700000000.000100")
WEBHOOK_SECRET = "desk-webhook-secret"
START = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
_ids = itertools.count(1)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class DeskBot:
    engine: Engine
    store: Store
    desk: DeskClient
    outbox: DeskOutbox
    relay: DeskRelay
    webhooks: DeskWebhooks
    clock: Clock
    shown: list[EngineEvent] = field(default_factory=list)

    async def say(self, text: str, author: str = "U1") -> list[EngineEvent]:
        message = IncomingMessage(KEY, author, text, f"m{next(_ids)}")
        return [event async for event in self.engine.handle(message)]

    async def settle(self) -> None:
        """Let background deliveries and syncs finish, then run the outbox."""
        await self.engine.aclose()  # waits for the hand-off sinks' tasks
        await self.outbox.run_due()

    async def ticket_id(self) -> str:
        conversation = await self.store.get_conversation(KEY)
        assert conversation is not None
        tickets = await self.store.desk_tickets_of(conversation.id)
        assert tickets, "no ticket linked yet"
        return tickets[-1].ticket_id


@asynccontextmanager
async def desk_bot(
    store: Store, runtime: PersonaRuntime, desk: DeskClient, clock: Clock | None = None
) -> AsyncIterator[DeskBot]:
    clock = clock or Clock()
    outbox = DeskOutbox(store, {desk.name: desk}, clock, jitter=lambda: 0.0)
    personas = {runtime.persona.name: runtime}
    connector = DeskConnector(
        desk,
        store,
        outbox,
        sources_of=knowledge_sources(personas),
        priorities={"user_asked": "high"},
    )
    engine = Engine(
        store=store,
        personas=personas,
        default_persona=runtime.persona.name,
        llm=None,
        clock=clock,
        handoff_sinks=[connector],
        link_for=lambda key: f"https://slack.example/archives/{key.channel}/p{key.thread}",
    )
    relay = DeskRelay(store, engine, {desk.name: desk}, clock)
    bot = DeskBot(
        engine,
        store,
        desk,
        outbox,
        relay,
        DeskWebhooks(relay, {desk.name: Secret(WEBHOOK_SECRET)}),
        clock,
    )

    async def show(event: EngineEvent) -> None:
        bot.shown.append(event)

    relay.attach(show)
    try:
        yield bot
    finally:
        await engine.aclose()
        await desk.aclose()
