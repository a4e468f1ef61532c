"""Benchmark: the Slack bot against the framework's floor, side by side in one run (issue 22).

    python benchmarks/floor.py [--rounds 2] [--turns 1000] [--concurrency 50] [--core 0]

The **floor** is a bare slack-bolt `AsyncApp` that streams the same fake model's reply with
httpx and posts it with one `chat.postMessage`: no retrieval, no store, no hand-off, so it
costs what the framework alone costs. The **bot** is this project's `SlackBot` serving the
Events API as `bots run slack --http` does, with its engine, SQLite store, retrieval and the
real OpenAI client (`OpenAIChatClient`), and the production stream timing.

Each side runs in a process of its own pinned to one core (`taskset -c CORE`); the load
generator, the fake Slack Web API (tests/fakes/fake_slack.py) and the fake model server
(tests/fakes/fake_llm.py, instant) run here, on the other core when there is one. Each
question is an `app_mention` in a thread of its own, signed, over HTTP. The sides alternate
(floor, bot, floor, bot, ...) so that other load on the machine falls on both alike; the
figures are medians over `--rounds`:

- `turns_per_s`: `--turns` mentions, `--concurrency` at a time, until the last answer shows.
- `cpu_ms_per_turn`: the side's own CPU time (getrusage) over those turns, divided by them.
- `latency_ms_p50`: one question at a time (`--serial` of them), from sending it to the
  answer in Slack.
- `web_api_calls_per_answer`: every Web API call the side made during the run, per answer.
- `peak_rss_mib`: the side's peak resident memory.
- `start_s`: from starting the process to its port answering.
- `embedding_model_rss_mib`: the bot's share of RSS that loading the USE model added
  (`FLOOR_LEXICAL=1` runs the bot without it).

`FLOOR_PROFILE=FILE` writes a cProfile of the bot's process (docs/benchmarks.md quotes one).

Prints one JSON object with both sides, `bot_over_floor` for each figure, the machine's
load average before and after, and the commit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

SECRET = "floor-signing-secret"
TOKEN = "xoxb-floor"
ANSWER = "There is free parking behind the café, and two accessible spaces at the door."


# -- the two sides (each in its own process: `--serve floor|bot`) ---------------------------


def _llm_payload(question: str) -> dict[str, Any]:
    return {
        "model": "gpt-4o-mini",
        "stream": True,
        "messages": [{"role": "user", "content": question}],
    }


async def floor_app(api_url: str, llm_url: str) -> tuple[Any, Any]:
    """The bare bolt app: the model's streamed reply (httpx, SSE) in one chat.postMessage."""
    import aiohttp
    import httpx
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    # One aiohttp session for the Web API, as the bot has: slack_sdk opens a new one for
    # every call without it, which would make the floor slower than it need be.
    session = aiohttp.ClientSession()
    client = AsyncWebClient(token=TOKEN, base_url=api_url, session=session)
    app = AsyncApp(client=client, signing_secret=SECRET)
    http = httpx.AsyncClient(timeout=60)
    app.session = session  # type: ignore[attr-defined]  (closed with the app, below)

    @app.event("app_mention")
    async def answer(event: dict[str, Any], client: AsyncWebClient) -> None:
        text = []
        payload = _llm_payload(str(event.get("text", "")))
        async with http.stream("POST", llm_url + "/chat/completions", json=payload) as reply:
            async for line in reply.aiter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    choices = json.loads(line[6:]).get("choices") or [{}]
                    text.append(choices[0].get("delta", {}).get("content") or "")
        await client.chat_postMessage(
            channel=event["channel"],
            thread_ts=event.get("thread_ts") or event["ts"],
            text="".join(text),
        )

    return app, http


MODEL_RSS: list[float] = []
"""The resident memory the embedding model's load added (the bot side)."""


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


async def serve(kind: str, api_url: str, llm_url: str, database: str) -> None:
    """One side, serving the Events API on a free port until stdin closes; on each line read
    from stdin it prints its CPU seconds so far and its peak RSS."""
    from aiohttp import web

    if kind == "floor":
        app, http = await floor_app(api_url, llm_url)
        runner = web.AppRunner(app.web_app(path="/slack/events"))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        close: list[Any] = [runner.cleanup, http.aclose, app.session.close]
    else:
        port, close = await _bot(api_url, llm_url, database)
    print(json.dumps({"events_url": f"http://127.0.0.1:{port}/slack/events"}), flush=True)
    loop = asyncio.get_running_loop()
    while await loop.run_in_executor(None, sys.stdin.readline):
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu = usage.ru_utime + usage.ru_stime
        figures = {"cpu_s": cpu, "peak_rss_mib": usage.ru_maxrss / 1024}
        figures["model_rss_mib"] = sum(MODEL_RSS)
        print(json.dumps(figures), flush=True)
    for step in close:
        await step()


async def _bot(api_url: str, llm_url: str, database: str) -> tuple[int, list[Any]]:
    from contextlib import AsyncExitStack

    from bots.adapters.slack.adapter import SlackBot
    from bots.knowledge.files import load_knowledge
    from bots.knowledge.persona import load_persona
    from bots.llm.client import OpenAIChatClient
    from bots.secret import Secret
    from bots.store import open_store
    from bots.turn.engine import Engine
    from bots.turn.runtime import PersonaRuntime

    data = HERE / "tests" / "data"
    store = open_store(f"sqlite:///{database}")
    await store.open()
    persona = load_persona(data / "personas" / "cafe.yaml")
    entries = load_knowledge(data / "knowledge", persona.knowledge.sets)
    # The default install's retrieval: BM25 fused with the USE model (its RSS apart).
    from bots.retrieval.setup import RetrievalSetup, retrieval_setup

    before = _rss_mib()
    retrieval = (
        RetrievalSetup()
        if os.environ.get("FLOOR_LEXICAL")
        else retrieval_setup(True, Path(database).parent / "embeddings")
    )
    MODEL_RSS.append(_rss_mib() - before)
    personas = {"cafe": PersonaRuntime.build(persona, entries, None, retrieval)}
    llm = OpenAIChatClient(llm_url, Secret("sk-floor"))
    engine = Engine(store=store, personas=personas, default_persona="cafe", llm=llm)
    bot = SlackBot(
        engine,
        personas,
        bot_token=TOKEN,
        signing_secret=SECRET,
        default_persona="cafe",
        api_url=api_url,
    )
    await bot.check_token()
    stack = AsyncExitStack()
    port = await stack.enter_async_context(bot.serve_http(host="127.0.0.1", port=0))

    async def wait() -> None:
        await bot.wait_idle(60.0)

    return port, [wait, stack.aclose, bot.aclose, llm.aclose, store.close]


# -- the load generator ------------------------------------------------------------------------


class Side:
    """One side's process, pinned to `core`, with the fake Slack and model it talks to."""

    def __init__(self, kind: str, core: int | None, slack: Any, llm_url: str, tmp: Path) -> None:
        self.kind, self.core, self.slack, self.llm_url, self.tmp = kind, core, slack, llm_url, tmp

    async def __aenter__(self) -> Side:
        command = [sys.executable, __file__, "--serve", self.kind, self.slack.base_url]
        command += [self.llm_url, str(self.tmp / f"{self.kind}-{time.time_ns()}.sqlite3")]
        if self.core is not None:
            command = ["taskset", "-c", str(self.core), *command]
        started = time.perf_counter()
        self.process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(HERE)},
        )
        line = await self._line()
        self.url = json.loads(line)["events_url"]
        self.start_s = time.perf_counter() - started
        return self

    async def _line(self) -> bytes:
        assert self.process.stdout is not None
        line = await self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.kind} process stopped")
        return line

    async def usage(self) -> dict[str, float]:
        assert self.process.stdin is not None
        self.process.stdin.write(b"usage\n")
        await self.process.stdin.drain()
        return dict(json.loads(await self._line()))

    async def __aexit__(self, *exc: object) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 30)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


def _mention(n: int, question: str) -> tuple[str, dict[str, Any]]:
    from tests.fakes.fake_slack import BOT_USER_ID, TEAM_ID

    ts = f"{1_900_000_000 + n}.000100"
    event = {
        "type": "app_mention",
        "user": f"U{n % 97:05d}",
        "text": f"<@{BOT_USER_ID}> {question}",
        "ts": ts,
        "channel": f"C0FLOOR{n % 50:02d}",
        "team": TEAM_ID,
        "event_ts": ts,
    }
    body = {
        "team_id": TEAM_ID,
        "api_app_id": "A0FLOOR",
        "type": "event_callback",
        "event_id": f"EvFloor{n:08d}",
        "event_time": int(time.time()),
        "event": event,
        "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
    }
    return ts, body


async def run_side(
    side: Side, session: Any, args: argparse.Namespace, first: int
) -> dict[str, Any]:
    from slack_sdk.signature import SignatureVerifier

    signer = SignatureVerifier(SECRET)
    slack = side.slack
    n = first

    async def ask(question: str) -> float:
        nonlocal n
        n += 1
        ts, body = _mention(n, question)
        raw = json.dumps(body)
        stamp = str(int(time.time()))
        headers = {
            "content-type": "application/json",
            "x-slack-request-timestamp": stamp,
            "x-slack-signature": signer.generate_signature(timestamp=stamp, body=raw),
        }
        sent = time.perf_counter()
        done = slack.expect(ts)
        async with session.post(side.url, data=raw, headers=headers) as response:
            await response.read()
        await asyncio.wait_for(done, 60)
        return time.perf_counter() - sent

    for _ in range(args.warmup):
        await ask("is there parking?")
    # Every question a little different (as real ones are): nothing per text is reused.
    latencies = [
        await ask(f"is there parking near the café, for {k} cars?") for k in range(args.serial)
    ]
    slack.methods.clear()
    before = await side.usage()
    gate = asyncio.Semaphore(args.concurrency)

    async def limited(k: int) -> None:
        async with gate:
            await ask(f"is there parking near the café for table {k}?")

    started = time.perf_counter()
    await asyncio.gather(*(limited(k) for k in range(args.turns)))
    elapsed = time.perf_counter() - started
    after = await side.usage()
    calls = {m: c for m, c in slack.methods.items() if m != "auth.test"}
    return {
        "turns_per_s": round(args.turns / elapsed, 1),
        "cpu_ms_per_turn": round(1000 * (after["cpu_s"] - before["cpu_s"]) / args.turns, 2),
        "latency_ms_p50": round(1000 * statistics.median(latencies), 2),
        "web_api_calls_per_answer": round(sum(calls.values()) / args.turns, 2),
        "web_api_calls": calls,
        "peak_rss_mib": round(after["peak_rss_mib"], 1),
        "embedding_model_rss_mib": round(after["model_rss_mib"], 1),
        "start_s": round(side.start_s, 3),
    }


def _answering_slack() -> Any:
    """The fake Slack Web API, resolving a waiter when an answer shows in its thread."""
    from collections import Counter

    from aiohttp import web

    from tests.fakes.fake_slack import FakeSlack

    class AnsweringSlack(FakeSlack):
        def __init__(self) -> None:
            super().__init__()
            self.methods: Counter[str] = Counter()
            self._waiting: dict[str, asyncio.Future[None]] = {}
            self._streams: dict[str, str] = {}  # a streamed answer's ts: its thread

        def expect(self, thread: str) -> asyncio.Future[None]:
            future = asyncio.get_running_loop().create_future()
            self._waiting[thread] = future
            return future

        async def _handle(self, request: web.Request) -> web.Response:
            response = await super()._handle(request)
            call = self.calls.pop()
            self.methods[call.method] += 1
            ok = bool(call.answer.get("ok"))
            if call.method == "chat.startStream" and ok:
                self._streams[str(call.answer.get("ts"))] = str(call.params.get("thread_ts"))
            finished = call.method in ("chat.postMessage", "chat.stopStream")
            thread = str(call.params.get("thread_ts") or "")
            if call.method == "chat.stopStream":  # it names the message, not the thread
                thread = self._streams.pop(str(call.params.get("ts")), "")
            if finished and ok and thread in self._waiting:
                self._waiting.pop(thread).set_result(None)
            return response

    return AnsweringSlack()


def _commit() -> str:
    done = subprocess.run(
        ["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


async def compare(args: argparse.Namespace) -> dict[str, Any]:
    import tempfile

    import aiohttp

    from tests.fakes.fake_llm import FakeLLMServer, Reply

    cores = os.sched_getaffinity(0)
    bot_core = args.core if args.core in cores else None
    others = sorted(cores - {args.core})
    if bot_core is not None and others:
        os.sched_setaffinity(0, {others[0]})  # the generator and the fakes off the bot's core
    load_before = [round(x, 2) for x in os.getloadavg()]
    runs: dict[str, list[dict[str, Any]]] = {"floor": [], "bot": []}
    with FakeLLMServer() as llm, tempfile.TemporaryDirectory() as tmp:
        llm.default = lambda body: Reply(text=ANSWER)
        # socketserver listens with a backlog of 5 and the fake closes every connection:
        # 50 questions at a time would be refused at the door (a ReadError), on both sides.
        llm._httpd.socket.listen(1024)
        slack = _answering_slack()
        await slack.start()
        try:
            async with aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=args.concurrency + 10)
            ) as session:
                for number in range(args.rounds):
                    for kind in ("floor", "bot"):
                        print(f"round {number + 1}: {kind}", file=sys.stderr)
                        async with Side(kind, bot_core, slack, llm.base_url, Path(tmp)) as side:
                            first = (number * 2 + (kind == "bot")) * 100_000
                            runs[kind].append(await run_side(side, session, args, first))
                        llm.requests.clear()
        finally:
            await slack.close()
    medians = {kind: _medians(found) for kind, found in runs.items()}
    ratios = {
        key: round(medians["bot"][key] / medians["floor"][key], 2)
        for key in medians["bot"]
        if isinstance(medians["bot"][key], float | int) and medians["floor"].get(key)
    }
    return {
        "benchmark": "floor (slack)",
        "turns": args.turns,
        "concurrency": args.concurrency,
        "rounds": args.rounds,
        "bot_core": bot_core,
        "floor": medians["floor"],
        "bot": medians["bot"],
        "bot_over_floor": ratios,
        "bot_web_api_calls": runs["bot"][-1]["web_api_calls"],
        "floor_web_api_calls": runs["floor"][-1]["web_api_calls"],
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "commit": _commit(),
        "python": sys.version.split()[0],
    }


def _medians(found: list[dict[str, Any]]) -> dict[str, Any]:
    keys = [k for k, v in found[0].items() if isinstance(v, float | int)]
    return {k: round(statistics.median(run[k] for run in found), 3) for k in keys}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--turns", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--serial", type=int, default=50, help="one-at-a-time questions")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--core", type=int, default=0, help="the core the side runs on")
    parser.add_argument("--serve", nargs=4, metavar=("KIND", "API_URL", "LLM_URL", "DB"))
    args = parser.parse_args()
    if args.serve:
        profile = os.environ.get("FLOOR_PROFILE")  # a cProfile file of the side's process
        if profile and args.serve[0] == "bot":
            import cProfile

            with cProfile.Profile() as profiler:
                asyncio.run(serve(*args.serve))
            profiler.dump_stats(profile)
            return
        asyncio.run(serve(*args.serve))
        return
    print(json.dumps(asyncio.run(compare(args)), indent=2))


if __name__ == "__main__":
    main()
