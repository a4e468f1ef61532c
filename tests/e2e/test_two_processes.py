"""Two real `bots run slack --http` processes on one PostgreSQL database behave as one bot.

One fake LLM server and one fake Slack Web API serve both processes. The test posts signed
Slack events over HTTP, the same event to both processes and distinct events spread across
them, and counts the replies the fake Slack receives: each event answered exactly once, and
the turns of one conversation in order even when they reach different processes.

Skips without a PostgreSQL server, fails under CI=true (the store tests' rule).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import sys
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bots.models import ThreadKey
from tests.conftest import API_KEY
from tests.contracts.test_store_hold import until_waiting
from tests.contracts.test_store_postgres import SERVER_URL, schema_url  # noqa: F401 - a fixture, used by name
from tests.fakes.fake_llm import FakeLLMServer, Hold, Reply
from tests.fakes.fake_slack import BOT_USER_ID, TEAM_ID, FakeSlack
from tests.support.cli_runner import clean_env
from tests.support.paths import REPO_ROOT
from tests.unit.adapters.slack.test_adapter import signed_headers

ROOT = REPO_ROOT
SECRET = "two-process-signing-secret"
CHANNEL = "C2PROC"
_TAG = re.compile(r"q-[a-z0-9]+")
_ts = itertools.count(1)
_event_ids = itertools.count(1)


def new_ts() -> str:
    return f"1700100{next(_ts):03d}.000200"


def tagged_reply(body: dict[str, Any]) -> Reply:
    """Answers "Reply to q-x." for the question tagged q-x in the request's last user message."""
    users = [m for m in body.get("messages", []) if m.get("role") == "user"]
    tags = _TAG.findall(str(users[-1]["content"])) if users else []
    return Reply(text=f"Reply to {tags[-1] if tags else 'nothing'}.")


@dataclass
class BotProcess:
    process: asyncio.subprocess.Process
    events_url: str
    metrics_url: str
    log: Path


async def start_bot(env: dict[str, str], log: Path) -> BotProcess:
    with log.open("wb") as err:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bots",
            "run",
            "slack",
            "--http",
            "--port",
            "0",
            stdout=asyncio.subprocess.PIPE,
            stderr=err,
            env=env,
            cwd=ROOT,
        )
    assert process.stdout is not None
    urls: dict[str, str] = {}
    while "listening" not in urls:
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        assert line, "the bot stopped; see its log: " + str(log)
        word = line.split()[0]
        urls[word] = line.split()[-1].replace("0.0.0.0", "127.0.0.1")
    return BotProcess(process, urls["listening"], urls["metrics"], log)


def event_body(ts: str, text: str, *, thread_ts: str | None = None, event_id: str = "") -> str:
    event: dict[str, Any] = {
        "type": "message" if thread_ts else "app_mention",
        "user": "U1",
        "channel": CHANNEL,
        "ts": ts,
        "text": text if thread_ts else f"<@{BOT_USER_ID}> {text}",
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return json.dumps(
        {
            "type": "event_callback",
            "team_id": TEAM_ID,
            "api_app_id": "A1",
            "event_id": event_id or f"Ev2P{next(_event_ids)}",
            "event_time": 1,
            "event": event,
            "authorizations": [{"user_id": BOT_USER_ID, "team_id": TEAM_ID, "is_bot": True}],
        }
    )


async def post(http: httpx.AsyncClient, bot: BotProcess, body: str) -> None:
    response = await http.post(bot.events_url, content=body, headers=signed_headers(body, SECRET))
    assert response.status_code == 200, response.text


def replies(slack: FakeSlack, thread: str) -> list[str]:
    """The finished answers a thread shows (streamed or posted)."""
    return [
        str(m.get("text", ""))
        for m in slack.shown(CHANNEL, thread)
        if not m.get("streaming") and str(m.get("text", "")).startswith("Reply to")
    ]


async def wait_for_replies(slack: FakeSlack, threads: dict[str, int], seconds: float = 30) -> None:
    def done() -> bool:
        return all(len(replies(slack, thread)) >= n for thread, n in threads.items())

    await slack.wait_until(done, seconds)


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def bots(
    schema_url: str,  # noqa: F811 - the fixture imported above
    slack: FakeSlack,
    tmp_path: Path,
) -> AsyncIterator[tuple[list[BotProcess], FakeLLMServer]]:
    with FakeLLMServer() as llm:
        llm.default = tagged_reply
        env = clean_env(
            DATABASE_URL=schema_url,
            OPENAI_API_KEY=API_KEY,
            OPENAI_BASE_URL=llm.base_url,
            SLACK_BOT_TOKEN="xoxb-two-processes",
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=slack.base_url,
            BOTS_METRICS_PORT="0",
        )
        started: list[BotProcess] = []
        try:
            # One after the other: the first applies the migrations, the second finds them.
            for name in ("one", "two"):
                started.append(await start_bot(env, tmp_path / f"{name}.log"))
            yield started, llm
        finally:
            for bot in started:
                bot.process.terminate()
            for bot in started:
                await bot.process.wait()


async def turns_by_outcome(http: httpx.AsyncClient, bots: list[BotProcess]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for bot in bots:
        text = (await http.get(bot.metrics_url)).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "bots_turns_total":
                    outcome = sample.labels["outcome"]
                    totals[outcome] = totals.get(outcome, 0) + sample.value
    return totals


async def test_two_processes_answer_each_event_once_and_in_order(
    bots: tuple[list[BotProcess], FakeLLMServer],
    slack: FakeSlack,
    schema_url: str,  # noqa: F811 - the fixture imported above
) -> None:
    (one, two), llm = bots
    async with httpx.AsyncClient(timeout=10) as http:
        # 1. The same event reaches both processes at once: one answer.
        same_ts = new_ts()
        same = event_body(same_ts, "question q-same", event_id="EvSame")
        await asyncio.gather(post(http, one, same), post(http, two, same))

        # 2. Distinct conversations spread over both processes, all at once.
        spread = [new_ts() for _ in range(6)]
        await asyncio.gather(
            *(
                post(http, (one, two)[n % 2], event_body(ts, f"question q-spread{n}"))
                for n, ts in enumerate(spread)
            )
        )
        await wait_for_replies(slack, {same_ts: 1, **dict.fromkeys(spread, 1)})
        assert replies(slack, same_ts) == ["Reply to q-same."]
        for n, ts in enumerate(spread):
            assert replies(slack, ts) == [f"Reply to q-spread{n}."]

        # 3. One conversation whose second message reaches the other process while the
        #    first is still with the model: the second waits, and sees the first's answer.
        calls_before = len(llm.requests)
        release = threading.Event()
        llm.script(Hold(release))
        first_ts = new_ts()
        await post(http, one, event_body(first_ts, "question q-first"))
        assert await asyncio.to_thread(llm.wait_for_requests, calls_before + 1, 20)
        await post(http, two, event_body(new_ts(), "question q-second", thread_ts=first_ts))
        conversation = ThreadKey("slack", TEAM_ID, CHANNEL, first_ts).as_id()
        await until_waiting(schema_url, conversation)
        assert len(llm.requests) == calls_before + 1  # the second has not reached the model
        release.set()
        await wait_for_replies(slack, {same_ts: 1, **dict.fromkeys(spread, 1), first_ts: 2})
        assert replies(slack, first_ts) == ["Reply to q-first.", "Reply to q-second."]
        second_prompt = json.dumps(llm.requests[calls_before + 1].body["messages"])
        assert "Reply to q-first." in second_prompt

        # Both processes' own metrics agree: 9 answers from the model, 1 duplicate.
        outcomes = await turns_by_outcome(http, [one, two])
        # The Slack port answers the host's health checks too (status only: it is public).
        health = await http.get(one.events_url.replace("/slack/events", "/healthz"))
        assert (health.status_code, health.json()) == (200, {"status": "ok"})
        details = await http.get(one.metrics_url.replace("/metrics", "/healthz"))
        assert details.json() == {
            "status": "ok",
            "store": "ok",
            "llm": "ok",
            "llm_failures": "none",
        }
    assert outcomes.get("reply_llm") == 9
    assert outcomes.get("silent_duplicate") == 1
    assert sum(outcomes.values()) == 10
    assert len(llm.requests) == 9
