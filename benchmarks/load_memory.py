"""Memory over a soak: RSS and tracemalloc samples every N turns, and how fast they grow.

"Memory stays flat" is a measured claim here: after a warm-up (caches filling to their
bounds), the least-squares slope of the samples in MiB per 10,000 turns, for the resident
set (what the operating system charges the process), for the resident set after the C
allocator has handed back what it holds free (`malloc_trim`), and for the memory Python's
allocator traces (tracemalloc: every live Python object, without free lists and
fragmentation, so a leak of objects shows there first). With `top`, the lines whose traced
memory grew most between the first sample after warm-up and the last are listed, so a
growing structure is named by the line that allocated it.

`MemoryProbe` reads the process it lives in: the benchmark's own when the bot runs there,
or a bot process's, which serves its readings over HTTP (`memory_served`, used by
benchmarks/load_slack.py and benchmarks/load_discord.py).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import sys
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MIB = 2**20
_LIBC = ctypes.CDLL(ctypes.util.find_library("c")) if sys.platform == "linux" else None


def rss_mib(pid: int | str = "self") -> float:
    """The resident set of a process (this one by default), from /proc."""
    with open(f"/proc/{pid}/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / MIB


def slope_per_10k(points: list[tuple[int, float]]) -> float | None:
    """Least-squares slope of (turns, MiB) points, in MiB per 10,000 turns."""
    if len(points) < 2:
        return None
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if spread == 0:
        return None
    covariance = sum((x - mean_x) * (y - mean_y) for x, y in points)
    return covariance / spread * 10_000


class MemoryProbe:
    """Reads the memory of the process it lives in (the bot's: in it, or served by it).

    With `top`, the first reading after warm-up keeps a tracemalloc snapshot and later ones
    list the lines grown since. The snapshot itself takes memory (tens of MiB), so RSS
    figures taken with `top` are for finding a leak, not for the flatness claim.
    """

    def __init__(self, trace: bool, top: int = 0) -> None:
        self.trace, self.top = trace, top
        self._baseline: tracemalloc.Snapshot | None = None
        if trace and not tracemalloc.is_tracing():
            tracemalloc.start(1)

    def read(self, after_warmup: bool) -> dict[str, Any]:
        # Collected first, so a reading counts what is reachable, not what the cyclic
        # collector has not reached yet (that varies from reading to reading).
        gc.collect()
        reading: dict[str, Any] = {"rss_mib": round(rss_mib(), 2), "traced_mib": None}
        # What the C allocator holds free but has not given back (glibc keeps freed memory
        # in its arenas, one per thread that allocates: aiosqlite runs a thread per
        # connection) is returned, then RSS read again: growth that survives this is memory
        # in use, not the allocator's slack.
        if _LIBC is not None:
            _LIBC.malloc_trim(0)
            reading["trimmed_rss_mib"] = round(rss_mib(), 2)
        if self.trace:
            reading["traced_mib"] = round(tracemalloc.get_traced_memory()[0] / MIB, 2)
        if self.trace and self.top and after_warmup:
            snapshot = tracemalloc.take_snapshot()
            if self._baseline is None:
                self._baseline = snapshot
            else:
                reading["grown"] = _grown_lines(snapshot, self._baseline, self.top)
        return reading


Probe = Callable[[bool], Awaitable[dict[str, Any]]]


def local(probe: MemoryProbe) -> Probe:
    """The probe of this very process, as the series asks for it."""

    async def read(after_warmup: bool) -> dict[str, Any]:
        return probe.read(after_warmup)

    return read


@asynccontextmanager
async def memory_served(probe: MemoryProbe) -> AsyncIterator[str]:
    """Serves a bot process's readings over HTTP on loopback; yields their address."""
    from aiohttp import web  # the benchmarks' fakes already need aiohttp

    async def memory(request: web.Request) -> web.Response:
        return web.json_response(probe.read(bool(request.query.get("after_warmup"))))

    app = web.Application()
    app.router.add_get("/memory", memory)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/memory"
    finally:
        await runner.cleanup()


def remote(session: Any, memory_url: str) -> Probe:
    """The probe of a bot process that serves its readings (`memory_served`)."""

    async def read(after_warmup: bool) -> dict[str, Any]:
        query = {"after_warmup": "1" if after_warmup else ""}
        async with session.get(memory_url, params=query) as response:
            reading: dict[str, Any] = await response.json()
            return reading

    return read


@dataclass(frozen=True)
class Sample:
    turns: int
    rss_mib: float
    trimmed_rss_mib: float | None
    traced_mib: float | None


@dataclass
class MemorySeries:
    """Samples every `every` turns; the figures count those from `warmup` to `until` turns.

    `until`: where the run starts draining (no new conversation starts, so fewer turns are
    in flight and less memory is in use): later samples are listed but not fitted.
    """

    every: int
    warmup: int
    probe: Probe
    where: str = "this process"
    until: int | None = None
    samples: list[Sample] = field(default_factory=list)
    _growth: list[str] = field(default_factory=list)

    def due(self, turns: int) -> bool:
        return self.every > 0 and turns > 0 and turns % self.every == 0

    async def sample(self, turns: int) -> Sample:
        reading = await self.probe(turns >= self.warmup)
        trimmed = reading.get("trimmed_rss_mib")
        taken = Sample(turns, reading["rss_mib"], trimmed, reading["traced_mib"])
        self.samples.append(taken)
        self._growth = reading.get("grown") or self._growth
        traced = "" if taken.traced_mib is None else f"  traced {taken.traced_mib:.1f} MiB"
        line = f"  memory at {turns} turns: rss {taken.rss_mib:.1f} MiB{traced}"
        line += "" if trimmed is None else f"  trimmed rss {trimmed:.1f} MiB"
        print(line, file=sys.stderr)
        return taken

    def report(self) -> dict[str, Any]:
        end = (
            self.until if self.until is not None else self.samples[-1].turns if self.samples else 0
        )
        after = [s for s in self.samples if self.warmup <= s.turns <= end]
        rss = [(s.turns, s.rss_mib) for s in after]
        traced = [(s.turns, s.traced_mib) for s in after if s.traced_mib is not None]
        trimmed = [(s.turns, s.trimmed_rss_mib) for s in after if s.trimmed_rss_mib is not None]
        result: dict[str, Any] = {
            "measured": self.where,
            "sample_every_turns": self.every,
            "warmup_turns": self.warmup,
            "fitted_until_turns": end,
            "samples_columns": ["turns", "rss_mib", "trimmed_rss_mib", "traced_mib"],
            "samples": [
                [s.turns, s.rss_mib, s.trimmed_rss_mib, s.traced_mib] for s in self.samples
            ],
            "rss_slope_mib_per_10k_turns": _rounded(slope_per_10k(rss)),
            "trimmed_rss_slope_mib_per_10k_turns": _rounded(slope_per_10k(trimmed)),
            "traced_slope_mib_per_10k_turns": _rounded(slope_per_10k(traced)),
        }
        if len(rss) >= 2:
            result["rss_growth_after_warmup_mib"] = round(rss[-1][1] - rss[0][1], 2)
        if len(trimmed) >= 2:
            result["trimmed_rss_growth_after_warmup_mib"] = round(trimmed[-1][1] - trimmed[0][1], 2)
        if len(traced) >= 2:
            result["traced_growth_after_warmup_mib"] = round(traced[-1][1] - traced[0][1], 2)
        if self._growth:
            result["traced_growth_by_line"] = self._growth
        return result


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _grown_lines(now: tracemalloc.Snapshot, then: tracemalloc.Snapshot, top: int) -> list[str]:
    here = str(Path(__file__).resolve().parent.parent) + os.sep
    lines = []
    for stat in now.compare_to(then, "lineno")[:top]:
        frame = stat.traceback[0]
        where = frame.filename.replace(here, "").split("site-packages/")[-1]
        lines.append(
            f"{stat.size_diff / 1024:+.1f} KiB {stat.count_diff:+d} blocks {where}:{frame.lineno}"
        )
    return lines
