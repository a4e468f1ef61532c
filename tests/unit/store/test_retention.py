"""Retention: the engine's tick deletes messages older than BOTS_RETENTION_DAYS, hourly at most."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bots.models import IncomingMessage, ThreadKey
from bots.store.privacy import Retention
from bots.store.sqlite import SQLiteStore
from bots.turn.engine import Engine
from bots.turn.runtime import PersonaRuntime

START = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
KEY = ThreadKey("test", "w1", "c1", "t1")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def say(engine: Engine, text: str, message_id: str) -> None:
    async for _ in engine.handle(IncomingMessage(KEY, "u1", text, message_id)):
        pass


async def texts(store: SQLiteStore) -> list[str]:
    conversation = await store.get_conversation(KEY)
    assert conversation is not None
    return [t.text for t in await store.recent_turns(conversation.id, 50)]


async def test_tick_deletes_old_turns_hourly(
    store: SQLiteStore, cafe_runtime: PersonaRuntime
) -> None:
    clock = Clock(START)
    engine = Engine(
        store=store,
        personas={"cafe": cafe_runtime},
        default_persona="cafe",
        llm=None,
        clock=clock,
        retention=Retention(store, days=30),
    )
    await say(engine, "is there wifi?", "m1")
    clock.now = START + timedelta(days=20)
    await say(engine, "where can I park?", "m2")

    clock.now = START + timedelta(days=30, minutes=1)
    await engine.tick()
    remaining = await texts(store)
    assert "is there wifi?" not in remaining
    assert "where can I park?" in remaining

    clock.now = START + timedelta(days=50, minutes=-10)  # the parking question is not yet due
    await engine.tick()
    assert "where can I park?" in await texts(store)
    # Now it is, but the last run was less than an hour ago: this tick deletes nothing.
    clock.now = START + timedelta(days=50, minutes=30)
    await engine.tick()
    assert "where can I park?" in await texts(store)
    clock.now = START + timedelta(days=50, minutes=51)
    await engine.tick()
    assert await texts(store) == []


async def test_without_retention_nothing_is_deleted(
    store: SQLiteStore, cafe_runtime: PersonaRuntime
) -> None:
    clock = Clock(START)
    engine = Engine(
        store=store, personas={"cafe": cafe_runtime}, default_persona="cafe", llm=None, clock=clock
    )
    await say(engine, "is there wifi?", "m1")
    clock.now = START + timedelta(days=3650)
    await engine.tick()
    assert "is there wifi?" in await texts(store)


async def test_retention_reports_what_it_deleted(store: SQLiteStore) -> None:
    retention = Retention(store, days=1)
    assert await retention.run_if_due(START) == 0
    assert await retention.run_if_due(START + timedelta(minutes=59)) is None
    assert await retention.run_if_due(START + timedelta(minutes=60)) == 0
