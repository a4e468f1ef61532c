"""Fault injection: every user message gets one reply or one honest notice, under faults.

Prints a Markdown table (and, with --json, one JSON object) on stdout; progress on stderr:

    python benchmarks/faults.py [--conversations 20] [--turns 5] [--kills 3] [--json]

Real conversations run through the Engine, the real OpenAI client (httpx, SSE) against the
fake LLM server on 127.0.0.1 (tests/fakes/fake_llm.py), and a real store:

- LLM API: a 429 storm with Retry-After, 500s, timeouts, streams cut or stalled mid-answer,
  malformed JSON, context-length errors (each on a seeded random share of requests);
- every event delivered twice at once (the engine's dedupe);
- SQLite locked by another process (shorter, then longer than the busy timeout);
- PostgreSQL restarted mid-run (a private cluster: initdb + pg_ctl in a temp dir on a free
  port; never the machine's shared server; skipped when the binaries are absent);
- `bots chat` killed with SIGKILL while the model writes, then restarted with --resume.

Columns: faults injected, messages sent, replies, honest notices (the "service is down, here
is the FAQ" answer, "please send it again", or a hand-off to people), duplicates and lost
(both must be 0). The back-off the client would wait is not sat out (an injected sleep).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# The fakes live with the tests; run from anywhere in the checkout.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import fault_harness as harness  # noqa: E402


def progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


async def run(args: argparse.Namespace, workdir: Path) -> list[harness.Tally]:
    size = {"conversations": args.conversations, "turns": args.turns, "progress": progress}
    tallies = []
    for name in harness.LLM_FAULTS:
        tallies.append(await harness.llm_scenario(name, workdir, **size))
    tallies.append(await harness.redelivery_scenario(workdir, **size))
    for hold, busy_ms in ((0.5, 5_000), (0.5, 100)):
        tallies.append(
            await harness.sqlite_lock_scenario(
                workdir, hold_seconds=hold, busy_timeout_ms=busy_ms, **size
            )
        )
    if (harness.PG_BIN / "initdb").exists():
        tallies.append(await harness.postgres_restart_scenario(restarts=2, **size))
    else:
        progress(f"skipped PostgreSQL restart: no binaries in {harness.PG_BIN}")
    kill = harness.sigkill_scenario
    tallies.append(await asyncio.to_thread(kill, workdir, kills=args.kills, progress=progress))
    return tallies


def table(tallies: list[harness.Tally]) -> str:
    lines = [
        "| fault | faults injected | messages sent | replies | honest notices "
        "| duplicates | lost |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for t in tallies:
        lines.append(
            f"| {t.scenario} | {t.faults} | {t.sent} | {t.replies} | {t.notices} "
            f"| {t.duplicates} | {t.lost} |"
        )
    total = harness.Tally(
        "**all**",
        sum(t.faults for t in tallies),
        sum(t.sent for t in tallies),
        sum(t.replies for t in tallies),
        sum(t.notices for t in tallies),
        sum(t.duplicates for t in tallies),
        sum(t.lost for t in tallies),
    )
    lines.append(
        f"| {total.scenario} | {total.faults} | {total.sent} | {total.replies} "
        f"| {total.notices} | {total.duplicates} | {total.lost} |"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bots-faults-") as folder:
        tallies = asyncio.run(run(args, Path(folder)))
    seconds = time.perf_counter() - started
    if args.json:
        result: dict[str, Any] = {
            "scenarios": [t.row() for t in tallies],
            "seconds": round(seconds, 1),
            "python": platform.python_version(),
            "machine": platform.machine(),
        }
        print(json.dumps(result, indent=2))
    else:
        print(table(tallies))
        print(f"\n({seconds:.0f} s, Python {platform.python_version()}, {platform.machine()})")
    broken = sum(t.duplicates + t.lost for t in tallies)
    return 1 if broken else 0


if __name__ == "__main__":
    raise SystemExit(main())
