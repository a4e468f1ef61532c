"""Benchmark: what SQLite's `synchronous` setting costs per turn in the bot's own store.

    python benchmarks/sqlite_synchronous.py [--turns 2000] [--rounds 3]

Each turn writes what the engine writes for one exchange through the real `SQLiteStore`
(WAL journal, its own connection thread): the incoming message with its event id (the
dedupe), then the reply. The settings run by turns (OFF, NORMAL, FULL, OFF, ...) on fresh
files in one folder, so other load falls on each alike. Prints one JSON object: per
setting the median over `--rounds` of the wall time per turn, the CPU time of this process
per turn, and turns per second.

What each risks (SQLite's documentation, WAL mode): OFF hands writes to the OS without
any fsync, so a power cut or an OS crash can corrupt the database; NORMAL (the bot's
setting) syncs the WAL at checkpoints only, so a power cut can lose the last commits but
never corrupts the file, and a crash of the bot's process loses nothing; FULL syncs the
WAL at every commit, so a committed turn survives a power cut too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bots.models import Role, ThreadKey, Turn
from bots.store.sqlite import SQLiteStore, Synchronous

SETTINGS: tuple[Synchronous, ...] = ("OFF", "NORMAL", "FULL")
T0 = datetime(2026, 12, 2, tzinfo=UTC)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def one_run(path: Path, synchronous: Synchronous, turns: int) -> dict[str, float]:
    store = SQLiteStore(path, synchronous=synchronous)
    await store.open()
    try:
        conversation = await store.ensure_conversation(
            ThreadKey("slack", "T1", "C1", "1.0"), "cafe", T0
        )
        started, cpu = time.perf_counter(), _cpu()
        for n in range(turns):
            at = T0 + timedelta(seconds=n)
            question = Turn(Role.USER, f"question {n}", "U1", f"m{n}", at, 5)
            await store.record_incoming(conversation.id, f"Ev{n}", question)
            answer = Turn(Role.ASSISTANT, f"answer {n}", "bot", f"r{n}", at, 12)
            await store.append_turn(conversation.id, answer)
        wall, cpu = time.perf_counter() - started, _cpu() - cpu
    finally:
        await store.close()
    return {
        "ms_per_turn": 1000 * wall / turns,
        "cpu_ms_per_turn": 1000 * cpu / turns,
        "turns_per_s": turns / wall,
    }


async def main_async(args: argparse.Namespace) -> dict[str, object]:
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in SETTINGS}
    load_before = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(dir=args.folder) as folder:
        for number in range(args.rounds):
            for name in SETTINGS:
                print(f"round {number + 1}: synchronous={name}", file=sys.stderr)
                path = Path(folder) / f"{name}-{number}.sqlite3"
                runs[name].append(await one_run(path, name, args.turns))
    return {
        "benchmark": "sqlite synchronous",
        "turns": args.turns,
        "rounds": args.rounds,
        "folder": str(args.folder or tempfile.gettempdir()),
        "settings": {
            name: {key: round(statistics.median(run[key] for run in found), 3) for key in found[0]}
            for name, found in runs.items()
        },
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--folder", help="where the files go (default: the temp folder)")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main_async(args)), indent=2))


if __name__ == "__main__":
    main()
