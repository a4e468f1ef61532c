"""Benchmark: what one `bots ask` costs from a cold start, FAQ-only (no API key).

    python benchmarks/ask_startup.py [--runs 7] [--question TEXT] [--checkout DIR ...]

Each run is a fresh `python -m bots ask QUESTION` with no bot settings but a temporary SQLite
file, as the CI smoke test runs it. Prints one JSON object per checkout (the current one by
default; `--checkout DIR` runs another copy of the code, e.g. `git archive` of an earlier
commit, with the same interpreter, so before and after can be compared on one machine):

- `wall_s` / `cpu_s`: median and minimum over `--runs` of the wall time and of the CPU time
  (user + system) of the process. With several checkouts the runs alternate between them,
  so load on a shared machine hits them alike; CPU time is the steadier figure there.
- `import_s`: the module import time `python -X importtime` reports (the sum of every
  module's own time; median and minimum of `--runs` more runs, alternated the same way),
  and `heavy`: which of numpy, bm25s, tokenizers, prometheus_client and the chat SDKs,
  and of the report and redaction modules, those runs imported.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAVY = (
    "numpy",
    "bm25s",
    "tokenizers",
    "prometheus_client",
    "discord",
    "slack_bolt",
    "slack_sdk",
    "aiohttp",
    "phonenumbers",
    "bots.report",
)
_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+\d+ \|( *)(\S+)$")


def environment(checkout: Path, database: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OPENAI_", "BOTS_", "SLACK_", "DISCORD_"))
    }
    env["DATABASE_URL"] = f"sqlite:///{database}"
    env["PYTHONPATH"] = str(checkout)  # this copy of `bots`, ahead of any installed one
    return env


def one_run(checkout: Path, question: str, database: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one `bots ask`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bots", "ask", question],
        cwd=checkout,
        env=environment(checkout, database),
        capture_output=True,
        text=True,
        timeout=300,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"bots ask failed in {checkout}: {done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def import_profile(checkout: Path, question: str, database: Path) -> tuple[float, list[str]]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bots", "ask", question],
        cwd=checkout,
        env=environment(checkout, database),
        capture_output=True,
        text=True,
        timeout=300,
    )
    total, seen = 0, set()
    for line in done.stderr.splitlines():
        if match := _IMPORT_LINE.match(line):
            total += int(match.group(1))
            name = match.group(3)
            seen.update({name.split(".")[0], ".".join(name.split(".")[:2])})
    return total / 1e6, [name for name in HEAVY if name in seen]


def summary(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--question", default="is there parking near the restaurant?")
    parser.add_argument("--checkout", type=Path, action="append", default=[])
    args = parser.parse_args()
    checkouts = [path.resolve() for path in args.checkout] or [Path(__file__).parents[1]]
    walls: dict[Path, list[float]] = {path: [] for path in checkouts}
    cpus: dict[Path, list[float]] = {path: [] for path in checkouts}
    imports: dict[Path, list[float]] = {path: [] for path in checkouts}
    heavy: dict[Path, list[str]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for checkout in checkouts:  # a first run each: bytecode and the database exist after
            one_run(checkout, args.question, Path(folder) / f"{checkout.name}.sqlite3")
        for n in range(args.runs):
            for checkout in checkouts:
                database = Path(folder) / f"{checkout.name}.sqlite3"
                wall, cpu = one_run(checkout, args.question, database)
                walls[checkout].append(wall)
                cpus[checkout].append(cpu)
            for checkout in checkouts:
                database = Path(folder) / f"{checkout.name}.sqlite3"
                seconds, heavy[checkout] = import_profile(checkout, args.question, database)
                imports[checkout].append(seconds)
            print(f"run {n + 1}/{args.runs}", file=sys.stderr)
        for checkout in checkouts:
            print(
                json.dumps(
                    {
                        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                        f"Python {platform.python_version()}",
                        "checkout": str(checkout),
                        "runs": args.runs,
                        "wall_s": summary(walls[checkout]),
                        "cpu_s": summary(cpus[checkout]),
                        "import_s": summary(imports[checkout]),
                        "heavy": heavy[checkout],
                    }
                )
            )


if __name__ == "__main__":
    main()
