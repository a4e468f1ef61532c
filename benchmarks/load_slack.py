"""The load benchmark through Slack: signed Events API requests over HTTP to the real bolt app.

The bot serves the Events API exactly as `bots run slack --http` does (`SlackBot.serve_http`:
bolt's aiohttp server, signature check, ack, listener task), and calls the local fake Slack
Web API (`tests/fakes/fake_slack.py`) with slack_sdk: the 👀 reaction, `chat.startStream` /
`appendStream` / `stopStream` (one write per `--edit-interval` s while streaming), the
reaction's removal. A conversation is an `app_mention` in one of `CHANNELS` channels that
opens a thread, then follow-ups as `message` events in the thread (no mention: the bot
answers in threads it is in). Slack also sends a `message` copy of each mention; it is not
sent here (the engine would recognise it as the same message, as
`tests/unit/adapters/slack/test_adapter.py` shows).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from load_answers import Answers, TimedModel
from load_memory import MemoryProbe, Probe, memory_served, remote

from bots.adapters.slack.adapter import EVENTS_PATH, SlackBot
from bots.adapters.slack.stream import StreamTiming
from bots.knowledge.files import load_knowledge
from bots.knowledge.persona import load_persona
from bots.llm.client import ChatModel
from bots.store import Store, open_store
from bots.turn.engine import Engine
from bots.turn.runtime import PersonaRuntime
from tests.fakes.fake_slack import BOT_USER_ID, TEAM_ID, FakeSlack

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
SECRET = "load-signing-secret"
CHANNELS = 50
_NEW = frozenset({"chat.postMessage", "chat.startStream"})
_WRITES = _NEW | {"chat.update", "chat.appendStream", "chat.stopStream"}


class CountingSlack(FakeSlack):
    """The fake Slack, feeding `Answers` and counting calls instead of keeping them.

    Messages are kept by (channel, ts) and per thread, so a finished conversation's are
    forgotten (`forget`) and a soak's fake stays the same size.
    """

    def __init__(self, answers: Answers) -> None:
        super().__init__()
        self.answers = answers
        self.methods: Counter[str] = Counter()
        self._by_ts: dict[tuple[str, str], dict[str, Any]] = {}
        self._threads: dict[tuple[str, str], list[str]] = {}

    async def _handle(self, request: web.Request) -> web.Response:
        response = await super()._handle(request)
        self.methods[self.calls[-1].method] += 1
        self.calls.clear()
        return response

    def _new_message(self, channel: str, params: dict[str, Any], text: str) -> dict[str, Any]:
        message = super()._new_message(channel, params, text)
        self.messages[channel].pop()
        self._by_ts[(channel, message["ts"])] = message
        thread = str(params.get("thread_ts") or message["ts"])
        self._threads.setdefault((channel, thread), []).append(message["ts"])
        return message

    def _find(self, channel: str, ts: str) -> dict[str, Any] | None:
        return self._by_ts.get((channel, ts))

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        answer = super()._answer(method, params)
        if method in _WRITES and answer.get("ok"):
            message = self._find(str(answer.get("channel")), str(answer.get("ts")))
            if message is not None:
                self.answers.shown(str(message.get("text", "")), new_message=method in _NEW)
        return answer

    def forget(self, channel: str, thread: str) -> None:
        for ts in self._threads.pop((channel, thread), []):
            self._by_ts.pop((channel, ts), None)


def _channel(c: int) -> str:
    return f"C0LOAD{c % CHANNELS:03d}"


def _ts(c: int, k: int) -> str:
    return f"{1_800_000_000 + c}.{k + 1:06d}"


def event_body(c: int, k: int, text: str) -> dict[str, Any]:
    """The Events API body of question `k` of conversation `c`, as Slack sends it."""
    event: dict[str, Any] = {
        "user": f"U{c:08d}",
        "ts": _ts(c, k),
        "channel": _channel(c),
        "team": TEAM_ID,
        "event_ts": _ts(c, k),
    }
    if k == 0:
        event |= {"type": "app_mention", "text": f"<@{BOT_USER_ID}> {text}"}
    else:
        event |= {"type": "message", "text": text, "thread_ts": _ts(c, 0)}
        event["channel_type"] = "channel"
    return {
        "team_id": TEAM_ID,
        "api_app_id": "A0LOAD",
        "type": "event_callback",
        "event_id": f"Ev{c:08d}x{k:03d}",
        "event_time": int(time.time()),
        "event": event,
        "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
    }


class SlackLoad:
    """Sends the questions as signed HTTP requests; forgets a finished conversation."""

    name = "slack"

    def __init__(
        self, fake: CountingSlack, events_urls: list[str], session: aiohttp.ClientSession
    ) -> None:
        self.fake = fake
        self._urls = events_urls
        self._session = session
        self._signer = SignatureVerifier(SECRET)
        self.refused = 0
        self.processes: list[dict[str, Any]] = []
        """Each bot process's own figures, once it has stopped (none when the bot runs here)."""

    async def ask(self, c: int, k: int, text: str) -> None:
        raw = json.dumps(event_body(c, k, text))
        stamp = str(int(time.time()))
        headers = {
            "content-type": "application/json",
            "x-slack-request-timestamp": stamp,
            "x-slack-signature": self._signer.generate_signature(timestamp=stamp, body=raw),
        }
        url = self._urls[c % len(self._urls)]  # a conversation stays with one process
        async with self._session.post(url, data=raw, headers=headers) as response:
            await response.read()
            if response.status != 200:
                self.refused += 1

    async def forget(self, c: int) -> None:
        self.fake.forget(_channel(c), _ts(c, 0))

    def figures(self) -> dict[str, Any]:
        figures = {"events_refused": self.refused, "web_api_calls": dict(self.fake.methods)}
        if self.processes:
            figures["bot_processes"] = self.processes
        return figures


def cafe_engine(store: Store, model: ChatModel) -> tuple[Engine, dict[str, PersonaRuntime]]:
    """The engine with the tests' café persona and knowledge (the same as the Discord rig's)."""
    persona = load_persona(DATA / "personas" / "cafe.yaml")
    entries = load_knowledge(DATA / "knowledge", persona.knowledge.sets)
    personas = {"cafe": PersonaRuntime.build(persona, entries, None)}
    return Engine(store=store, personas=personas, default_persona="cafe", llm=model), personas


def slack_bot(store: Store, model: ChatModel, api_url: str, edit_interval: float) -> SlackBot:
    engine, personas = cafe_engine(store, model)
    return SlackBot(
        engine,
        personas,
        bot_token="xoxb-load",
        signing_secret=SECRET,
        default_persona="cafe",
        api_url=api_url,
        stream_timing=StreamTiming(interval=edit_interval),
    )


@asynccontextmanager
async def serving(bot: SlackBot) -> AsyncIterator[str]:
    """The bot serving the Events API on a free port (its URL), as `bots run slack --http`."""
    try:
        await bot.check_token()
        async with bot.serve_http(host="127.0.0.1", port=0) as port:
            yield f"http://127.0.0.1:{port}{EVENTS_PATH}"
            await bot.wait_idle(60.0)
    finally:
        await bot.aclose()


@asynccontextmanager
async def slack_platform(
    store: Store, model: ChatModel, answers: Answers, edit_interval: float
) -> AsyncIterator[SlackLoad]:
    """The fake Slack and the bot in this process, until the block ends."""
    fake = CountingSlack(answers)
    await fake.start()
    try:
        async with (
            serving(slack_bot(store, model, fake.base_url, edit_interval)) as url,
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)) as session,
        ):
            yield SlackLoad(fake, [url], session)
    finally:
        await fake.close()


@asynccontextmanager
async def slack_processes(
    count: int, store_url: str, model: TimedModel, answers: Answers, options: list[str]
) -> AsyncIterator[tuple[SlackLoad, Probe]]:
    """The fake Slack here, the bot in `count` processes of its own (this file, `--serve`).

    Yields the load and the memory probe of the first bot process (its RSS and traced
    memory, read over HTTP), so memory figures are the bot's alone, without the fake.
    """
    fake = CountingSlack(answers)
    await fake.start()
    timing = ["--ttft", str(model.ttft), "--chunks", str(model.chunks), "--chunk-gap"]
    command = [sys.executable, __file__, "--serve", store_url, fake.base_url, *timing]
    command += [str(model.gap), *options]
    bots = [
        await asyncio.create_subprocess_exec(
            *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        for _ in range(count)
    ]
    try:
        started = [json.loads(await bot.stdout.readline()) for bot in bots if bot.stdout]
        connector = aiohttp.TCPConnector(limit=200)
        async with aiohttp.ClientSession(connector=connector) as session:
            load = SlackLoad(fake, [s["events_url"] for s in started], session)
            yield load, remote(session, started[0]["memory_url"])
        for bot in bots:
            assert bot.stdin is not None
            assert bot.stdout is not None
            bot.stdin.close()  # the bot process's signal to finish its work and stop
            load.processes.append(json.loads(await bot.stdout.readline()))
            await bot.wait()
    finally:
        for bot in bots:
            if bot.returncode is None:
                bot.kill()
                await bot.wait()
        await fake.close()


async def serve(args: argparse.Namespace) -> None:
    """A bot process: the bot, its store and the timed model, serving until stdin closes."""
    probe = MemoryProbe(not args.no_tracemalloc, args.top)
    store = open_store(args.store_url)
    await store.open()
    model = TimedModel(args.ttft, args.chunks, args.chunk_gap)
    bot = slack_bot(store, model, args.api_url, args.edit_interval)
    try:
        async with memory_served(probe) as memory_url, serving(bot) as events_url:
            print(json.dumps({"events_url": events_url, "memory_url": memory_url}), flush=True)
            await asyncio.to_thread(sys.stdin.read)
    finally:
        await store.close()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    figures = {
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
    }
    print(json.dumps(figures), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="a bot process of benchmarks/load.py")
    parser.add_argument("--serve", nargs=2, metavar=("STORE_URL", "API_URL"), required=True)
    parser.add_argument("--ttft", type=float, required=True)
    parser.add_argument("--chunks", type=int, required=True)
    parser.add_argument("--chunk-gap", type=float, required=True)
    parser.add_argument("--edit-interval", type=float, default=1.0)
    parser.add_argument("--no-tracemalloc", action="store_true")
    parser.add_argument("--top", type=int, default=0)
    args = parser.parse_args()
    args.store_url, args.api_url = args.serve
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
