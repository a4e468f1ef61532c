"""Web API calls per answer with the production timing (issue 22): a short answer is one
`chat.postMessage` and no 👀; a slow one streams, and the 👀 shows only while nothing else
does. Real bolt app, fake Slack; the model's pace is real time (short holds keep it quick)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bots.adapters.slack.stream import StreamTiming
from bots.llm.client import ChatModel, ChatRequest, Completed, ContentDelta, LLMEvent
from bots.models import Usage
from bots.store.sqlite import SQLiteStore
from bots.turn.output_guard import LEAK_WORDS
from tests.unit.adapters.slack.test_adapter import (
    copy_slack_persona,
    feedback_actions,
    make_rig,
    mention,
    text_of,
)

ANSWER = "The café has free Wi-Fi; the password is on your receipt. [wifi]"
SHOWN = "The café has free Wi-Fi; the password is on your receipt."
LONG_SHOWN = (
    "Yes: the café has free Wi-Fi for every guest, all day long, in the dining room and "
    "on the terrace; the network is called Olive and the password is printed on your receipt."
)
LONG = LONG_SHOWN + " [wifi]"
ANSWER_CALLS = {"chat.postMessage", "chat.startStream", "chat.appendStream", "chat.stopStream"}
ANSWER_CALLS |= {"chat.update", "chat.delete", "reactions.add", "reactions.remove"}


@pytest.fixture
def slack_persona_dir(tmp_path: Path) -> Path:
    return copy_slack_persona(tmp_path)


class Paced(ChatModel):
    """Waits `before` seconds, writes the answer's first words, waits `between`, the rest.

    The pause comes after LEAK_WORDS + 3 words: the output guard holds back the newest
    LEAK_WORDS - 1 while streaming, so a few words can show before it."""

    def __init__(self, *, before: float = 0.0, between: float = 0.0, text: str = ANSWER) -> None:
        self.before, self.between, self.text = before, between, text

    async def stream(self, request: ChatRequest) -> AsyncIterator[LLMEvent]:
        await asyncio.sleep(self.before)
        words = self.text.split(" ")
        for index, word in enumerate(words):
            yield ContentDelta(word if index == 0 else " " + word)
            if index == LEAK_WORDS + 3:
                await asyncio.sleep(self.between)
        yield Completed(self.text, (), Usage(10, 5), "stop")


def answer_calls(calls: list[str]) -> list[str]:
    return [c for c in calls if c in ANSWER_CALLS]


async def test_a_short_answer_is_one_post_message_and_no_reaction(
    slack_persona_dir: Path, store: SQLiteStore
) -> None:
    timing = StreamTiming()  # the production defaults
    assert timing.first_hold > 0
    assert timing.working_after > timing.first_hold
    async for rig in make_rig(slack_persona_dir, store, Paced(), timing=timing):
        await rig.deliver(mention("100.1", "is there wifi?"))
        await rig.settle()
        made = answer_calls([c.method for c in rig.slack.calls])
        assert made == ["chat.postMessage"]
        (reply,) = rig.shown("100.1")
        assert reply["text"].strip() == SHOWN
        assert "Sources: Do you have wifi?" in text_of(reply)
        assert feedback_actions(reply) == ["feedback_up", "feedback_down"]


async def test_an_answer_slower_than_the_hold_streams_everything_that_arrived(
    slack_persona_dir: Path, store: SQLiteStore
) -> None:
    timing = StreamTiming(first_hold=0.05, working_after=5.0)
    model = Paced(between=0.3, text=LONG)  # some words, then a pause longer than the hold
    async for rig in make_rig(slack_persona_dir, store, model, timing=timing):
        await rig.deliver(mention("100.1", "is there wifi?"))
        await rig.settle()
        made = answer_calls([c.method for c in rig.slack.calls])
        assert made[0] == "chat.startStream"
        assert made[-1] == "chat.stopStream"
        assert "reactions.add" not in made  # the words showed before the reaction was due
        (start,) = rig.slack.made("chat.startStream")
        # Everything written before the hold ended went out in the first call.
        assert len(start["markdown_text"].split()) >= 3
        (reply,) = rig.shown("100.1")
        assert reply["text"].strip() == LONG_SHOWN
        assert feedback_actions(reply) == ["feedback_up", "feedback_down"]


async def test_the_reaction_shows_only_while_nothing_else_does(
    slack_persona_dir: Path, store: SQLiteStore
) -> None:
    timing = StreamTiming(first_hold=0.05, working_after=0.05)
    async for rig in make_rig(slack_persona_dir, store, Paced(before=0.4), timing=timing):
        await rig.deliver(mention("100.1", "is there wifi?"))
        await rig.settle()
        made = answer_calls([c.method for c in rig.slack.calls])
        assert made == ["reactions.add", "chat.postMessage", "reactions.remove"]
        (add,), (remove,) = rig.slack.made("reactions.add"), rig.slack.made("reactions.remove")
        assert (add["name"], add["timestamp"]) == ("eyes", "100.1")
        assert (remove["name"], remove["timestamp"]) == ("eyes", "100.1")
        (reply,) = rig.shown("100.1")
        assert reply["text"].strip() == SHOWN


async def test_a_hand_off_within_the_hold_posts_only_the_notice(
    slack_persona_dir: Path, store: SQLiteStore
) -> None:
    async for rig in make_rig(slack_persona_dir, store, Paced(), timing=StreamTiming()):
        await rig.deliver(mention("100.1", "I want to talk to a human please"))
        await rig.settle()
        made = answer_calls([c.method for c in rig.slack.calls])
        assert "chat.startStream" not in made
        assert "chat.delete" not in made
        assert "reactions.add" not in made
        (notice,) = rig.shown("100.1")
        assert notice["text"]


async def test_no_reaction_while_the_first_words_are_held(
    slack_persona_dir: Path, store: SQLiteStore
) -> None:
    # The first words come at once and wait for the hold (0.5 s) when the 👀 is due (0.1 s):
    # they will show by the hold's end, so the reaction would only cost two calls.
    timing = StreamTiming(first_hold=0.5, working_after=0.1)
    model = Paced(between=0.3, text=LONG)
    async for rig in make_rig(slack_persona_dir, store, model, timing=timing):
        await rig.deliver(mention("100.1", "is there wifi?"))
        await rig.settle()
        made = answer_calls([c.method for c in rig.slack.calls])
        assert made == ["chat.postMessage"]
        (reply,) = rig.shown("100.1")
        assert reply["text"].strip() == LONG_SHOWN
