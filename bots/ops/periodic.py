"""Timed background work the adapters share: repeat a job, log a failure, carry on."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def repeat(
    job: Callable[[], Awaitable[object]], seconds: float, what: str, *, at_once: bool = False
) -> None:
    """Run `job` every `seconds` (first right away with `at_once`) until cancelled; a failing
    run is logged under `what` and the next one comes on time, so one bad tick stops nothing."""
    if not at_once:
        await asyncio.sleep(seconds)
    while True:
        await run_logged(job, what)
        await asyncio.sleep(seconds)


async def run_logged(job: Callable[[], Awaitable[object]], what: str) -> None:
    """Run `job` once; a failure is logged under `what`, never raised into the caller's loop."""
    try:
        await job()
    except Exception:
        log.exception("%s failed", what)
