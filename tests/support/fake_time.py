"""A clock and a sleep that only move when a test says so: deadlines pass without waiting."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta


class FakeTime:
    """`now` for an engine's clock, `sleep` for its waits; `advance` moves both on."""

    def __init__(self, start: datetime = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)) -> None:
        self._now = start
        self._moved = asyncio.Event()

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
        moved, self._moved = self._moved, asyncio.Event()
        moved.set()  # wakes every sleeper, who then looks at the new time

    async def sleep(self, seconds: float) -> None:
        target = self._now + timedelta(seconds=seconds)
        await asyncio.sleep(0)
        while self._now < target:
            await self._moved.wait()
