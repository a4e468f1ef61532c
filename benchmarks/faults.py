"""Fault injection: every user message gets one reply or one honest notice, under faults.

Prints a Markdown table (and, with --json, one JSON object) on stdout; progress on stderr:

    python benchmarks/faults.py [--conversations 20] [--turns 5] [--kills 3] [--json]
                                [--only llm,platform,store,process,desk]

Real conversations run through the Engine, the real OpenAI client (httpx, SSE) against the
fake LLM server on 127.0.0.1 (tests/fakes/fake_llm.py), and a real store:

- LLM API: a 429 storm with Retry-After, 500s, timeouts, streams cut or stalled mid-answer,
  malformed JSON, context-length errors, a model that trickles a token every 20 ms and never
  ends (the turn deadline, 2 s here, must end it), and one that ignores max_tokens (each on
  a seeded random share of requests);
- every event delivered twice at once (the engine's dedupe);
- chat platforms (tests/support/platform_faults.py), through the real Slack adapter (slack-bolt) and
  the real Discord adapter (discord.py) against the local fakes: Slack `ratelimited` (429
  with Retry-After) on chat.postMessage, chat.update and the chat.*Stream methods, Slack
  5xx, Slack redeliveries over HTTP (X-Slack-Retry-Num) and over Socket Mode
  (retry_attempt), Discord 429s on thread creation, post and edit, a Discord redelivery,
  Discord 429s without the Via header (which discord.py does not retry) on thread
  creation, post and edit, a Discord thread deleted mid-answer;
- SQLite locked by another process (shorter, then longer than the busy timeout);
- PostgreSQL restarted mid-run (a private cluster: initdb + pg_ctl in a temp dir on a free
  port; never the machine's shared server; skipped when the binaries are absent);
- `bots chat` killed with SIGKILL while the model writes, then restarted with --resume;
- help desks (tests/support/desk_faults.py): Zendesk and Chatwoot down (503) or answering 429
  with Retry-After on a share of calls, their webhooks redelivered or forged (a bad
  signature), the bot restarted between the hand-off and the desk's answer. Each hand-off
  is four items (the ticket, the agent's reply in the thread, the user's answer as a comment,
  the hand-back), each counted as a reply once.

Columns: faults injected, messages sent, replies, honest notices (the "service is down, here
is the FAQ" answer, "please send it again", or a hand-off to people), nowhere to answer (the
thread was deleted: dropped with a log line), duplicates and lost (both must be 0). The
back-off the clients would wait is not sat out (an injected sleep).
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

from tests.support import desk_faults as desk_faults  # noqa: E402 - needs the checkout on sys.path
from tests.support import fault_harness as harness  # noqa: E402 - needs the checkout on sys.path
from tests.support import platform_faults as platform_faults  # noqa: E402 - needs the checkout on sys.path

KINDS = ("llm", "platform", "store", "process", "desk")


def progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


async def run(args: argparse.Namespace, workdir: Path) -> list[tuple[str, harness.Tally]]:
    size = {"conversations": args.conversations, "turns": args.turns, "progress": progress}
    rows: list[tuple[str, harness.Tally]] = []
    if "llm" in args.only:
        for name in harness.LLM_FAULTS:
            rows.append(("LLM", await harness.llm_scenario(name, workdir, **size)))
        rows.append(("engine", await harness.redelivery_scenario(workdir, **size)))
    if "platform" in args.only:
        for name in platform_faults.SLACK_FAULTS:
            rows.append(("Slack", await platform_faults.slack_scenario(name, workdir, **size)))
        socket = platform_faults.slack_socket_redelivery_scenario
        rows.append(("Slack", await socket(workdir, **size)))
        rows.append(("Discord", await platform_faults.discord_scenario(workdir, **size)))
        no_via = platform_faults.discord_no_via_scenario
        rows.append(("Discord", await no_via(workdir, **size)))
        forum = platform_faults.discord_forum_scenario
        rows.append(("Discord", await forum(workdir, **size)))
        deleted = platform_faults.discord_thread_deleted_scenario
        count = max(1, args.conversations // 4)  # each one is a bot started anew
        rows.append(("Discord", await deleted(workdir, conversations=count, progress=progress)))
    if "store" in args.only:
        for hold, busy_ms in ((0.5, 5_000), (0.5, 100)):
            lock = harness.sqlite_lock_scenario
            tally = await lock(workdir, hold_seconds=hold, busy_timeout_ms=busy_ms, **size)
            rows.append(("store", tally))
        if (harness.PG_BIN / "initdb").exists():
            restart = harness.postgres_restart_scenario
            rows.append(("store", await restart(restarts=2, **size)))
        else:
            progress(f"skipped PostgreSQL restart: no binaries in {harness.PG_BIN}")
    if "desk" in args.only:
        for name in desk_faults.DESK_FAULTS:
            part = name.split()[0]  # Zendesk or Chatwoot
            tally = await desk_faults.desk_scenario(
                name, workdir, conversations=args.conversations, progress=progress
            )
            rows.append((part, tally))
    if "process" in args.only:
        kill = harness.sigkill_scenario
        tally = await asyncio.to_thread(kill, workdir, kills=args.kills, progress=progress)
        rows.append(("process", tally))
    return rows


def table(rows: list[tuple[str, harness.Tally]]) -> str:
    lines = [
        "| part | fault | faults injected | messages sent | replies | honest notices "
        "| nowhere to answer | duplicates | lost |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    tallies = [tally for _, tally in rows]
    total = harness.Tally(
        "**all**",
        sum(t.faults for t in tallies),
        sum(t.sent for t in tallies),
        sum(t.replies for t in tallies),
        sum(t.notices for t in tallies),
        sum(t.duplicates for t in tallies),
        sum(t.lost for t in tallies),
        sum(t.nowhere for t in tallies),
    )
    for part, t in [*rows, ("", total)]:
        lines.append(
            f"| {part} | {t.scenario} | {t.faults} | {t.sent} | {t.replies} | {t.notices} "
            f"| {t.nowhere} | {t.duplicates} | {t.lost} |"
        )
    # A model that never stops must not hold a turn: how long the longest one took.
    longest = [f"{t.scenario}: {t.longest:.2f} s" for part, t in rows if part == "LLM"]
    if longest:
        lines.append("\nlongest turn per LLM row: " + "; ".join(longest))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--only",
        type=lambda text: {part.strip() for part in text.split(",")},
        default=set(KINDS),
        help="comma-separated parts to run: " + ",".join(KINDS),
    )
    args = parser.parse_args()
    if not args.only <= set(KINDS):
        parser.error(f"--only takes {', '.join(KINDS)}, not {', '.join(sorted(args.only))}")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bots-faults-") as folder:
        rows = asyncio.run(run(args, Path(folder)))
    seconds = time.perf_counter() - started
    if args.json:
        result: dict[str, Any] = {
            "scenarios": [{"part": part, **t.row()} for part, t in rows],
            "seconds": round(seconds, 1),
            "python": platform.python_version(),
            "machine": platform.machine(),
        }
        print(json.dumps(result, indent=2))
    else:
        print(table(rows))
        print(f"\n({seconds:.0f} s, Python {platform.python_version()}, {platform.machine()})")
    broken = sum(t.duplicates + t.lost for _, t in rows)
    return 1 if broken else 0


if __name__ == "__main__":
    raise SystemExit(main())
