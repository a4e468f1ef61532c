"""Benchmark driver: one benchmark on two checkouts, interleaved, with the medians side by side.

Prints one JSON object on stdout (each run's progress goes to stderr):

    git worktree add --detach /tmp/store-old 7f7a53c
    python benchmarks/side_by_side.py --old /tmp/store-old --rounds 3 -- \
        benchmarks/store_throughput.py --turns 1000

Runs `python BENCHMARK ARGS` in the old checkout and in this one by turns (old, new, old,
new, ...), each with its own code first on the import path, so that other load on the
machine falls on both alike; then gives every number of the benchmark's JSON output as the
median over the rounds, old against new (`old`, `new`, `new_over_old`). The single runs are
under `runs`. The machine's load average before and after says how busy it was.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent


def run_once(checkout: Path, benchmark: list[str]) -> Any:
    """The benchmark's JSON output, run with `checkout`'s code and from its folder."""
    environment = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run(
        [sys.executable, *benchmark],
        cwd=checkout,
        env=environment,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def numbers(found: Any, path: str = "") -> dict[str, float]:
    """Every number in a JSON value, by its dotted path."""
    if isinstance(found, bool):
        return {}
    if isinstance(found, int | float):
        return {path: float(found)}
    if isinstance(found, dict):
        return {
            k: v
            for key, value in found.items()
            for k, v in numbers(value, f"{path}.{key}".strip(".")).items()
        }
    return {}


def medians(runs: list[Any]) -> dict[str, float]:
    each = [numbers(run) for run in runs]
    shared = set.intersection(*(set(found) for found in each))
    return {path: statistics.median(found[path] for found in each) for path in sorted(shared)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--old", type=Path, required=True, help="the other checkout")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("benchmark", nargs=argparse.REMAINDER, help="-- SCRIPT [ARGS...]")
    args = parser.parse_args()
    benchmark = args.benchmark[1:] if args.benchmark[:1] == ["--"] else args.benchmark
    load_before = [round(x, 2) for x in os.getloadavg()]
    runs: dict[str, list[Any]] = {"old": [], "new": []}
    for round_number in range(args.rounds):
        for side, checkout in (("old", args.old.resolve()), ("new", HERE)):
            print(f"round {round_number + 1}: {side}", file=sys.stderr)
            runs[side].append(run_once(checkout, benchmark))
    old, new = medians(runs["old"]), medians(runs["new"])
    report = {
        "benchmark": " ".join(benchmark),
        "old_checkout": str(args.old),
        "rounds": args.rounds,
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "median": {
            path: {
                "old": old[path],
                "new": new[path],
                "new_over_old": round(new[path] / old[path], 3) if old[path] else None,
            }
            for path in old
            if path in new
        },
        "runs": runs,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
