"""Abuse limits hold where it matters: under concurrency, and as the user sees them on Slack
and Discord. (tests/unit/turn/test_limits.py covers each limit through the engine, one message at a
time.) Real engine and store; the real slack-bolt and discord.py code against the fakes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bots.llm.client import ChatModel
from bots.models import FinalReply, IncomingMessage, ReplySource, ThreadKey
from bots.store.sqlite import SQLiteStore
from bots.turn.engine import Engine
from bots.turn.limits import CUT_TEXT, RATE_TEXT, Limits, LimitSettings
from bots.turn.runtime import PersonaRuntime
from tests.fakes.fake_discord import user_message
from tests.fakes.fake_llm import FakeLLMServer, Reply
from tests.support.discord_rig import running_bot
from tests.unit.adapters.discord.test_adapter import ScriptedModel
from tests.unit.adapters.slack.test_adapter import copy_slack_persona, make_rig, mention, text_of

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def engine_with(store: SQLiteStore, runtime: PersonaRuntime, settings: LimitSettings) -> Engine:
    def clock() -> datetime:
        return NOW

    return Engine(
        store=store,
        personas={"cafe": runtime},
        default_persona="cafe",
        llm=None,
        clock=clock,
        limits=Limits(settings, store, clock),
    )


async def final(engine: Engine, message: IncomingMessage) -> FinalReply:
    replies = [e async for e in engine.handle(message) if isinstance(e, FinalReply)]
    assert len(replies) == 1
    return replies[0]


@pytest.mark.security("rate-limits")
@pytest.mark.parametrize("threads", [1, 20], ids=["one-thread", "a-thread-each"])
async def test_a_burst_from_one_user_gets_exactly_the_limit(
    store: SQLiteStore, cafe_runtime: PersonaRuntime, threads: int
) -> None:
    """20 messages at once, in one thread or in 20 (the per-conversation lock does not
    serialise them then): exactly 5 are answered, the rest told to slow down; another user
    in the same burst is not held back."""
    engine = engine_with(store, cafe_runtime, LimitSettings(user_messages_per_minute=5))

    def message(n: int, user: str) -> IncomingMessage:
        key = ThreadKey("test", "w1", "c1", f"{user}-{n % threads}")
        return IncomingMessage(key=key, author_id=user, text="wifi?", message_id=f"{user}{n}")

    burst = [final(engine, message(n, "u1")) for n in range(20)]
    burst += [final(engine, message(n, "u2")) for n in range(3)]
    replies = await asyncio.gather(*burst)
    mine, theirs = replies[:20], replies[20:]
    assert sum(r.source is ReplySource.KNOWLEDGE for r in mine) == 5
    assert sum(r.text.startswith(RATE_TEXT) for r in mine) == 15
    assert all(r.source is ReplySource.KNOWLEDGE for r in theirs)


LONG = "Is there wifi at the cafe? " + "More words about my question. " * 300  # 9,027 chars


@pytest.mark.security("long-input")
async def test_slack_a_long_message_is_answered_with_the_cut_notice(
    tmp_path: Path, store: SQLiteStore
) -> None:
    """The default cap (6,000 characters; Slack takes 40,000) with a streamed answer: the
    notice is in the final message the user sees."""
    model = ScriptedModel("There is free Wi-Fi.", parts=3)
    async for rig in make_rig(copy_slack_persona(tmp_path), store, model):
        await rig.deliver(mention("100.1", LONG))
        await rig.settle()
        (answer,) = rig.shown("100.1")
        notice = CUT_TEXT.format(limit=6000)
        assert text_of(answer).count(notice) >= 1
        assert "There is free Wi-Fi." in text_of(answer)


@pytest.mark.security("long-input")
async def test_slack_a_message_under_the_cap_has_no_notice(
    tmp_path: Path, store: SQLiteStore
) -> None:
    model = ScriptedModel("There is free Wi-Fi.", parts=3)
    async for rig in make_rig(copy_slack_persona(tmp_path), store, model):
        await rig.deliver(mention("100.1", LONG[:5000]))
        await rig.settle()
        (answer,) = rig.shown("100.1")
        assert "Your message was long" not in text_of(answer)


@pytest.mark.security("long-input")
async def test_discord_a_long_message_is_answered_with_the_cut_notice(
    tmp_path: Path, store: SQLiteStore
) -> None:
    """Discord caps messages at 2,000 characters (4,000 with Nitro), under the default cap:
    an operator's lower BOTS_MAX_INPUT_CHARS is what cuts there."""
    limits = Limits(LimitSettings(max_input_chars=500), store, lambda: NOW)
    model = ScriptedModel("There is free Wi-Fi.", parts=3)
    async with running_bot(tmp_path, store, model, limits=limits) as rig:
        question = user_message(LONG[:1900])
        await rig.send(question)
        (answer,) = [
            str(m["content"])
            for m in rig.fake.messages.values()
            if m["channel_id"] == question["id"] and m["author"]["bot"]
        ]
        assert "There is free Wi-Fi." in answer
        assert CUT_TEXT.format(limit=500) in answer


@pytest.mark.security("rate-limits")
async def test_a_burst_does_not_overspend_the_daily_token_budget(
    store: SQLiteStore,
    cafe_runtime: PersonaRuntime,
    llm_client: ChatModel,
    llm_server: FakeLLMServer,
) -> None:
    """Budget 100 tokens, 110 per answer: one answer may overshoot, not ten (it did: each
    message passed the check before the first was charged). Another user's burst at the same
    time gets its own one answer, so the hold is per user."""
    llm_server.default = lambda body: Reply("Dogs are welcome [dogs].", usage=(80, 30))

    def clock() -> datetime:
        return NOW

    settings = LimitSettings(user_daily_tokens=100)
    engine = Engine(
        store=store,
        personas={"cafe": cafe_runtime},
        default_persona="cafe",
        llm=llm_client,
        clock=clock,
        limits=Limits(settings, store, clock),
    )

    def message(n: int, user: str) -> IncomingMessage:
        key = ThreadKey("test", "w1", "c1", f"{user}-t{n}")
        return IncomingMessage(key=key, author_id=user, text="my dog?", message_id=f"{user}{n}")

    burst = [final(engine, message(n, user)) for n in range(10) for user in ("u1", "u2")]
    replies = await asyncio.gather(*burst)
    answered = [r.source is ReplySource.LLM for r in replies]
    assert sum(answered[0::2]) == 1
    assert sum(answered[1::2]) == 1
    assert len(llm_server.requests) == 2
