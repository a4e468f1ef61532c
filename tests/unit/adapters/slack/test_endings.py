"""Streams that end badly, through the real Slack adapter: a model that trickles forever, a
stream cut mid-answer, and the half-streamed message a dead process leaves in the thread."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bots.llm.client import OpenAIChatClient, RetryPolicy
from bots.models import Role, ThreadKey, Turn
from bots.secret import Secret
from bots.store.sqlite import SQLiteStore
from bots.turn.engine import utc_now
from tests.conftest import API_KEY
from tests.fakes.fake_llm import CutStream, FakeLLMServer, Reply, Trickle
from tests.fakes.fake_slack import TEAM_ID, FakeSlack
from tests.support.fake_time import FakeTime
from tests.unit.adapters.slack.test_adapter import (
    CHANNEL,
    USER,
    make_rig,
    mention,
    slack_persona_dir,
    text_of,
)

__all__ = ["slack_persona_dir"]  # a fixture, shared with the adapter's main tests

CUT_NOTE = "(My answer was cut short.)"
NOTICE = "My answering service is down right now."


@pytest.fixture
async def patient_client(llm_server: FakeLLMServer) -> AsyncIterator[OpenAIChatClient]:
    client = OpenAIChatClient(
        llm_server.base_url, Secret(API_KEY), timeout=60, retry=RetryPolicy(max_attempts=1)
    )
    yield client
    await client.aclose()


async def until(check: object, seconds: float = 10.0) -> None:
    for _ in range(int(seconds * 100)):
        if callable(check) and check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("it never happened")


async def test_a_trickle_that_never_ends_is_stopped_at_the_deadline(
    slack_persona_dir: Path,
    store: SQLiteStore,
    patient_client: OpenAIChatClient,
    llm_server: FakeLLMServer,
) -> None:
    time = FakeTime()
    llm_server.script(Trickle("slow ", every_ms=20))
    async for rig in make_rig(
        slack_persona_dir, store, patient_client, now=time.now, engine_sleep=time.sleep
    ):
        await rig.deliver(mention("300.1", "What are your opening hours?"))
        await rig.slack.wait_for("chat.startStream")
        await until(lambda: llm_server.trickled >= 5)
        time.advance(120)
        await asyncio.wait_for(rig.settle(), 10)
        assert len(rig.slack.made("chat.startStream")) == 1
        (shown,) = rig.shown("300.1")
        assert not shown.get("streaming")  # the stream was stopped
        text = text_of(shown)
        assert text.startswith("slow slow")
        assert CUT_NOTE in text
        assert NOTICE in text
        assert "8:00 to 18:00" in text  # the FAQ's answer after the honest notice
        appends = len(rig.slack.made("chat.appendStream"))
        sent = llm_server.trickled
        await asyncio.sleep(0.2)
        assert len(rig.slack.made("chat.appendStream")) == appends
        assert llm_server.trickled <= sent + 1  # the model's stream was closed too


async def test_a_stream_cut_mid_answer_is_marked_with_the_honest_notice(
    slack_persona_dir: Path,
    store: SQLiteStore,
    llm_client: OpenAIChatClient,
    llm_server: FakeLLMServer,
) -> None:
    llm_server.script(CutStream("There is free wifi and the password is on the receipt", 30))
    async for rig in make_rig(slack_persona_dir, store, llm_client):
        await rig.deliver(mention("300.2", "is there wifi?"))
        await asyncio.wait_for(rig.settle(), 10)
        (shown,) = rig.shown("300.2")
        text = text_of(shown)
        assert text.startswith(f"There is free wifi and the …\n\n{CUT_NOTE}")
        assert NOTICE in text


async def test_the_half_streamed_message_of_a_dead_run_is_marked_then_answered(
    slack_persona_dir: Path,
    store: SQLiteStore,
    llm_client: OpenAIChatClient,
    llm_server: FakeLLMServer,
) -> None:
    slack = FakeSlack()
    await slack.start()
    try:
        # What a run killed mid-stream leaves: the question recorded, its answer streaming
        # into a message that nobody will finish (and the store knows that message's ts).
        key = ThreadKey("slack", TEAM_ID, CHANNEL, "300.3")
        conversation = await store.ensure_conversation(key, "cafe", utc_now())
        question = Turn(Role.USER, "is there wifi?", USER, "300.3", utc_now(), 4)
        assert await store.record_incoming(conversation.id, "Ev300", question)
        dead = AsyncWebClient(token="xoxb-test", base_url=slack.base_url)
        started = await dead.chat_startStream(
            channel=CHANNEL, thread_ts="300.3", markdown_text="Yes, there is fr"
        )
        await store.record_reply_started(conversation.id, "300.3", str(started["ts"]))
        llm_server.script(Reply("Yes, there is free wifi [wifi]."))
        async for rig in make_rig(slack_persona_dir, store, llm_client, slack=slack):
            assert await rig.bot.answer_interrupted() == 1
            stale, answer = rig.shown("300.3")
            assert stale["ts"] == started["ts"]
            assert not stale.get("streaming")
            assert stale["text"] == CUT_NOTE
            assert text_of(answer).startswith("Yes, there is free wifi.")
            assert await rig.bot.answer_interrupted() == 0
    finally:
        await slack.close()
