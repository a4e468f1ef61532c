"""A turn's deadline: when it must end, on the engine's clock, and a stream cut off at it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from bots.errors import LLMUnavailable

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
DEFAULT_TURN_TIMEOUT = 90.0
"""Seconds a turn may take, the model's stream included (BOTS_TURN_TIMEOUT)."""


class TurnTimedOut(LLMUnavailable):
    """The turn's deadline passed while the model was still writing (or had not started)."""


@dataclass(frozen=True)
class Deadline:
    """When a turn must be over. `sleep` waits on the same clock as `clock` reads, so a test
    can move time on instead of waiting out a two-minute deadline."""

    at: datetime
    clock: Callable[[], datetime]
    sleep: Sleep = asyncio.sleep

    def remaining(self) -> float:
        return max(0.0, (self.at - self.clock()).total_seconds())

    async def passed(self) -> None:
        """Return once the deadline has passed."""
        while (left := self.remaining()) > 0:
            await self.sleep(left)


def deadline_in(seconds: float, clock: Callable[[], datetime], sleep: Sleep) -> Deadline:
    return Deadline(clock() + timedelta(seconds=seconds), clock, sleep)


async def until(deadline: Deadline, events: AsyncIterator[T]) -> AsyncGenerator[T, None]:
    """`events` as they come, until the deadline: then the source is closed and
    `TurnTimedOut` raised.

    Written by hand because a timeout (`asyncio.timeout`, `wait_for`) cannot span the
    `yield`s of an async generator: it would cancel whatever the consumer is doing at that
    moment (posting to Slack, say), not the wait for the model. So the source is read in a
    task of its own, which is what the deadline cancels, and the consumer waits on a queue.
    """
    queue: asyncio.Queue[tuple[str, object]] = asyncio.Queue(maxsize=1)
    reader = asyncio.create_task(_read(events, queue))
    timer = asyncio.create_task(deadline.passed())
    try:
        while True:
            getter = asyncio.create_task(queue.get())
            await asyncio.wait({getter, timer}, return_when=asyncio.FIRST_COMPLETED)
            if not getter.done():
                getter.cancel()
                with suppress(asyncio.CancelledError):
                    await getter
                raise TurnTimedOut("the turn's deadline passed while the model was writing")
            kind, value = getter.result()
            if kind == "end":
                return
            if kind == "error":
                assert isinstance(value, BaseException)
                raise value
            yield value  # type: ignore[misc]  # an item of `events`, as read
    finally:
        for task in (reader, timer):
            task.cancel()
        await asyncio.gather(reader, timer, return_exceptions=True)


async def _read(events: AsyncIterator[T], queue: asyncio.Queue[tuple[str, object]]) -> None:
    try:
        async for event in events:
            await queue.put(("item", event))
    except Exception as exc:  # handed to the consumer, which raises it in its own task
        await queue.put(("error", exc))
        return
    finally:
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()  # a source left at a `yield` (cancelled) is closed here, in its task
    await queue.put(("end", None))
