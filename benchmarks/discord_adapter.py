"""Benchmark: what the Discord adapter adds, through discord.py and the local fake Discord.

Prints one JSON object on stdout (progress on stderr):

    python benchmarks/discord_adapter.py [--turns 200] [--stream-seconds 5]

- `first_text_ms`: from the fake gateway sending MESSAGE_CREATE (a mention in a channel) to
  the fake REST API receiving the answer's first message in the new thread, with a model that
  answers instantly. `engine_first_delta_ms` is the same turn through `Engine.handle` alone
  (store, retrieval, prompt); `adapter_added_ms` is the difference: discord.py parsing the
  event, the thread creation and typing calls, and the first post. The fake answers on
  loopback, so Discord's own round trips (tens of ms each) come on top.
- `rest_calls_3000_chars`: every REST call one streamed answer of 3,000 characters costs
  (thread, typing, posts, edits), once with the whole answer arriving at once and once
  streamed over `--stream-seconds` (edits throttled to one per second per channel).
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
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import aclosing
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bots.adapters.discord.formatting import thread_key
from bots.llm.client import ChatModel, ChatRequest, Completed, ContentDelta, LLMEvent
from bots.models import IncomingMessage, TextDelta, Usage
from bots.store.sqlite import SQLiteStore
from tests.fakes.fake_discord import GUILD_ID, user_message
from tests.support.discord_rig import running_bot

SHORT = "We open at eight every morning, and the kitchen closes at ten."


class PacedModel(ChatModel):
    """Streams `text` in `pieces` deltas spread over `seconds` (0: all at once)."""

    def __init__(self, text: str, pieces: int = 100, seconds: float = 0.0) -> None:
        self.text, self.pieces, self.seconds = text, pieces, seconds

    async def stream(self, request: ChatRequest) -> AsyncIterator[LLMEvent]:
        size = max(1, -(-len(self.text) // self.pieces))
        for start in range(0, len(self.text), size):
            if self.seconds:
                await asyncio.sleep(self.seconds / self.pieces)
            yield ContentDelta(self.text[start : start + size])
        yield Completed(self.text, (), Usage(10, 5), "stop")


def answer_of(length: int) -> str:
    sentence = "Our coffee is roasted in town and brewed fresh every morning. "
    paragraphs, text = [], ""
    while len(text) < length:
        paragraphs.append(sentence * 4)
        text = "\n\n".join(paragraphs)
    return text[:length].rstrip()


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 2),
        "p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
        "mean": round(statistics.fmean(ordered), 2),
    }


async def first_text(tmp: Path, turns: int) -> dict[str, object]:
    store = SQLiteStore(tmp / "latency.sqlite3")
    await store.open()
    through_discord: list[float] = []
    engine_only: list[float] = []
    async with running_bot(tmp, store, PacedModel(SHORT, pieces=4)) as rig:
        for n in range(turns):
            question = user_message(f"When do you open, question {n}?")
            started = time.perf_counter()
            await rig.fake.dispatch("MESSAGE_CREATE", question)
            await rig.fake.wait_for("POST", f"/channels/{question['id']}/messages")
            through_discord.append((time.perf_counter() - started) * 1000)
            await rig.bot.wait_done(question["id"])
            # The same kind of turn through the engine alone, in a fresh conversation.
            key = thread_key(GUILD_ID, f"9{n:018d}")
            message = IncomingMessage(key, "1", f"When do you open, again {n}?", f"8{n:018d}")
            started = time.perf_counter()
            async with aclosing(rig.engine.handle(message, "cafe")) as events:
                async for event in events:
                    if isinstance(event, TextDelta):
                        engine_only.append((time.perf_counter() - started) * 1000)
                        break
            if (n + 1) % 50 == 0:
                print(f"  {n + 1}/{turns} turns", file=sys.stderr)
    await store.close()
    added = [a - b for a, b in zip(through_discord, engine_only, strict=True)]
    return {
        "first_text_ms": summary(through_discord),
        "engine_first_delta_ms": summary(engine_only),
        "adapter_added_ms": summary(added),
    }


async def rest_calls(tmp: Path, name: str, seconds: float) -> dict[str, object]:
    store = SQLiteStore(tmp / f"{name}.sqlite3")
    await store.open()
    model = PacedModel(answer_of(3000), pieces=150, seconds=seconds)
    async with running_bot(tmp, store, model, real_time=True) as rig:
        question = user_message("Tell me everything about the coffee")
        before = len(rig.fake.calls)
        started = time.perf_counter()
        await rig.fake.dispatch("MESSAGE_CREATE", question)
        await rig.bot.wait_done(question["id"], seconds=seconds + 60)
        elapsed = time.perf_counter() - started
        calls = [c for c in rig.fake.calls[before:] if c.method != "PUT"]
    await store.close()
    kinds = Counter(f"{c.method} {_route(c.path)}" for c in calls)
    return {
        "stream_seconds": seconds,
        "total": len(calls),
        "by_route": dict(kinds),
        "messages_in_thread": sum(
            1 for c in calls if _route(c.path) == "messages" and c.method == "POST"
        ),
        "turn_seconds": round(elapsed, 2),
    }


def _route(path: str) -> str:
    parts = [p for p in path.split("/") if p and not p.isdigit()]
    return "/".join(parts[1:]) or path


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--stream-seconds", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        print(f"{args.turns} mentions, instant model...", file=sys.stderr)
        latency = await first_text(tmp, args.turns)
        print("3,000-char answer arriving at once...", file=sys.stderr)
        at_once = await rest_calls(tmp, "at_once", 0.0)
        print(f"3,000-char answer streamed over {args.stream_seconds} s...", file=sys.stderr)
        streamed = await rest_calls(tmp, "streamed", args.stream_seconds)
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "turns": args.turns,
        **latency,
        "rest_calls_3000_chars": {"at_once": at_once, "streamed": streamed},
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
