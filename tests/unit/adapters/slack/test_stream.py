"""Streamed answers in Slack: chat.*Stream where the workspace has them, post + throttled
chat.update where it does not; the final message is always the whole reply, split within
Slack's limits, with its sources and the feedback buttons. Real bolt app, fake Slack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bots.errors import LLMStreamCut
from bots.llm.client import ChatModel, ChatRequest, Completed, ContentDelta, LLMEvent, ToolCall
from bots.models import Usage
from bots.store.sqlite import SQLiteStore
from tests.conftest import RecordingSleep
from tests.fakes.fake_slack import TEAM_ID
from tests.unit.adapters.slack.test_adapter import (
    CHANNEL,
    USER,
    FakeClock,
    copy_slack_persona,
    feedback_actions,
    make_rig,
    mention,
    text_of,
)


@pytest.fixture
def slack_persona_dir(tmp_path: Path) -> Path:
    return copy_slack_persona(tmp_path)


ANSWER = "The café has **free Wi-Fi**; the password is on your receipt. [wifi]"
SHOWN = "The café has **free Wi-Fi**; the password is on your receipt."


class PiecesModel(ChatModel):
    """Streams `text` in `size`-character pieces, then optionally a tool call or a cut."""

    def __init__(
        self, text: str, size: int = 4, *, tool: bool = False, cut_after: int | None = None
    ) -> None:
        self.text, self.size, self.tool, self.cut_after = text, size, tool, cut_after

    async def stream(self, request: ChatRequest) -> AsyncIterator[LLMEvent]:
        pieces = [self.text[i : i + self.size] for i in range(0, len(self.text), self.size)]
        for number, piece in enumerate(pieces):
            if self.cut_after is not None and number == self.cut_after:
                raise LLMStreamCut("cut", "".join(pieces[:number]))
            yield ContentDelta(piece)
        calls: tuple[ToolCall, ...] = ()
        if self.tool:
            call = ToolCall("handoff_to_human", '{"reason": "refund"}')
            calls = (call,)
            yield call
        yield Completed(self.text, calls, Usage(10, 5), "tool_calls" if self.tool else "stop")


def streamed_text(calls: list[dict[str, object]]) -> str:
    return "".join(str(c.get("markdown_text") or "") for c in calls) + "".join(
        str(chunk.get("text", ""))  # type: ignore[union-attr]
        for c in calls
        for chunk in c.get("chunks") or []  # type: ignore[union-attr]
    )


async def test_the_stream_api_carries_the_answer_and_stop_adds_sources_and_buttons(
    slack_persona_dir: Path, store: SQLiteStore
) -> None:
    clock = FakeClock(step=0.25)  # every reading a quarter second later: ~4 pieces a second
    model = PiecesModel(ANSWER)
    async for rig in make_rig(slack_persona_dir, store, model, clock=clock):
        await rig.deliver(mention("100.1", "is there wifi?"))
        await rig.settle()
        slack = rig.slack
        (start,) = slack.made("chat.startStream")
        assert (start["channel"], start["thread_ts"]) == (CHANNEL, "100.1")
        assert (start["recipient_user_id"], start["recipient_team_id"]) == (USER, TEAM_ID)
        # The first words go out at once (the engine holds back what may still be a marker).
        assert start["markdown_text"]
        assert ANSWER.startswith(start["markdown_text"])
        assert len(start["markdown_text"]) <= 8
        appends = slack.made("chat.appendStream")
        pieces = len(SHOWN) // 4
        assert 1 <= len(appends) <= pieces // 3  # coalesced: at most one a second
        (stop,) = slack.made("chat.stopStream")
        calls = [start, *appends, stop]
        assert streamed_text(calls).strip() == SHOWN
        assert [b["type"] for b in stop["blocks"]] == ["context", "actions"]
        assert slack.posts() == []
        assert slack.made("chat.update") == []
        (reply,) = rig.shown("100.1")
        assert reply["text"].strip() == SHOWN
        assert "Sources: Do you have wifi?" in text_of(reply)
        assert feedback_actions(reply) == ["feedback_up", "feedback_down"]


@pytest.mark.parametrize("refusal", ["unknown_method", "not_allowed"])
async def test_without_the_stream_api_a_post_is_updated_at_a_throttled_rate(
    slack_persona_dir: Path, store: SQLiteStore, refusal: str
) -> None:
    clock = FakeClock(step=0.1)  # ten pieces a second
    text = "Word " * 300  # 1,500 characters in 375 pieces
    async for rig in make_rig(slack_persona_dir, store, PiecesModel(text), clock=clock):
        rig.slack.streaming_error = refusal
        await rig.deliver(mention("100.1", "tell me a story"))
        await rig.settle()
        slack = rig.slack
        assert slack.failed("chat.startStream") == [refusal]
        (first,) = slack.posts(CHANNEL)
        assert first["text"] == "Word"
        updates = slack.made("chat.update")
        # ~37 seconds of writing at one update a second at most, plus the final one.
        assert 20 <= len(updates) <= 39
        (reply,) = rig.shown("100.1")
        assert reply["ts"] == first["posted_ts"]
        assert reply["text"].strip() == text.strip()
        assert feedback_actions(reply) == ["feedback_up", "feedback_down"]

        # The workspace said it has no streaming: the next answer does not ask again.
        await rig.deliver(mention("100.2", "tell me a story"))
        await rig.settle()
        assert len(slack.made("chat.startStream")) == 1
        assert len(rig.shown("100.2")) == 1


async def test_a_rate_limited_update_waits_for_retry_after(
    slack_persona_dir: Path, store: SQLiteStore
) -> None:
    clock = FakeClock(step=0.5)
    sleep = RecordingSleep()
    text = "Word " * 40
    model = PiecesModel(text)
    async for rig in make_rig(slack_persona_dir, store, model, clock=clock, sleep=sleep):
        slack = rig.slack
        slack.streaming_error = "unknown_method"
        slack.fail("chat.update", "ratelimited", retry_after=30)
        await rig.deliver(mention("100.1", "tell me a story"))
        await rig.settle()
        # The interim update was refused, and nothing else was tried for 30 s (60 pieces):
        # the next call is the final one, which gets through.
        assert slack.failed("chat.update") == ["ratelimited"]
        assert len(slack.made("chat.update")) == 2
        assert sleep.calls == []  # interim updates skip a beat rather than wait
        (reply,) = rig.shown("100.1")
        assert reply["text"].strip() == text.strip()


async def test_the_final_update_is_retried_after_retry_after(
    slack_persona_dir: Path, store: SQLiteStore
) -> None:
    sleep = RecordingSleep()
    model = PiecesModel(ANSWER, size=100)  # one piece: no interim update
    async for rig in make_rig(slack_persona_dir, store, model, sleep=sleep, streaming=False):
        rig.slack.fail("chat.update", "ratelimited", retry_after=7)
        await rig.deliver(mention("100.1", "is there wifi?"))
        await rig.settle()
        assert sleep.calls == [7.0]
        (reply,) = rig.shown("100.1")
        assert "Sources: Do you have wifi?" in text_of(reply)


@pytest.mark.parametrize("streaming", [True, False], ids=["stream-api", "post-and-update"])
async def test_a_long_streamed_answer_ends_split_with_buttons_on_the_last_piece(
    slack_persona_dir: Path, store: SQLiteStore, streaming: bool
) -> None:
    paragraph = "The cafe has a long and winding story to tell. " * 20
    text = "\n\n".join([paragraph] * 8)  # ~7,500 characters
    clock = FakeClock(step=0.05)
    model = PiecesModel(text, size=40)
    async for rig in make_rig(slack_persona_dir, store, model, streaming=streaming, clock=clock):
        await rig.deliver(mention("100.1", "tell me the story"))
        await rig.settle()
        shown = rig.shown("100.1")
        assert len(shown) >= 3
        assert all(len(m["text"]) <= 3000 for m in shown)
        joined = " ".join(m["text"] for m in shown)
        assert joined.count("winding story") == 160
        assert [bool(feedback_actions(m)) for m in shown] == [False] * (len(shown) - 1) + [True]
        for call in rig.slack.made("chat.appendStream") + rig.slack.made("chat.update"):
            assert len(str(call.get("markdown_text") or call.get("text") or "")) <= 3000


@pytest.mark.parametrize("streaming", [True, False], ids=["stream-api", "post-and-update"])
async def test_a_hand_off_after_streamed_text_removes_the_partial_answer(
    slack_persona_dir: Path, store: SQLiteStore, streaming: bool
) -> None:
    model = PiecesModel("Let me get someone for you.", tool=True)
    async for rig in make_rig(slack_persona_dir, store, model, streaming=streaming):
        await rig.deliver(mention("100.1", "I need a refund"))
        await rig.settle()
        (notice,) = rig.shown("100.1")
        assert "A person from our team will take it from here." in notice["text"]
        assert rig.slack.made("chat.delete")
        assert len(rig.slack.posts("C0SUPPORT")) == 1


@pytest.mark.parametrize("streaming", [True, False], ids=["stream-api", "post-and-update"])
async def test_a_cut_stream_is_replaced_by_the_knowledge_answer(
    slack_persona_dir: Path, store: SQLiteStore, streaming: bool
) -> None:
    model = PiecesModel("Our wifi network is called Cafe-Guest and", cut_after=3)
    async for rig in make_rig(slack_persona_dir, store, model, streaming=streaming):
        await rig.deliver(mention("100.1", "is there wifi?"))
        await rig.settle()
        (reply,) = rig.shown("100.1")
        assert "free Wi-Fi; the password is on your receipt." in text_of(reply)
        assert "Cafe-Guest" not in text_of(reply)
        assert "Sources: Do you have wifi?" in text_of(reply)


async def test_rating_a_streamed_answer_keeps_its_text(
    slack_persona_dir: Path, store: SQLiteStore
) -> None:
    from tests.unit.adapters.slack.test_adapter import FEEDBACK_UP_ACTION, feedback_click

    async for rig in make_rig(slack_persona_dir, store, PiecesModel(ANSWER)):
        await rig.deliver(mention("100.1", "is there wifi?"))
        await rig.settle()
        (streamed,) = rig.shown("100.1")
        answer = streamed | {"posted_ts": streamed["ts"], "channel": CHANNEL}
        await rig.deliver(feedback_click(FEEDBACK_UP_ACTION, answer))
        await rig.settle()
        (update,) = rig.slack.made("chat.update")
        assert update["blocks"][0] == {"type": "markdown", "text": streamed["text"]}
        assert "Thanks for the feedback" in text_of(update)
        assert feedback_actions(update) == []
        (shown,) = rig.shown("100.1")
        assert SHOWN in text_of(shown)
