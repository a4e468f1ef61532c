"""Slack API errors and restarts: rate limits retried after Retry-After, msg_too_long re-split,
missing channels reported in plain words without losing a hand-off, and the support message
still updated by a new process. Real bolt app, fake Slack Web API."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bots.llm.client import ChatModel, ChatRequest, Completed, LLMEvent
from bots.models import ConversationState, ThreadKey, Usage
from bots.store.sqlite import SQLiteStore
from tests.conftest import RecordingSleep
from tests.fakes.fake_slack import TEAM_ID, FakeSlack
from tests.unit.adapters.slack.test_adapter import (
    CHANNEL,
    STAFF,
    SUPPORT,
    copy_slack_persona,
    feedback_actions,
    make_rig,
    mention,
    message,
    text_of,
)

THREAD = ThreadKey("slack", TEAM_ID, CHANNEL, "100.1")


@pytest.fixture
def slack_persona_dir(tmp_path: Path) -> Path:
    return copy_slack_persona(tmp_path)


class WholeModel(ChatModel):
    """Answers with `text` in one go, without streaming pieces."""

    def __init__(self, text: str) -> None:
        self.text = text

    async def stream(self, request: ChatRequest) -> AsyncIterator[LLMEvent]:
        yield Completed(self.text, (), Usage(10, 5), "stop")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    assert [r for r in caplog.records if r.exc_info] == []


async def test_a_rate_limited_reply_is_sent_after_retry_after(
    slack_persona_dir: Path, store: SQLiteStore
) -> None:
    sleep = RecordingSleep()
    async for rig in make_rig(slack_persona_dir, store, None, sleep=sleep):
        rig.slack.fail("chat.postMessage", "ratelimited", retry_after=5, channel=CHANNEL)
        await rig.deliver(mention("100.1", "is there wifi?"))
        await rig.settle()
        assert rig.slack.failed("chat.postMessage") == ["ratelimited"]
        assert sleep.calls == [5.0]
        (reply,) = rig.shown("100.1")
        assert "free Wi-Fi" in text_of(reply)


async def test_a_5xx_on_the_reply_is_retried_after_a_back_off_and_shown_once(
    slack_persona_dir: Path, store: SQLiteStore
) -> None:
    sleep = RecordingSleep()
    async for rig in make_rig(slack_persona_dir, store, None, sleep=sleep):
        rig.slack.fail("chat.postMessage", "bad gateway", times=2, status=502, channel=CHANNEL)
        await rig.deliver(mention("100.1", "is there wifi?"))
        await rig.settle()
        assert rig.slack.failed("chat.postMessage") == ["http_502", "http_502"]
        assert sleep.calls == [0.5, 1.0]
        (reply,) = rig.shown("100.1")
        assert "free Wi-Fi" in text_of(reply)


async def test_a_lasting_5xx_is_logged_in_plain_words(
    slack_persona_dir: Path, store: SQLiteStore, caplog: pytest.LogCaptureFixture
) -> None:
    async for rig in make_rig(slack_persona_dir, store, None):
        rig.slack.fail("chat.postMessage", "down", times=3, status=503, channel=CHANNEL)
        with caplog.at_level(logging.WARNING):
            await rig.deliver(mention("100.1", "is there wifi?"))
            await rig.settle()
        assert "Web API kept failing (HTTP 5xx) after retries" in caplog.text
        no_tracebacks(caplog)


async def test_a_lasting_rate_limit_is_logged_in_plain_words(
    slack_persona_dir: Path, store: SQLiteStore, caplog: pytest.LogCaptureFixture
) -> None:
    sleep = RecordingSleep()
    async for rig in make_rig(slack_persona_dir, store, None, sleep=sleep):
        rig.slack.fail("chat.postMessage", "ratelimited", times=10, retry_after=2, channel=CHANNEL)
        with caplog.at_level(logging.WARNING):
            await rig.deliver(mention("100.1", "is there wifi?"))
            await rig.settle()
        assert sleep.calls == [2.0, 2.0, 2.0]  # three retries, then given up
        assert "kept answering `ratelimited` (rate limit)" in caplog.text
        no_tracebacks(caplog)


@pytest.mark.parametrize("streaming", [True, False], ids=["update-fallback", "no-deltas"])
async def test_msg_too_long_is_split_and_sent_again(
    slack_persona_dir: Path, store: SQLiteStore, streaming: bool
) -> None:
    text = "\n\n".join(f"Paragraph {n}: " + "the cafe story goes on. " * 20 for n in range(5))
    if streaming:
        from tests.unit.adapters.slack.test_stream import PiecesModel

        model: ChatModel = PiecesModel(text, size=len(text))  # one piece, then the final
        method = "chat.update"
    else:
        model, method = WholeModel(text), "chat.postMessage"
    async for rig in make_rig(slack_persona_dir, store, model, streaming=False):
        rig.slack.fail(method, "msg_too_long", channel=CHANNEL)
        await rig.deliver(mention("100.1", "tell me the story"))
        await rig.settle()
        assert rig.slack.failed(method) == ["msg_too_long"]
        shown = rig.shown("100.1")
        assert len(shown) >= 2
        joined = "\n".join(m["text"] for m in shown)
        assert all(f"Paragraph {n}:" in joined for n in range(5))
        assert joined.count("the cafe story goes on.") == 100
        assert [bool(feedback_actions(m)) for m in shown] == [False] * (len(shown) - 1) + [True]


async def test_a_reply_where_the_bot_is_not_invited_is_logged_in_plain_words(
    slack_persona_dir: Path, store: SQLiteStore, caplog: pytest.LogCaptureFixture
) -> None:
    async for rig in make_rig(slack_persona_dir, store, None):
        rig.slack.fail("chat.postMessage", "not_in_channel", channel=CHANNEL)
        with caplog.at_level(logging.WARNING):
            assert await rig.deliver(mention("100.1", "is there wifi?")) == 200
            await rig.settle()
        assert f"the bot is not a member of channel {CHANNEL}: /invite it there" in caplog.text
        no_tracebacks(caplog)


async def test_a_missing_support_channel_loses_no_hand_off(
    slack_persona_dir: Path, store: SQLiteStore, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    async for rig in make_rig(slack_persona_dir, store, None, now=clock):
        rig.slack.fail("chat.postMessage", "channel_not_found", channel=SUPPORT)
        with caplog.at_level(logging.WARNING):
            await rig.deliver(mention("100.1", "I want a human"))
            await rig.settle()
        (told,) = rig.shown("100.1")
        assert "A person from our team will take it from here." in told["text"]
        assert f"channel {SUPPORT} does not exist or the bot cannot see it" in caplog.text
        assert "NOT posted to the support channel" in caplog.text
        no_tracebacks(caplog)
        conversation = await store.get_conversation(THREAD)
        assert conversation is not None
        assert conversation.state is ConversationState.WAITING_FOR_HUMAN

        # Once the channel works, the reminder posts the whole hand-off, with its buttons.
        clock.now += timedelta(minutes=16)
        await rig.bot.tick()
        (support,) = rig.slack.shown(SUPPORT)
        assert "a person was asked for" in text_of(support)
        assert "handoff_claim" in str(support["blocks"])


async def test_the_support_message_is_updated_after_a_restart(
    slack_persona_dir: Path, store: SQLiteStore
) -> None:
    slack = FakeSlack()
    await slack.start()
    clock = Clock()
    try:
        async for first in make_rig(slack_persona_dir, store, None, slack=slack, now=clock):
            await first.deliver(mention("100.1", "I want a human"))
            await first.settle()
        (support,) = slack.posts(SUPPORT)

        # A new process: new store connection, engine and bot over the same SQLite file.
        reopened = SQLiteStore(store.path)
        await reopened.open()
        try:
            async for second in make_rig(slack_persona_dir, reopened, None, slack=slack, now=clock):
                clock.now += timedelta(minutes=16)
                await second.bot.tick()
                (reminder,) = [p for p in slack.posts(SUPPORT) if p.get("thread_ts")]
                assert reminder["thread_ts"] == support["posted_ts"]
                assert "Still unclaimed after 16 min" in reminder["text"]

                await second.deliver(message("100.2", "Hi, I'm on it", "100.1", user=STAFF))
                await second.settle()
                (update,) = slack.made("chat.update")
                assert (update["channel"], update["ts"]) == (SUPPORT, support["posted_ts"])
                assert f"Claimed by <@{STAFF}>" in text_of(update)
                history = slack.made("conversations.history")
                assert history[0]["oldest"] == "100.1"  # only since the thread began
        finally:
            await reopened.close()
    finally:
        await slack.close()
