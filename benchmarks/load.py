"""Benchmark: many concurrent conversations through a platform adapter, and a memory soak.

`--platform discord` (default): the real discord.py client talks to the local fake Discord
(REST + gateway websocket on loopback, in this same process). `--platform slack`: the real
bolt app serves the Events API over HTTP as `bots run slack --http` does, and calls the local
fake Slack Web API (benchmarks/load_slack.py). On either platform `--processes N` runs the
bot in N processes of its own (benchmarks/load_slack.py, benchmarks/load_discord.py), so the
fake platform and this driver are not in the measured process. Each
conversation is a thread opened by a mention, followed by `--turns - 1` follow-ups in the
thread, one at a time (the next question goes when the previous answer is complete, as a
person would wait). The model is in the bot's process with the timing of a hosted one:
`--ttft` seconds to the first token, then `--chunks` pieces `--chunk-gap` apart
(benchmarks/load_answers.py); a person waits `--think` seconds after an answer before the
next question (excluded from every figure but the wall time). Prints one JSON object on
stdout, progress on stderr:

    python benchmarks/load.py [--platform slack] [--conversations 1000] [--turns 10]
                              [--database-url URL]
    python benchmarks/load.py --soak 100000 [--memory-every 2000] [--warmup 10000]
    python benchmarks/load.py --platform slack --processes 1 --soak 100000
    python benchmarks/load.py --platform discord --processes 1 --soak 100000
    python benchmarks/load.py --entry forum [--conversations 200]   (Discord forum posts)

- `turns_per_second`: completed turns over the wall time of the whole run.
- `overhead_ms` p50/p99: from the driver sending the question (gateway MESSAGE_CREATE, or the
  signed Events API request) to the fake platform receiving a write holding the complete
  answer, minus the model's nominal time (ttft + gaps). It includes the event loop's lag
  under load and the per-message edit throttle (one write per `--edit-interval` s while
  streaming); `first_text_overhead_ms` is the same for the first visible text (minus ttft),
  which the throttle never delays.
- `replies` / `duplicates` / `lost`: each question's answer is recognised by a marker the model
  copies from the question; a duplicate is a second message carrying the same marker, lost is
  an answer that never arrived (within `--turn-timeout`).
- `peak_rss_mib`: this process's peak resident memory (with the bot in it: bot, SDK, store
  driver and the fake platform together); `bot_processes` gives each bot process's own.
- `memory` (soak, instant model): RSS and tracemalloc-traced memory of the bot's process
  (with `--processes`; else of this whole process) every `--memory-every` turns, and their
  least-squares slope after `--warmup` turns (benchmarks/load_memory.py);
  `--top N` lists the lines whose traced memory grew most (for finding a leak: the
  snapshot it keeps inflates RSS). Finished conversations are forgotten by the fake (Discord:
  the thread is archived, as Discord auto-archives, so discord.py drops it from its cache).

SQLite by default (a temp file); `--database-url postgresql://...` uses PostgreSQL in a fresh
schema of its own, dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform as platform_module
import resource
import statistics
import sys
import tempfile
import time
import uuid
from array import array
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from load_answers import Answers, TimedModel
from load_discord import discord_platform, discord_processes
from load_memory import MemoryProbe, MemorySeries, Probe, local, rss_mib
from load_slack import slack_platform, slack_processes

from bots.store import Store
from bots.store.sqlite import SQLiteStore


class Platform(Protocol):
    name: str

    async def ask(self, c: int, k: int, text: str) -> None: ...

    async def forget(self, c: int) -> None: ...

    def figures(self) -> dict[str, Any]: ...


@asynccontextmanager
async def platform_for(
    args: argparse.Namespace, tmp: Path, stack: AsyncExitStack, model: TimedModel, answers: Answers
) -> AsyncIterator[tuple[Platform, Probe | None]]:
    """The chosen platform's fake and the bot connected to it (here, or in processes of its
    own), and where to read the bot's memory when it runs elsewhere."""
    if args.processes:
        url = await store_url(stack, tmp, args.database_url)
        options = ["--top", str(args.top)]
        options += ["--forum"] if args.entry == "forum" else []
        # Tracing slows the bot down: only a soak, which reports it, turns it on.
        options += ["--no-tracemalloc"] if args.no_tracemalloc or not args.soak else []
        processes: AbstractAsyncContextManager[tuple[Platform, Probe]]
        if args.platform == "discord":
            processes = discord_processes(
                args.processes, url, model, answers, args.edit_interval, options
            )
        else:
            options += ["--edit-interval", str(args.edit_interval)]
            processes = slack_processes(args.processes, url, model, answers, options)
        async with processes as (load, probe):
            yield load, probe
        return
    store = await open_store(stack, tmp, args.database_url)
    here: AbstractAsyncContextManager[Platform]
    if args.platform == "slack":
        here = slack_platform(store, model, answers, args.edit_interval)
    else:
        here = discord_platform(
            tmp, store, model, answers, args.edit_interval, forum=args.entry == "forum"
        )
    async with here as platform:
        yield platform, None


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 1),
        "p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1),
        "max": round(ordered[-1], 1),
    }


@dataclass
class Run:
    platform: Platform
    answers: Answers
    model: TimedModel
    turns_each: int
    timeout: float
    completed: int = 0
    lost: int = 0
    started: float = field(default_factory=time.perf_counter)
    memory: MemorySeries | None = None
    progress_every: int = 1000
    think: float = 0.0
    retired: deque[int] = field(default_factory=deque)
    overhead_ms: array[float] = field(default_factory=lambda: array("d"))
    first_text_ms: array[float] = field(default_factory=lambda: array("d"))
    replies: int = 0
    duplicates: int = 0

    async def retire(self, c: int) -> None:
        """Fold a finished conversation into the figures and let the fake forget it."""
        for k in range(self.turns_each):
            turn = self.answers.finish(c, k)
            if turn is None:
                continue
            self.duplicates += max(0, turn.posts - 1)
            if turn.complete is not None and turn.first_text is not None:
                self.replies += 1
                took = turn.complete - turn.sent - self.model.nominal_seconds
                self.overhead_ms.append(took * 1000)
                self.first_text_ms.append((turn.first_text - turn.sent - self.model.ttft) * 1000)
        await self.platform.forget(c)

    async def tick(self) -> None:
        done = self.completed + self.lost
        if self.memory is not None and self.memory.due(done):
            await self.memory.sample(done)
        if done % self.progress_every == 0:
            rate = done / (time.perf_counter() - self.started)
            print(
                f"  {done} turns  {rate:.0f} turns/s  lost {self.lost}  rss {rss_mib():.1f} MiB",
                file=sys.stderr,
            )

    async def conversation(self, c: int) -> None:
        for k in range(self.turns_each):
            if k and self.think:
                await asyncio.sleep(self.think)
            turn = self.answers.expect(c, k)
            await self.platform.ask(c, k, self.answers.question(c, k))
            try:
                assert turn.done is not None
                await asyncio.wait_for(turn.done, self.timeout)
                self.completed += 1
            except TimeoutError:
                self.lost += 1
            turn.done = None
            await self.tick()
        # Forget the conversation a little later: its last final edit may still be on its way.
        self.retired.append(c)
        while len(self.retired) > 200:
            await self.retire(self.retired.popleft())


async def drive(run: Run, conversations: int, concurrency: int) -> None:
    queue = iter(range(conversations))

    async def worker() -> None:
        for c in queue:
            await run.conversation(c)

    await asyncio.gather(*(worker() for _ in range(min(concurrency, conversations))))


def summarise(run: Run, wall: float) -> dict[str, Any]:
    return {
        "turns_sent": run.completed + run.lost,
        "replies": run.replies,
        "duplicates": run.duplicates,
        "lost": run.completed + run.lost - run.replies,
        "wall_seconds": round(wall, 1),
        "turns_per_second": round(run.completed / wall, 1),
        "overhead_ms": percentiles(list(run.overhead_ms)),
        "first_text_overhead_ms": percentiles(list(run.first_text_ms)),
        **run.platform.figures(),
    }


def with_schema(url: str, schema: str) -> str:
    parts = urlsplit(url)
    query = f"{parts.query}&search_path={schema}" if parts.query else f"search_path={schema}"
    return urlunsplit(parts._replace(query=query))


async def open_store(stack: AsyncExitStack, tmp: Path, database_url: str | None) -> Store:
    if not database_url:
        sqlite = SQLiteStore(tmp / "load.sqlite3")
        await sqlite.open()
        stack.push_async_callback(sqlite.close)
        return sqlite
    import asyncpg

    from bots.store.postgres import PostgresStore

    schema = f"bots_load_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(database_url)
    await admin.execute(f"CREATE SCHEMA {schema}")

    async def drop() -> None:
        await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await admin.close()

    stack.push_async_callback(drop)
    postgres = PostgresStore(with_schema(database_url, schema))
    await postgres.open()
    stack.push_async_callback(postgres.close)
    return postgres


async def store_url(stack: AsyncExitStack, tmp: Path, database_url: str | None) -> str:
    """The database bot processes open: a SQLite file here, or a fresh PostgreSQL schema."""
    if not database_url:
        return f"sqlite:///{tmp / 'load.sqlite3'}"
    from bots.store.postgres import PostgresStore

    store = await open_store(stack, tmp, database_url)  # migrated before the bots start
    assert isinstance(store, PostgresStore)
    return store.url


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--platform", choices=("discord", "slack"), default="discord")
    parser.add_argument(
        "--entry",
        choices=("mention", "forum"),
        default="mention",
        help="how a conversation starts: a mention, or (Discord) a post in a forum channel",
    )
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=0, help="default: all at once")
    parser.add_argument("--ttft", type=float, default=0.3, help="model seconds to first token")
    parser.add_argument("--chunks", type=int, default=4)
    parser.add_argument("--chunk-gap", type=float, default=0.05)
    parser.add_argument("--edit-interval", type=float, default=1.0)
    parser.add_argument(
        "--think", type=float, default=1.0, help="seconds a person waits after an answer"
    )
    parser.add_argument("--turn-timeout", type=float, default=120.0)
    parser.add_argument("--database-url", default=None, help="PostgreSQL; default SQLite")
    parser.add_argument("--soak", type=int, default=0, help="turns of a soak (instant model)")
    parser.add_argument("--memory-every", type=int, default=2000, help="soak: turns per sample")
    parser.add_argument("--warmup", type=int, default=10_000, help="soak: turns before the slope")
    parser.add_argument("--no-tracemalloc", action="store_true", help="soak: RSS only")
    parser.add_argument("--top", type=int, default=0, help="soak: lines that grew most")
    parser.add_argument(
        "--processes", type=int, default=0, help="the bot in N processes of its own"
    )
    args = parser.parse_args()
    if args.entry == "forum" and args.platform != "discord":
        parser.error("--entry forum is Discord's (forum channels)")
    if args.processes > 1 and not args.database_url:
        parser.error("--processes above 1 needs --database-url postgresql://...")

    soak = args.soak > 0
    if soak:
        model = TimedModel(0.0, args.chunks, 0.0)
        conversations = -(-args.soak // args.turns)
        concurrency = args.concurrency or 100
    else:
        model = TimedModel(args.ttft, args.chunks, args.chunk_gap)
        conversations = args.conversations
        concurrency = args.concurrency or conversations
    store_name = "postgresql" if args.database_url else "sqlite"
    print(
        f"{args.platform}: {conversations} conversations x {args.turns} turns, "
        f"{concurrency} at once, {store_name}, model ttft {model.ttft}s + {model.chunks} chunks",
        file=sys.stderr,
    )
    # Tracing starts before the bot is built, so its own structures are traced from birth.
    probe = MemoryProbe(not args.no_tracemalloc, args.top) if soak and not args.processes else None
    # In flight (concurrency) plus awaiting the final count (200), with room to spare.
    answers = Answers(window=2 * (concurrency + 200)) if soak else Answers()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        async with AsyncExitStack() as stack:
            chosen = platform_for(args, tmp, stack, model, answers)
            platform, remote = await stack.enter_async_context(chosen)
            memory = None
            draining = conversations * args.turns - concurrency * args.turns
            if remote is not None and soak:
                where = f"the bot process only (the fake {args.platform} runs in the driver)"
                memory = MemorySeries(args.memory_every, args.warmup, remote, where, draining)
            elif probe is not None:
                where = "the whole benchmark process: bot and fake platform together"
                memory = MemorySeries(args.memory_every, args.warmup, local(probe), where, draining)
            run = Run(platform, answers, model, args.turns, args.turn_timeout, memory=memory)
            run.think = 0.0 if soak else args.think
            run.progress_every = max(1, min(1000, conversations * args.turns // 20))
            rss_before = rss_mib()
            started = time.perf_counter()
            run.started = started
            await drive(run, conversations, concurrency)
            wall = time.perf_counter() - started
            # Late duplicates would arrive now: give the bot a moment before the last count.
            await asyncio.sleep(args.edit_interval + 0.5)
            while run.retired:
                await run.retire(run.retired.popleft())
            report = summarise(run, wall)
        report |= platform.figures()  # bot processes report their own figures once stopped
    load = os.getloadavg()
    result: dict[str, Any] = {
        "machine": f"{platform_module.machine()}, {os.cpu_count()} cores, "
        f"Python {platform_module.python_version()}, "
        f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (shared)",
        "platform": args.platform,
        "entry": args.entry,
        "store": store_name,
        "conversations": conversations,
        "turns_each": args.turns,
        "concurrency": concurrency,
        "model": {"ttft_s": model.ttft, "chunks": model.chunks, "gap_s": model.gap},
        "edit_interval_s": args.edit_interval,
        "think_s": 0.0 if soak else args.think,
        **report,
        "rss_before_mib": round(rss_before, 1),
        "peak_rss_mib": round(peak_rss_mib(), 1),
    }
    if memory is not None:
        result["memory"] = memory.report()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
