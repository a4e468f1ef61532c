"""`bots run slack --http` as an operator starts it: a real process, a fake Slack, real HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.fakes.fake_llm import FakeLLMServer, Reply, Trickle
from tests.fakes.fake_slack import BOT_USER_ID, TEAM_ID, FakeSlack
from tests.support.cli_runner import clean_env
from tests.support.paths import REPO_ROOT
from tests.unit.adapters.slack.test_adapter import signed_headers

ROOT = REPO_ROOT
SECRET = "slack-signing-secret"


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.close()


def environment(tmp_path: Path, slack: FakeSlack, **extra: str) -> dict[str, str]:
    return clean_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'slack.sqlite3'}",
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=slack.base_url,
        **extra,
    )


async def start(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bots",
        "run",
        "slack",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )


async def test_http_mode_answers_a_mention_in_its_thread(tmp_path: Path, slack: FakeSlack) -> None:
    process = await start(environment(tmp_path, slack), "--http", "--port", "0")
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        assert line.startswith("listening on http://0.0.0.0:")
        url = line.split()[-1].replace("0.0.0.0", "127.0.0.1")
        body = json.dumps(
            {
                "type": "event_callback",
                "team_id": TEAM_ID,
                "api_app_id": "A1",
                "event_id": "Ev1",
                "event_time": 1,
                "event": {
                    "type": "app_mention",
                    "user": "U1",
                    "channel": "C1",
                    "ts": "1700000000.000100",
                    "text": f"<@{BOT_USER_ID}> is there parking near the restaurant?",
                },
                "authorizations": [{"user_id": BOT_USER_ID, "team_id": TEAM_ID, "is_bot": True}],
            }
        )
        async with httpx.AsyncClient() as client:
            answer = await client.post(url, content=body, headers=signed_headers(body, SECRET))
            refused = await client.post(url, content=body, headers=signed_headers(body, "wrong"))
        assert answer.status_code == 200
        assert refused.status_code == 401
        posts = await slack.wait_for("chat.postMessage", seconds=20)
        assert posts[0]["channel"] == "C1"
        assert posts[0]["thread_ts"] == "1700000000.000100"
        assert "car park" in json.dumps(posts[0])
    finally:
        process.terminate()
        await process.wait()


async def test_bots_host_sets_the_address_http_mode_listens_on(
    tmp_path: Path, slack: FakeSlack
) -> None:
    """BOTS_HOST=127.0.0.1 (behind a reverse proxy on the same machine): the events port
    answers on 127.0.0.1 only, not on 127.0.0.2 (another loopback address)."""
    env = environment(tmp_path, slack, BOTS_HOST="127.0.0.1")
    process = await start(env, "--http", "--port", "0")
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        assert line.startswith("listening on http://127.0.0.1:"), line
        port = int(line.rsplit(":", 1)[1].split("/")[0])
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200
            with pytest.raises(httpx.ConnectError):
                await client.get(f"http://127.0.0.2:{port}/healthz")
    finally:
        process.terminate()
        await process.wait()


@pytest.mark.parametrize(
    ("unset", "args", "words"),
    [
        ("SLACK_BOT_TOKEN", ("--http",), "SLACK_BOT_TOKEN is not set"),
        ("SLACK_SIGNING_SECRET", ("--http",), "SLACK_SIGNING_SECRET is not set"),
        ("SLACK_APP_TOKEN", (), "SLACK_APP_TOKEN is not set"),
    ],
)
async def test_a_missing_setting_is_a_one_line_error(
    tmp_path: Path, slack: FakeSlack, unset: str, args: tuple[str, ...], words: str
) -> None:
    env = environment(tmp_path, slack)
    env.pop(unset, None)
    process = await start(env, *args)
    _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    assert err.decode().strip().splitlines() == [err.decode().strip()]  # one line
    assert words in err.decode()


async def test_a_refused_token_is_a_one_line_error(tmp_path: Path, slack: FakeSlack) -> None:
    slack.refuse_token = True
    process = await start(environment(tmp_path, slack), "--http", "--port", "0")
    _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    assert "Slack refused SLACK_BOT_TOKEN (invalid_auth)" in err.decode()
    assert "xoxb-test-token" not in err.decode()
    assert "Traceback" not in err.decode()


async def test_socket_mode_is_the_default_and_answers_over_the_websocket(
    tmp_path: Path, slack: FakeSlack
) -> None:
    env = environment(tmp_path, slack, SLACK_APP_TOKEN="xapp-test-token")
    env.pop("SLACK_SIGNING_SECRET")  # not needed in Socket Mode
    process = await start(env)
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        assert line.strip() == "connected to Slack over Socket Mode"
        event = {
            "type": "app_mention",
            "user": "U1",
            "channel": "C1",
            "ts": "1700000000.000100",
            "text": f"<@{BOT_USER_ID}> is there parking near the restaurant?",
        }
        payload = {
            "type": "event_callback",
            "team_id": TEAM_ID,
            "api_app_id": "A1",
            "event_id": "Ev1",
            "event_time": 1,
            "event": event,
            "authorizations": [{"user_id": BOT_USER_ID, "team_id": TEAM_ID, "is_bot": True}],
        }
        envelope = {"envelope_id": "e1", "type": "events_api", "payload": payload}
        await slack.send_envelope(envelope | {"accepts_response_payload": False})
        posts = await slack.wait_for("chat.postMessage", seconds=20)
        assert posts[0]["thread_ts"] == "1700000000.000100"
        assert "car park" in json.dumps(posts[0])
        await slack.wait_until(lambda: {"envelope_id": "e1"} in slack.acks)
    finally:
        process.terminate()
        await process.wait()


async def test_a_refused_app_token_is_a_one_line_error(tmp_path: Path, slack: FakeSlack) -> None:
    slack.fail("apps.connections.open", "invalid_auth")
    process = await start(environment(tmp_path, slack, SLACK_APP_TOKEN="xapp-wrong"))
    _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    assert "Slack refused SLACK_APP_TOKEN (invalid_auth)" in err.decode()
    assert "xapp-wrong" not in err.decode()
    assert "Traceback" not in err.decode()


def mention_body(ts: str, text: str) -> str:
    return json.dumps(
        {
            "type": "event_callback",
            "team_id": TEAM_ID,
            "api_app_id": "A1",
            "event_id": f"Ev{ts}",
            "event_time": 1,
            "event": {
                "type": "app_mention",
                "user": "U1",
                "channel": "C1",
                "ts": ts,
                "text": f"<@{BOT_USER_ID}> {text}",
            },
            "authorizations": [{"user_id": BOT_USER_ID, "team_id": TEAM_ID, "is_bot": True}],
        }
    )


def recorded_reply_id(database: Path) -> str | None:
    with contextlib.closing(sqlite3.connect(database)) as db:
        row = db.execute("SELECT reply_id FROM turns WHERE role = 'user'").fetchone()
    return None if row is None else row[0]


async def listening(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
    assert line.startswith("listening on http://0.0.0.0:"), line
    return line.split()[-1].replace("0.0.0.0", "127.0.0.1")


async def test_after_sigkill_mid_stream_the_restart_marks_the_half_streamed_message(
    tmp_path: Path, slack: FakeSlack
) -> None:
    answer = "There is a free car park behind the restaurant."
    with FakeLLMServer() as llm:
        llm.default = lambda body: Trickle("park ", every_ms=50)
        env = environment(
            tmp_path, slack, OPENAI_API_KEY="sk-test-key", OPENAI_BASE_URL=llm.base_url
        )
        database = tmp_path / "slack.sqlite3"
        body = mention_body("1700000000.000300", "is there parking near the restaurant?")
        first = await start(env, "--http", "--port", "0")
        try:
            url = await listening(first)
            async with httpx.AsyncClient() as client:
                await client.post(url, content=body, headers=signed_headers(body, SECRET))
            (started,) = await slack.wait_for("chat.startStream", seconds=20)
            for _ in range(500):
                if recorded_reply_id(database):
                    break
                await asyncio.sleep(0.02)
        finally:
            first.kill()  # SIGKILL, mid-stream
            await first.communicate()
        (half,) = slack.shown("C1", "1700000000.000300")
        assert half.get("streaming")  # what the killed run left: a stream nobody ends
        assert recorded_reply_id(database) == half["ts"]

        llm.default = lambda body: Reply(answer)
        restarted = await start(env, "--http", "--port", "0")
        try:
            await listening(restarted)
            await slack.wait_for("chat.update", lambda p: p.get("ts") == half["ts"], seconds=20)
            await slack.wait_until(
                lambda: (
                    len(slack.shown("C1", "1700000000.000300")) == 2
                    and not slack.shown("C1", "1700000000.000300")[1].get("streaming")
                ),
                seconds=20,
            )
        finally:
            restarted.terminate()
            await restarted.communicate()
        stale, answered = slack.shown("C1", "1700000000.000300")
        assert stale["ts"] == half["ts"]
        assert not stale.get("streaming")
        assert stale["text"] == "(My answer was cut short.)"
        assert answer in json.dumps(answered)
        assert started["thread_ts"] == "1700000000.000300"
