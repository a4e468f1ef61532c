"""Several quick messages of one user are answered once, as one question."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta

from bots.models import (
    EngineEvent,
    FinalReply,
    HandoffRequested,
    IncomingMessage,
    Role,
    SilenceReason,
    Silent,
    ThreadKey,
)
from bots.store.sqlite import SQLiteStore
from bots.turn.engine import Engine
from bots.turn.runtime import PersonaRuntime

KEY = ThreadKey("test", "w1", "c1", "t1")
_ids = itertools.count(1)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class HeldSleep:
    """A sleep that lasts until the test lets every sleeper go."""

    def __init__(self) -> None:
        self.asleep = 0
        self.seconds: list[float] = []
        self._wake = asyncio.Event()
        self._changed = asyncio.Condition()

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)
        async with self._changed:
            self.asleep += 1
            self._changed.notify_all()
        await self._wake.wait()

    def wake(self) -> None:
        self._wake.set()

    async def until_asleep(self, count: int) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self.asleep >= count)


def message(text: str, author: str = "u1", message_id: str | None = None) -> IncomingMessage:
    return IncomingMessage(
        key=KEY, author_id=author, text=text, message_id=message_id or f"m{next(_ids)}"
    )


async def run(engine: Engine, msg: IncomingMessage) -> list[EngineEvent]:
    return [event async for event in engine.handle(msg)]


def engine_with(
    store: SQLiteStore, runtime: PersonaRuntime, clock: Clock, sleep: HeldSleep
) -> Engine:
    return Engine(
        store=store,
        personas={"cafe": runtime},
        default_persona="cafe",
        llm=None,
        clock=clock,
        burst_window=timedelta(seconds=2),
        sleep=sleep,
    )


async def test_three_quick_messages_get_one_answer_to_all_of_them(
    store: SQLiteStore, cafe_runtime: PersonaRuntime
) -> None:
    clock, sleep = Clock(), HeldSleep()
    engine = engine_with(store, cafe_runtime, clock, sleep)
    tasks = []
    for text in ("hi", "quick question", "where can I park?"):
        tasks.append(asyncio.create_task(run(engine, message(text))))
        await sleep.until_asleep(len(tasks))
        clock.now += timedelta(seconds=1)
    sleep.wake()
    first, second, last = await asyncio.gather(*tasks)
    assert first == [Silent(SilenceReason.MERGED_INTO_NEXT)]
    assert second == [Silent(SilenceReason.MERGED_INTO_NEXT)]
    replies = [e for e in last if isinstance(e, FinalReply)]
    assert len(replies) == 1
    assert "free car park behind the cafe" in replies[0].text
    assert sleep.seconds == [2.0, 2.0, 2.0]
    conversation = await store.get_conversation(KEY)
    assert conversation is not None
    turns = await store.recent_turns(conversation.id, 10)
    assert [t.role for t in turns] == [Role.USER] * 3 + [Role.ASSISTANT]


async def test_an_ask_for_a_person_split_over_messages_is_read_whole(
    store: SQLiteStore, cafe_runtime: PersonaRuntime
) -> None:
    clock, sleep = Clock(), HeldSleep()
    engine = engine_with(store, cafe_runtime, clock, sleep)
    first = asyncio.create_task(run(engine, message("hello")))
    await sleep.until_asleep(1)
    last = asyncio.create_task(run(engine, message("can I talk to a real person")))
    await sleep.until_asleep(2)
    sleep.wake()
    assert await first == [Silent(SilenceReason.MERGED_INTO_NEXT)]
    assert [type(e) for e in await last] == [HandoffRequested]


async def test_a_redelivered_message_is_not_answered_twice(
    store: SQLiteStore, cafe_runtime: PersonaRuntime
) -> None:
    clock, sleep = Clock(), HeldSleep()
    engine = engine_with(store, cafe_runtime, clock, sleep)
    original = asyncio.create_task(run(engine, message("is there wifi?", message_id="same")))
    await sleep.until_asleep(1)
    redelivered = await run(engine, message("is there wifi?", message_id="same"))
    assert redelivered == [Silent(SilenceReason.DUPLICATE)]
    sleep.wake()
    assert len([e for e in await original if isinstance(e, FinalReply)]) == 1


async def test_messages_further_apart_than_the_window_are_separate_questions(
    store: SQLiteStore, cafe_runtime: PersonaRuntime
) -> None:
    clock, sleep = Clock(), HeldSleep()
    sleep.wake()  # each message's wait ends before the next one arrives
    engine = engine_with(store, cafe_runtime, clock, sleep)
    first = await run(engine, message("is there wifi?"))
    clock.now += timedelta(seconds=30)
    second = await run(engine, message("where can I park?"))
    assert "password is on your receipt" in next(e for e in first if isinstance(e, FinalReply)).text
    last = next(e for e in second if isinstance(e, FinalReply))
    assert "free car park" in last.text
    assert "password" not in last.text


async def test_another_users_message_does_not_swallow_mine(
    store: SQLiteStore, cafe_runtime: PersonaRuntime
) -> None:
    clock, sleep = Clock(), HeldSleep()
    engine = engine_with(store, cafe_runtime, clock, sleep)
    mine = asyncio.create_task(run(engine, message("is there wifi?", author="u1")))
    await sleep.until_asleep(1)
    theirs = asyncio.create_task(run(engine, message("where can I park?", author="u2")))
    await sleep.until_asleep(2)
    sleep.wake()
    my_reply = next(e for e in await mine if isinstance(e, FinalReply))
    their_reply = next(e for e in await theirs if isinstance(e, FinalReply))
    assert "password" in my_reply.text
    assert "car park" in their_reply.text


async def test_staff_messages_do_not_wait(store: SQLiteStore, cafe_runtime: PersonaRuntime) -> None:
    clock, sleep = Clock(), HeldSleep()
    engine = engine_with(store, cafe_runtime, clock, sleep)
    staff = IncomingMessage(key=KEY, author_id="s1", text="on it", message_id="s-1", is_staff=True)
    assert await asyncio.wait_for(run(engine, staff), timeout=5)
    assert sleep.seconds == []
