"""Benchmark: the engine's own overhead per turn, and whether concurrent turns serialise.

Prints one JSON object on stdout (progress on stderr):

    python benchmarks/engine_overhead.py [--entries 1000] [--turns 2000] [--concurrent 500]

- `overhead_ms` (p50, p99, mean) and `turns_per_second`: sequential turns against a model that
  answers instantly, with `--entries` synthetic knowledge entries and a SQLite file store. The
  `via_http_client` figures run the same turns through the real OpenAI client, parsing SSE from
  an in-memory transport, so they include the client's own cost.
- `concurrent_seconds`: `--concurrent` conversations at once against a model that takes 1 s.
  Nothing serialising means close to 1 s.
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
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from bots.knowledge.files import KnowledgeEntry
from bots.knowledge.persona import Persona
from bots.llm.client import (
    ChatModel,
    ChatRequest,
    Completed,
    ContentDelta,
    LLMEvent,
    OpenAIChatClient,
    RetryPolicy,
)
from bots.models import FinalReply, IncomingMessage, ThreadKey, Usage
from bots.secret import Secret
from bots.store.sqlite import SQLiteStore
from bots.turn.engine import Engine
from bots.turn.runtime import PersonaRuntime

REPLY = "Thanks for asking! Our kitchen is open until ten tonight [e-7]. See you soon."
TOPICS = (
    "parking",
    "hours",
    "menu",
    "vegan",
    "gluten",
    "wine",
    "dessert",
    "booking",
    "gift",
    "delivery",
    "terrace",
    "dogs",
)


class InstantModel:
    """A model with zero latency: the engine's overhead is all that is left to measure."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay

    async def stream(self, request: ChatRequest) -> AsyncIterator[LLMEvent]:
        if self.delay:
            await asyncio.sleep(self.delay)
        for start in range(0, len(REPLY), 16):
            yield ContentDelta(REPLY[start : start + 16])
        yield Completed(REPLY, (), Usage(900, 20), "stop")


def sse_transport() -> httpx.MockTransport:
    chunks = [REPLY[i : i + 16] for i in range(0, len(REPLY), 16)]
    lines = [
        "data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": c}}]}) for c in chunks
    ]
    lines.append(
        "data: " + json.dumps({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    )
    lines.append(
        "data: "
        + json.dumps({"choices": [], "usage": {"prompt_tokens": 900, "completion_tokens": 20}})
    )
    body = ("\n\n".join([*lines, "data: [DONE]"]) + "\n\n").encode()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    return httpx.MockTransport(handler)


def synthetic_entries(n: int) -> tuple[KnowledgeEntry, ...]:
    return tuple(
        KnowledgeEntry(
            id=f"e-{i}",
            question=f"What about {TOPICS[i % len(TOPICS)]} option {i}?",
            answer=f"Entry {i}: details on {TOPICS[(i * 7) % len(TOPICS)]} and item {i % 97}. " * 3,
            also_asked=(f"{TOPICS[i % len(TOPICS)]} {i}?", f"tell me about item {i}"),
        )
        for i in range(n)
    )


def persona() -> Persona:
    return Persona.model_validate(
        {
            "name": "bench",
            "display_name": "Bench",
            "instructions": "You are a benchmark persona. Be brief.",
            "model": {"name": "gpt-4o-mini", "context_window": 16000, "max_tokens": 400},
            "knowledge": {"sets": ["bench"], "max_snippets": 5},
        }
    )


def message(conversation: int, n: int) -> IncomingMessage:
    topic = TOPICS[(conversation + n) % len(TOPICS)]
    return IncomingMessage(
        key=ThreadKey("bench", "w", "c", f"t{conversation}"),
        author_id=f"u{conversation}",
        text=f"Hi, question {n}: what about {topic} for item {n * 13 % 97}?",
        message_id=f"{conversation}-{n}",
    )


async def one_turn(engine: Engine, msg: IncomingMessage) -> None:
    replies = [e async for e in engine.handle(msg) if isinstance(e, FinalReply)]
    assert len(replies) == 1


async def sequential(
    runtime: PersonaRuntime, model: ChatModel, turns: int, db: Path | str
) -> dict[str, float]:
    store = SQLiteStore(db)
    await store.open()
    engine = Engine(store=store, personas={"bench": runtime}, default_persona="bench", llm=model)
    for warm in range(20):
        await one_turn(engine, message(10_000 + warm, 0))
    timings = []
    started = time.perf_counter()
    for n in range(turns):
        msg = message(n % 100, n // 100)  # 100 conversations whose history grows
        t0 = time.perf_counter()
        await one_turn(engine, msg)
        timings.append((time.perf_counter() - t0) * 1000)
        if n % 500 == 0:
            print(f"  {n}/{turns} turns", file=sys.stderr)
    elapsed = time.perf_counter() - started
    await store.close()
    timings.sort()
    return {
        "p50": round(statistics.median(timings), 3),
        "p99": round(timings[int(len(timings) * 0.99) - 1], 3),
        "mean": round(statistics.fmean(timings), 3),
        "turns_per_second": round(turns / elapsed, 1),
    }


async def concurrent(runtime: PersonaRuntime, conversations: int, db: Path) -> float:
    store = SQLiteStore(db)
    await store.open()
    engine = Engine(
        store=store, personas={"bench": runtime}, default_persona="bench", llm=InstantModel(1.0)
    )
    started = time.perf_counter()
    await asyncio.gather(*(one_turn(engine, message(c, 0)) for c in range(conversations)))
    elapsed = time.perf_counter() - started
    await store.close()
    return round(elapsed, 3)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--turns", type=int, default=2000)
    parser.add_argument("--concurrent", type=int, default=500)
    args = parser.parse_args()

    print(f"indexing {args.entries} entries...", file=sys.stderr)
    t0 = time.perf_counter()
    runtime = PersonaRuntime.build(persona(), synthetic_entries(args.entries), None)
    index_seconds = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        print("sequential turns, instant model...", file=sys.stderr)
        direct = await sequential(runtime, InstantModel(), args.turns, Path(tmp) / "a.sqlite3")
        print("sequential turns, through the HTTP client...", file=sys.stderr)
        client = OpenAIChatClient(
            "http://llm.invalid/v1",
            Secret("bench"),
            transport=sse_transport(),
            retry=RetryPolicy(max_attempts=1),
        )
        via_client = await sequential(runtime, client, args.turns, Path(tmp) / "b.sqlite3")
        await client.aclose()
        print(f"{args.concurrent} concurrent conversations, 1 s model...", file=sys.stderr)
        together = await concurrent(runtime, args.concurrent, Path(tmp) / "c.sqlite3")
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "entries": args.entries,
        "turns": args.turns,
        "index_build_seconds": round(index_seconds, 3),
        "overhead_ms": {k: direct[k] for k in ("p50", "p99", "mean")},
        "turns_per_second": direct["turns_per_second"],
        "via_http_client": via_client,
        "concurrent_conversations": args.concurrent,
        "concurrent_seconds_with_1s_model": together,
        "goals": {"p99_ms_below": 5, "turns_per_second_at_least": 500, "concurrent_close_to": 1.0},
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
