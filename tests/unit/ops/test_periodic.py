"""Timed background work: a failing run is logged and the next one still comes."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bots.ops.periodic import repeat, run_logged


async def test_a_failing_run_is_logged_and_the_next_one_comes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runs: list[int] = []
    done = asyncio.Event()

    async def job() -> None:
        runs.append(len(runs))
        if len(runs) == 1:
            raise RuntimeError("the store is down")
        if len(runs) == 3:
            done.set()

    task = asyncio.create_task(repeat(job, 0, "test tick", at_once=True))
    await asyncio.wait_for(done.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert runs[:3] == [0, 1, 2]
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in failures] == ["test tick failed"]


async def test_run_logged_runs_once_and_swallows_only_exceptions() -> None:
    runs: list[str] = []

    async def job() -> None:
        runs.append("ran")
        raise ValueError("bad")

    await run_logged(job, "once")
    assert runs == ["ran"]

    async def cancelled() -> None:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await run_logged(cancelled, "once")
