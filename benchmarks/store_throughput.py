"""Benchmark: turns per second and p99 engine overhead per store, one or several processes.

Prints one JSON object on stdout (progress on stderr):

    python benchmarks/store_throughput.py [--turns 2000] [--concurrency 4] \
        [--postgres postgresql://postgres@127.0.0.1:5432/test] [--only sqlite|postgres]

Every turn goes through the real `Engine` against a model that answers instantly
(`InstantModel` from engine_overhead.py), so what is measured is the engine and its store:
dedupe and record the message, hold the conversation, retrieve, build the prompt, record
the answer and usage. Runs:

- `sqlite_1_process`: one process, a SQLite file (the default set-up).
- `postgres_1_process`, `postgres_2_processes`: real worker processes on one PostgreSQL
  database (a schema of its own, dropped afterwards), started together.
  `postgres_1_process_without_hold` leaves out the per-conversation advisory lock that
  keeps turns in order across processes, to show what it costs.

In each process `--concurrency` conversations run at once (their turns in sequence, the
history growing), each process on conversations of its own; `--turns` is per process.
`overhead_ms` is the time of each turn as the adapter sees it (p50/p99 over every turn of
every process); `turns_per_second` is all turns over the wall time from the common start to
the last process's end. `bot_cpu_ms_per_turn` is the CPU time the bot processes spent
per turn (not the database server's), which other load on the machine disturbs far less.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from engine_overhead import InstantModel, message, persona, synthetic_entries

from bots.models import FinalReply, IncomingMessage
from bots.store import open_store
from bots.store.postgres import PostgresStore
from bots.turn.engine import Engine
from bots.turn.runtime import PersonaRuntime

ENTRIES = 1000
CONVERSATIONS_PER_WORKER = 25


async def one_turn(engine: Engine, msg: IncomingMessage) -> float:
    started = time.perf_counter()
    replies = [e async for e in engine.handle(msg) if isinstance(e, FinalReply)]
    assert len(replies) == 1
    return time.perf_counter() - started


class UnheldPostgresStore(PostgresStore):
    """For comparison only: the PostgreSQL store without the per-conversation hold."""

    @asynccontextmanager
    async def serialised(self, conversation_id: str) -> AsyncIterator[None]:
        yield


async def worker(url: str, index: int, turns: int, concurrency: int, unheld: bool) -> None:
    """One bot process: warm up, say `ready`, wait for `go` on stdin, run, print timings."""
    runtime = PersonaRuntime.build(persona(), synthetic_entries(ENTRIES), None)
    store = UnheldPostgresStore(url) if unheld else open_store(url)
    await store.open()
    engine = Engine(
        store=store, personas={"bench": runtime}, default_persona="bench", llm=InstantModel()
    )
    base = 1_000_000 * (index + 1)  # conversations of this process only
    for warm in range(20):
        await one_turn(engine, message(base + 900_000 + warm, 0))
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    timings: list[float] = []
    per_stream = turns // concurrency

    async def stream(s: int) -> None:
        for n in range(per_stream):
            conversation = base + s * CONVERSATIONS_PER_WORKER + n % CONVERSATIONS_PER_WORKER
            timings.append(await one_turn(engine, message(conversation, n)))
            if s == 0 and n % 250 == 0:
                print(f"  process {index}: {n * concurrency}/{turns} turns", file=sys.stderr)

    started, cpu_started = time.time(), time.process_time()
    await asyncio.gather(*(stream(s) for s in range(concurrency)))
    ended, cpu = time.time(), time.process_time() - cpu_started
    await store.close()
    result = {"started": started, "ended": ended, "cpu_seconds": cpu, "timings": timings}
    print(json.dumps(result), flush=True)


async def run(
    url: str, processes: int, turns: int, concurrency: int, unheld: bool = False
) -> dict[str, object]:
    """Start `processes` workers on `url`, release them together, gather their timings."""
    store = open_store(url)
    await store.open()  # migrate once, before the workers start
    await store.close()
    children = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--worker",
            str(index),
            "--url",
            url,
            "--turns",
            str(turns),
            "--concurrency",
            str(concurrency),
            *(["--unheld"] if unheld else []),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for index in range(processes)
    ]
    for child in children:
        assert child.stdout is not None
        line = await child.stdout.readline()
        assert line.strip() == b"ready", line
    for child in children:
        assert child.stdin is not None
        child.stdin.write(b"go\n")
        await child.stdin.drain()
    results = []
    for child in children:
        out, _ = await child.communicate()
        assert child.returncode == 0
        results.append(json.loads(out))
    timings = sorted(t * 1000 for r in results for t in r["timings"])
    wall = max(r["ended"] for r in results) - min(r["started"] for r in results)
    return {
        "processes": processes,
        "concurrency_per_process": concurrency,
        "turns": len(timings),
        "turns_per_second": round(len(timings) / wall, 1),
        # The bot processes' own CPU per turn (the database server's is not included): it
        # depends far less on other load than the wall-clock figures do.
        "bot_cpu_ms_per_turn": round(
            sum(r["cpu_seconds"] for r in results) * 1000 / len(timings), 3
        ),
        "overhead_ms": {
            "p50": round(statistics.median(timings), 3),
            "p99": round(timings[int(len(timings) * 0.99) - 1], 3),
            "mean": round(statistics.fmean(timings), 3),
        },
    }


def with_schema(url: str, schema: str) -> str:
    parts = urlsplit(url)
    query = f"{parts.query}&search_path={schema}" if parts.query else f"search_path={schema}"
    return urlunsplit(parts._replace(query=query))


async def postgres_runs(server: str, turns: int, concurrency: int) -> dict[str, object]:
    import asyncpg

    admin = await asyncpg.connect(server)
    figures: dict[str, object] = {}
    try:
        for processes, unheld in ((1, True), (1, False), (2, False)):
            schema = f"bots_bench_{uuid.uuid4().hex[:12]}"
            await admin.execute(f"CREATE SCHEMA {schema}")
            try:
                print(f"PostgreSQL, {processes} process(es)...", file=sys.stderr)
                url = with_schema(server, schema)
                name = f"postgres_{processes}_process{'es' if processes > 1 else ''}"
                name += "_without_hold" if unheld else ""
                figures[name] = await run(url, processes, turns, concurrency, unheld)
            finally:
                await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    finally:
        await admin.close()
    return figures


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=2000, help="turns per process")
    parser.add_argument("--concurrency", type=int, default=4, help="conversations at once")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BOTS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1/test"),
    )
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--unheld", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        await worker(args.url, args.worker, args.turns, args.concurrency, args.unheld)
        return

    report: dict[str, object] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "entries": ENTRIES,
        "model": "instant (zero latency)",
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            print("SQLite, 1 process...", file=sys.stderr)
            url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
            report["sqlite_1_process"] = await run(url, 1, args.turns, args.concurrency)
    if args.only in (None, "postgres"):
        report |= await postgres_runs(args.postgres, args.turns, args.concurrency)
    # Other work on the machine shows here: the figures are only comparable at a like load.
    report["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
