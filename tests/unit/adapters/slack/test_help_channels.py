"""Slack help channels through slack-bolt's real event path (`message.channels`): every
top-level question is answered in its own thread without a mention; chatter, and members
naming each other, are left alone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bots.adapters.slack.adapter import SlackBot
from bots.adapters.slack.stream import StreamTiming
from bots.knowledge.files import load_knowledge
from bots.knowledge.persona import load_persona
from bots.store.sqlite import SQLiteStore
from bots.turn.engine import Engine
from bots.turn.help_channel import HelpChannels, QuestionDetector
from bots.turn.runtime import PersonaRuntime
from tests.conftest import RecordingSleep
from tests.fakes.fake_slack import FakeSlack
from tests.unit.adapters.slack.test_adapter import (
    CHANNEL,
    SECRET,
    FakeClock,
    Rig,
    copy_slack_persona,
    message,
)


@pytest.fixture
async def rig(tmp_path: Path, store: SQLiteStore) -> AsyncIterator[Rig]:
    copy_slack_persona(tmp_path)
    persona = load_persona(tmp_path / "personas" / "cafe.yaml")
    entries = load_knowledge(tmp_path / "knowledge", persona.knowledge.sets)
    personas = {"cafe": PersonaRuntime.build(persona, entries, None)}
    engine = Engine(store=store, personas=personas, default_persona="cafe", llm=None)
    slack = FakeSlack()
    await slack.start()
    bot = SlackBot(
        engine,
        personas,
        bot_token="xoxb-test",
        signing_secret=SECRET,
        default_persona="cafe",
        api_url=slack.base_url,
        sleep=RecordingSleep(),
        stream_timing=StreamTiming(interval=1.0, clock=FakeClock()),
        help_channels=HelpChannels({CHANNEL}, QuestionDetector()),
    )
    try:
        yield Rig(slack, bot, store)
    finally:
        await bot.wait_idle()
        await bot.aclose()
        await slack.close()


async def test_a_top_level_question_is_answered_in_its_own_thread(rig: Rig) -> None:
    assert await rig.deliver(message("400.1", "is there wifi?")) == 200
    await rig.settle()
    [answer] = rig.thread_posts("400.1")
    assert "Wi-Fi" in str(answer.get("text")) + str(answer.get("blocks"))
    # Redelivered by Slack: answered once.
    assert await rig.deliver(message("400.1", "is there wifi?"), retry=1) == 200
    await rig.settle()
    assert len(rig.thread_posts("400.1")) == 1


async def test_chatter_and_members_talking_to_each_other_are_left_alone(rig: Rig) -> None:
    for ts, text in [
        ("401.1", "thanks all!"),
        ("401.2", "good morning :wave:"),
        ("401.3", "<@U0BOB> did you try the password on the receipt?"),
    ]:
        assert await rig.deliver(message(ts, text)) == 200
    await rig.settle()
    assert rig.slack.posts(CHANNEL) == []
    assert rig.slack.made("reactions.add") == []  # not even the working reaction


async def test_other_channels_still_need_a_mention(rig: Rig) -> None:
    elsewhere = message("402.1", "is there wifi?")
    elsewhere["event"]["channel"] = "C0ELSEWHERE"
    assert await rig.deliver(elsewhere) == 200
    await rig.settle()
    assert rig.slack.posts() == []
