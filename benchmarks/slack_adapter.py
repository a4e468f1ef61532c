"""Benchmark: what the Slack adapter adds: event-to-first-text latency, and Web API calls
per streamed answer.

Prints one JSON object on stdout (progress on stderr):

    python benchmarks/slack_adapter.py [--events 300] [--chars 1500]

- `first_text_ms` (p50, p99): from handing a signed `app_mention` to the real bolt request
  handler until the local fake Slack Web API receives the first text of the answer
  (`chat.startStream`, or `chat.postMessage` without it). The model answers instantly, so
  this is bolt + the adapter + the engine + the local HTTP round trips (the 👀 reaction
  comes first). `engine_first_delta_ms` is the engine alone, for comparison.
- `calls_per_answer`: the Web API calls one streamed answer of `--chars` characters costs,
  with `chat.startStream` and with the post + `chat.update` fallback, the model writing
  4-character pieces at `--pieces-per-second` (simulated time, nothing sleeps).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import hashlib
import hmac
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import aclosing
from pathlib import Path
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest

from bots.adapters.slack.adapter import SlackBot
from bots.adapters.slack.stream import StreamTiming
from bots.knowledge.files import load_knowledge
from bots.knowledge.persona import load_persona
from bots.llm.client import ChatModel, ChatRequest, Completed, ContentDelta, LLMEvent
from bots.models import IncomingMessage, TextDelta, ThreadKey, Usage
from bots.store.sqlite import SQLiteStore
from bots.turn.engine import Engine
from bots.turn.runtime import PersonaRuntime

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the fake Slack lives with the tests

from tests.fakes.fake_slack import BOT_USER_ID, TEAM_ID, FakeSlack  # noqa: E402 - needs ROOT on sys.path

SECRET = "bench-secret"
CHANNEL = "C0BENCH"
DATA = ROOT / "tests" / "data"


class SimClock:
    """Simulated monotonic time: the model moves it as it writes."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class WritingModel(ChatModel):
    """Writes `text` in 4-character pieces, `gap` simulated seconds apart (0: instantly)."""

    def __init__(self, text: str, clock: SimClock | None = None, gap: float = 0.0) -> None:
        self.text, self.clock, self.gap = text, clock, gap

    async def stream(self, request: ChatRequest) -> AsyncIterator[LLMEvent]:
        for start in range(0, len(self.text), 4):
            if self.clock is not None:
                self.clock.now += self.gap
            yield ContentDelta(self.text[start : start + 4])
        yield Completed(self.text, (), Usage(10, 5), "stop")


def answer_text(chars: int) -> str:
    sentence = "Our terrace opens at noon and the kitchen serves until ten. "
    return (sentence * (chars // len(sentence) + 1))[:chars].rstrip() + "."


def signed(body: dict[str, Any]) -> AsyncBoltRequest:
    raw = json.dumps(body)
    stamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{stamp}:{raw}".encode(), hashlib.sha256).hexdigest()
    headers = {
        "content-type": "application/json",
        "x-slack-request-timestamp": stamp,
        "x-slack-signature": f"v0={digest}",
    }
    return AsyncBoltRequest(body=raw, headers=headers)


def mention(number: int) -> tuple[str, dict[str, Any]]:
    ts = f"{1_700_000_000 + number}.000100"
    event = {
        "type": "app_mention",
        "user": "U0ASKER",
        "text": f"<@{BOT_USER_ID}> when does the terrace open?",
        "ts": ts,
        "channel": CHANNEL,
        "team": TEAM_ID,
        "event_ts": ts,
    }
    body = {
        "team_id": TEAM_ID,
        "api_app_id": "A0BENCH",
        "type": "event_callback",
        "event_id": f"Ev{number:08d}",
        "event_time": 1,
        "event": event,
        "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
    }
    return ts, body


async def build(
    directory: Path, model: ChatModel, slack: FakeSlack, timing: StreamTiming
) -> tuple[SlackBot, Engine, SQLiteStore]:
    persona = load_persona(DATA / "personas" / "cafe.yaml")
    entries = load_knowledge(DATA / "knowledge", persona.knowledge.sets)
    personas = {"cafe": PersonaRuntime.build(persona, entries, None)}
    store = SQLiteStore(directory / f"bench-{id(model)}.sqlite3")
    await store.open()
    engine = Engine(store=store, personas=personas, default_persona="cafe", llm=model)
    bot = SlackBot(
        engine,
        personas,
        bot_token="xoxb-bench",
        signing_secret=SECRET,
        default_persona="cafe",
        api_url=slack.base_url,
        stream_timing=timing,
    )
    return bot, engine, store


def first_text_at(slack: FakeSlack, ts: str) -> float:
    for call in slack.calls:
        texts = call.method in ("chat.startStream", "chat.postMessage")
        if texts and call.params.get("thread_ts") == ts:
            return call.at
    raise RuntimeError(f"no text for {ts}")


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 2),
        "p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
        "mean": round(statistics.fmean(ordered), 2),
    }


async def latency(directory: Path, events: int) -> dict[str, Any]:
    slack = FakeSlack()
    await slack.start()
    model = WritingModel("The terrace opens at noon.")
    bot, engine, store = await build(directory, model, slack, StreamTiming())
    try:
        await bot.app.async_dispatch(signed(mention(0)[1]))  # warm-up (auth.test, imports)
        await bot.wait_idle()
        added: list[float] = []
        for number in range(1, events + 1):
            ts, body = mention(number)
            started = time.perf_counter()
            response = await bot.app.async_dispatch(signed(body))
            assert response.status == 200
            await bot.wait_idle()
            added.append((first_text_at(slack, ts) - started) * 1000)
            if number % 50 == 0:
                print(f"latency: {number}/{events} events", file=sys.stderr)
        alone: list[float] = []
        for number in range(events + 1, 2 * events + 1):
            key = ThreadKey("slack", TEAM_ID, CHANNEL, f"{number}.000100")
            message = IncomingMessage(key, "U0ASKER", "when does the terrace open?", key.thread)
            started = time.perf_counter()
            async with aclosing(engine.handle(message)) as stream:
                async for event in stream:
                    if isinstance(event, TextDelta) and started:
                        alone.append((time.perf_counter() - started) * 1000)
                        started = 0.0
        return {"first_text_ms": percentiles(added), "engine_first_delta_ms": percentiles(alone)}
    finally:
        await bot.aclose()
        await store.close()
        await slack.close()


async def calls_for_one_answer(
    directory: Path, chars: int, pieces_per_second: float, streaming: bool
) -> dict[str, Any]:
    slack = FakeSlack()
    await slack.start()
    if not streaming:
        slack.streaming_error = "unknown_method"
    clock = SimClock()
    model = WritingModel(answer_text(chars), clock, 1 / pieces_per_second)
    # The hold and the 👀's delay run in real time, and this model writes in simulated time
    # (at once, really): without zeroing them the whole answer would be one post. This
    # counts what a streamed answer costs once the hold is over, 👀 included.
    timing = StreamTiming(interval=1.0, clock=clock, first_hold=0.0, working_after=0.0)
    bot, _, store = await build(directory, model, slack, timing)
    try:
        await bot.app.async_dispatch(signed(mention(0)[1]))
        await bot.wait_idle()
        methods = collections.Counter(c.method for c in slack.calls if c.method != "auth.test")
        shown = slack.shown(CHANNEL)
        assert len(shown) == 1, "one message expected"
        assert shown[0]["text"].strip().startswith("Our terrace opens at noon")
        return {
            "total": sum(methods.values()),
            "by_method": dict(sorted(methods.items())),
            "simulated_writing_seconds": round(clock.now, 2),
        }
    finally:
        await bot.aclose()
        await store.close()
        await slack.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--chars", type=int, default=1500)
    parser.add_argument("--pieces-per-second", type=float, default=50.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        directory = Path(temp)
        figures = await latency(directory, args.events)
        print("calls per answer: stream API", file=sys.stderr)
        stream = await calls_for_one_answer(directory, args.chars, args.pieces_per_second, True)
        print("calls per answer: post + update", file=sys.stderr)
        update = await calls_for_one_answer(directory, args.chars, args.pieces_per_second, False)
    result = {
        "events": args.events,
        **figures,
        "answer_chars": args.chars,
        "pieces_per_second": args.pieces_per_second,
        "update_interval_s": 1.0,
        "calls_per_answer": {"stream_api": stream, "post_and_update": update},
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus, {platform.python_version()}",
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
