"""Benchmark: many concurrent conversations through the Discord adapter, and a memory soak.

The real discord.py client talks to the local fake Discord (REST + gateway websocket on
loopback, in this same process); each conversation is a thread opened by a mention, followed
by `--turns - 1` follow-ups in the thread, one at a time (the next question goes when the
previous answer is complete, as a person would wait). The model is in-process with the timing
of a hosted one: `--ttft` seconds to the first token, then `--chunks` pieces `--chunk-gap`
apart; a person waits `--think` seconds after an answer before the next question (excluded
from every figure but the wall time). Prints one JSON object on stdout, progress on stderr:

    python benchmarks/load.py [--conversations 1000] [--turns 10] [--database-url URL]
    python benchmarks/load.py --soak 100000 [--rss-every 5000] [--concurrency 100]

- `turns_per_second`: completed turns over the wall time of the whole run.
- `overhead_ms` p50/p99: from the gateway sending MESSAGE_CREATE to the fake REST API receiving
  a write holding the complete answer, minus the model's nominal time (ttft + gaps). It
  includes the event loop's lag under load and the per-channel edit throttle (one write per
  `--edit-interval` s while streaming, as Discord allows ~5 per 5 s); `first_text_overhead_ms`
  is the same for the first visible text (minus ttft), which the throttle never delays.
- `replies` / `duplicates` / `lost`: each question's answer is recognised by a marker the model
  copies from the question; a duplicate is a second message carrying the same marker, lost is
  an answer that never arrived (within `--turn-timeout`).
- `peak_rss_mib`: the process's peak resident memory (bot, discord.py, store driver and the
  fake Discord together). The soak (instant model) prints RSS every `--rss-every` turns.
  Finished conversations' threads are archived (THREAD_UPDATE, as Discord auto-archives) so
  discord.py drops them from its cache, and the fake forgets their messages.

SQLite by default (a temp file); `--database-url postgresql://...` uses PostgreSQL in a fresh
schema of its own, dropped afterwards. `--processes N` runs the bot in N processes of its
own (shards of one database; benchmarks/load_processes.py), the fake Discord staying here:

    python benchmarks/load.py --processes 2 --database-url postgresql://...
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import resource
import statistics
import sys
import tempfile
import time
import uuid
from array import array
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from load_processes import BotProcesses, ShardedDiscord, bot_process, start_bot_processes

from bots.llm import ChatModel, ChatRequest, Completed, ContentDelta, LLMEvent
from bots.models import Usage
from bots.store import Store
from bots.store.postgres import PostgresStore
from bots.store.sqlite import SQLiteStore
from tests.discord_rig import running_bot
from tests.fakes.fake_discord import Call, user_message

MARKER = re.compile(r"Q(\d+)-(\d+)\b")
ANSWER = "A{c}-{k}: our coffee is roasted in town and brewed fresh every morning, oat milk too."


class TimedModel(ChatModel):
    """A hosted model's timing: `ttft` to the first piece, then `chunks` pieces `gap` apart."""

    def __init__(self, ttft: float, chunks: int, gap: float) -> None:
        self.ttft, self.chunks, self.gap = ttft, max(1, chunks), gap

    @property
    def nominal_seconds(self) -> float:
        return self.ttft + self.gap * (self.chunks - 1)

    async def stream(self, request: ChatRequest) -> AsyncIterator[LLMEvent]:
        asked = [m.content for m in request.messages if m.role == "user"]
        found = MARKER.search(asked[-1]) if asked else None
        c, k = (found.group(1), found.group(2)) if found else ("?", "?")
        text = ANSWER.format(c=c, k=k)
        size = -(-len(text) // self.chunks)
        for index, start in enumerate(range(0, len(text), size)):
            delay = self.ttft if index == 0 else self.gap
            if delay:
                await asyncio.sleep(delay)
            yield ContentDelta(text[start : start + size])
        yield Completed(text, (), Usage(300, 20), "stop")


@dataclass
class Turn:
    sent: float
    first_text: float | None = None
    complete: float | None = None
    posts: int = 0
    done: asyncio.Future[None] | None = None


class CountingDiscord(ShardedDiscord):
    """The fake Discord, keeping counts and times per answer instead of every call."""

    turns: dict[tuple[int, int], Turn]
    thread_messages: dict[str, list[str]]

    def __post_init__(self) -> None:
        super().__post_init__()
        self.turns = {}
        self.thread_messages = {}
        self.writes = 0

    async def _record(self, call: Call) -> None:
        if call.status != 200 or call.method not in ("POST", "PATCH") or not call.body:
            return
        if "/messages" not in call.path:
            return
        self.writes += 1
        content = str(call.body.get("content") or "")
        found = re.match(r"A(\d+)-(\d+):", content)
        if found is None:
            return
        turn = self.turns.get((int(found.group(1)), int(found.group(2))))
        if turn is None:
            return
        now = time.perf_counter()
        if call.method == "POST":
            turn.posts += 1
        if turn.first_text is None:
            turn.first_text = now
        complete = ANSWER.format(c=found.group(1), k=found.group(2))
        if turn.complete is None and content.startswith(complete):
            turn.complete = now
            if turn.done is not None and not turn.done.done():
                turn.done.set_result(None)

    def _post(self, channel: str, body: Any) -> tuple[int, Any, list[tuple[str, dict[str, Any]]]]:
        status, message, events = super()._post(channel, body)
        if status == 200:
            self.thread_messages.setdefault(channel, []).append(message["id"])
        return status, message, events

    async def retire(self, thread: str) -> None:
        """Archive a finished conversation's thread and forget its messages."""
        if thread in self.threads:
            await self.dispatch("THREAD_UPDATE", self.archive_thread(thread))
            del self.threads[thread]
        for message_id in self.thread_messages.pop(thread, []):
            self.messages.pop(message_id, None)


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


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
    fake: CountingDiscord
    turns_each: int
    timeout: float
    completed: int = 0
    lost: int = 0
    started: float = field(default_factory=time.perf_counter)
    rss_curve: list[tuple[int, float]] = field(default_factory=list)
    rss_every: int = 0
    progress_every: int = 1000
    think: float = 0.0
    retired: deque[tuple[int, str]] = field(default_factory=deque)
    overhead_ms: array[float] = field(default_factory=lambda: array("d"))
    first_text_ms: array[float] = field(default_factory=lambda: array("d"))
    replies: int = 0
    duplicates: int = 0
    model: TimedModel | None = None
    processes: int = 0  # bot processes the conversations are spread over (0: in this one)

    async def retire(self, c: int, thread: str) -> None:
        """Fold a finished conversation into the figures and let the fake forget it."""
        assert self.model is not None
        for k in range(self.turns_each):
            turn = self.fake.turns.pop((c, k), None)
            if turn is None:
                continue
            self.duplicates += max(0, turn.posts - 1)
            if turn.complete is not None and turn.first_text is not None:
                self.replies += 1
                took = turn.complete - turn.sent - self.model.nominal_seconds
                self.overhead_ms.append(took * 1000)
                self.first_text_ms.append((turn.first_text - turn.sent - self.model.ttft) * 1000)
        await self.fake.retire(thread)

    def tick(self) -> None:
        done = self.completed + self.lost
        if self.rss_every and done % self.rss_every == 0:
            self.rss_curve.append((done, round(rss_mib(), 1)))
            print(f"  {done} turns  rss {rss_mib():.1f} MiB", file=sys.stderr)
        elif done % self.progress_every == 0:
            rate = done / (time.perf_counter() - self.started)
            print(
                f"  {done} turns  {rate:.0f} turns/s  lost {self.lost}  rss {rss_mib():.1f} MiB",
                file=sys.stderr,
            )

    async def conversation(self, c: int) -> None:
        author = str(800_000_000_000_000_000 + c)
        thread = ""
        for k in range(self.turns_each):
            text = f"Q{c}-{k} is the coffee fresh and do you have oat milk?"
            if k == 0:
                message = user_message(text, author=author, name=f"user{c}")
                thread = message["id"]
            else:
                if self.think:
                    await asyncio.sleep(self.think)
                message = user_message(text, channel=thread, author=author, mention_bot=False)
            turn = Turn(time.perf_counter(), done=asyncio.get_running_loop().create_future())
            self.fake.turns[(c, k)] = turn
            if self.processes:
                await self.fake.send_to(c % self.processes, "MESSAGE_CREATE", message)
            else:
                await self.fake.dispatch("MESSAGE_CREATE", message)
            try:
                assert turn.done is not None
                await asyncio.wait_for(turn.done, self.timeout)
                self.completed += 1
            except TimeoutError:
                self.lost += 1
            turn.done = None
            self.tick()
        # Forget the thread a little later: its last final edit may still be on its way.
        self.retired.append((c, thread))
        while len(self.retired) > 200:
            await self.retire(*self.retired.popleft())


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
        "rest_writes": run.fake.writes,
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
    return await fresh_schema(stack, database_url)


async def fresh_schema(stack: AsyncExitStack, database_url: str) -> PostgresStore:
    """The PostgreSQL store in a new schema (migrated), dropped when `stack` closes."""
    import asyncpg

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


async def start_processes(
    stack: AsyncExitStack, fake: CountingDiscord, args: argparse.Namespace, model: TimedModel
) -> BotProcesses:
    """The fake Discord served from here, and the bot in `args.processes` processes."""
    store = await fresh_schema(stack, args.database_url)  # migrated before they start
    await fake.start()
    stack.push_async_callback(fake.close)
    timing = ["--ttft", str(model.ttft), "--chunks", str(model.chunks)]
    timing += ["--chunk-gap", str(model.gap), "--edit-interval", str(args.edit_interval)]
    bots = await start_bot_processes(args.processes, fake, store.url, timing)
    stack.push_async_callback(bots.kill)  # if the run fails before they are stopped
    return bots


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
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
    parser.add_argument("--rss-every", type=int, default=5000)
    parser.add_argument("--processes", type=int, default=0, help="bot processes (PostgreSQL)")
    parser.add_argument("--bot-process", help=argparse.SUPPRESS)
    parser.add_argument("--fake-discord", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bot_process:
        model = TimedModel(args.ttft, args.chunks, args.chunk_gap)
        await bot_process(
            args.bot_process, args.database_url, args.fake_discord, model, args.edit_interval
        )
        return
    if args.processes and not args.database_url:
        parser.error("--processes needs --database-url postgresql://... (SQLite is one process)")

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
        f"{conversations} conversations x {args.turns} turns, {concurrency} at once, "
        f"{store_name}, model ttft {model.ttft}s + {model.chunks} chunks",
        file=sys.stderr,
    )
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        async with AsyncExitStack() as stack:
            fake = CountingDiscord()
            bots: BotProcesses | None = None
            if args.processes:
                bots = await start_processes(stack, fake, args, model)
            else:
                store = await open_store(stack, tmp, args.database_url)
                bot = running_bot(
                    tmp, store, model, fake=fake, real_time=True, edit_interval=args.edit_interval
                )
                await stack.enter_async_context(bot)
            run = Run(fake, args.turns, args.turn_timeout, model=model, processes=args.processes)
            run.rss_every = args.rss_every if soak else 0
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
                await run.retire(*run.retired.popleft())
            report = summarise(run, wall)
            if bots is not None:
                shards = await bots.stop()
                report["bot_processes"] = len(shards)
                report["bot_process_peak_rss_mib"] = [shard["peak_rss_mib"] for shard in shards]
                report["bot_process_cpu_seconds"] = [shard["cpu_seconds"] for shard in shards]
    load = os.getloadavg()
    result: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average {load[0]:.1f} (shared)",
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
    if soak:
        result["rss_curve_mib"] = run.rss_curve
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
