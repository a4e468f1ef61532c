"""Cost and abuse limits through the real engine: a SQLite store, the fake LLM over HTTP, and
an injected clock (budgets, the UTC day, the queue, the message rate, the input length)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bots.errors import ConfigError
from bots.llm.client import ChatModel, ChatRequest, Completed, ContentDelta, LLMEvent
from bots.models import (
    EngineEvent,
    FinalReply,
    HandoffReason,
    HandoffRequested,
    IncomingMessage,
    ReplySource,
    ThreadKey,
    Usage,
    UsageEntry,
)
from bots.store.sqlite import SQLiteStore
from bots.turn.engine import Engine
from bots.turn.limits import (
    BUSY_TEXT,
    CHANNEL_BUDGET_TEXT,
    RATE_TEXT,
    USER_BUDGET_TEXT,
    Limits,
    LimitSettings,
    channel_id,
)
from bots.turn.runtime import PersonaRuntime
from tests.fakes.fake_llm import FakeLLMServer, Reply

OFFER = "Shall I get a person?"
_ids = itertools.count(1)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2024, 5, 1, 22, 0, tzinfo=UTC))


def message(
    text: str, *, user: str = "u1", thread: str = "t1", channel: str = "c1"
) -> IncomingMessage:
    return IncomingMessage(
        key=ThreadKey("test", "w1", channel, thread),
        author_id=user,
        text=text,
        message_id=f"m{next(_ids)}",
    )


async def run(engine: Engine, msg: IncomingMessage) -> list[EngineEvent]:
    return [event async for event in engine.handle(msg)]


def reply_of(events: list[EngineEvent]) -> FinalReply:
    replies = [e for e in events if isinstance(e, FinalReply)]
    assert len(replies) == 1, events
    return replies[0]


def make_engine(
    store: SQLiteStore,
    runtime: PersonaRuntime,
    llm: ChatModel | None,
    clock: Clock,
    **limits: int,
) -> Engine:
    return Engine(
        store=store,
        personas={"cafe": runtime},
        default_persona="cafe",
        llm=llm,
        clock=clock,
        limits=Limits(LimitSettings(**limits), store, clock),
    )


# --- daily token budgets ----------------------------------------------------------------


@pytest.mark.security("rate-limits")
async def test_spent_user_budget_gets_a_friendly_message_and_a_person_on_yes(
    store: SQLiteStore,
    cafe_runtime: PersonaRuntime,
    llm_client: ChatModel,
    llm_server: FakeLLMServer,
    clock: Clock,
) -> None:
    engine = make_engine(store, cafe_runtime, llm_client, clock, user_daily_tokens=100)
    llm_server.script(Reply("Dogs are welcome on the terrace [dogs].", usage=(80, 30)))
    first = reply_of(await run(engine, message("Can I bring my dog?")))
    assert first.source is ReplySource.LLM
    assert await store.usage_on(clock.now.date(), user_id="u1") == Usage(80, 30)

    refused = reply_of(await run(engine, message("Is there parking?")))
    assert refused.text == f"{USER_BUDGET_TEXT} {OFFER}"
    assert refused.source is ReplySource.FALLBACK
    assert len(llm_server.requests) == 1  # the model was not asked

    events = await run(engine, message("yes please"))
    handoffs = [e for e in events if isinstance(e, HandoffRequested)]
    assert [h.reason for h in handoffs] == [HandoffReason.LIMIT]


@pytest.mark.security("rate-limits")
async def test_budget_starts_again_on_the_next_utc_day(
    store: SQLiteStore,
    cafe_runtime: PersonaRuntime,
    llm_client: ChatModel,
    llm_server: FakeLLMServer,
    clock: Clock,
) -> None:
    engine = make_engine(store, cafe_runtime, llm_client, clock, user_daily_tokens=50)
    llm_server.script(Reply("Parking is free [parking].", usage=(60, 10)))
    await run(engine, message("Is there parking?"))
    clock.now = datetime(2024, 5, 1, 23, 59, 59, tzinfo=UTC)
    assert reply_of(await run(engine, message("wifi?"))).text.startswith(USER_BUDGET_TEXT)
    # 20:30 in New York is already the next day in UTC: the budget is fresh.
    clock.now = datetime(2024, 5, 1, 20, 30, tzinfo=ZoneInfo("America/New_York"))
    assert reply_of(await run(engine, message("wifi?"))).source is ReplySource.LLM


@pytest.mark.security("rate-limits")
async def test_budget_holds_across_a_restart(
    db_path: Path,
    cafe_runtime: PersonaRuntime,
    llm_client: ChatModel,
    llm_server: FakeLLMServer,
    clock: Clock,
) -> None:
    llm_server.script(Reply("Parking is free [parking].", usage=(60, 10)))
    first = SQLiteStore(db_path)
    await first.open()
    await run(
        make_engine(first, cafe_runtime, llm_client, clock, user_daily_tokens=50),
        message("Is there parking?"),
    )
    await first.close()

    again = SQLiteStore(db_path)
    await again.open()
    try:
        engine = make_engine(again, cafe_runtime, llm_client, clock, user_daily_tokens=50)
        refused = reply_of(await run(engine, message("wifi?", thread="t2")))
    finally:
        await again.close()
    assert refused.text.startswith(USER_BUDGET_TEXT)
    assert len(llm_server.requests) == 1


@pytest.mark.security("rate-limits")
async def test_channel_budget_covers_every_user_of_the_channel(
    store: SQLiteStore,
    cafe_runtime: PersonaRuntime,
    llm_client: ChatModel,
    llm_server: FakeLLMServer,
    clock: Clock,
) -> None:
    engine = make_engine(store, cafe_runtime, llm_client, clock, channel_daily_tokens=100)
    llm_server.script(Reply("Parking is free [parking].", usage=(90, 20)))
    await run(engine, message("Is there parking?", user="alice"))
    refused = reply_of(await run(engine, message("wifi?", user="bob", thread="t2")))
    assert refused.text == f"{CHANNEL_BUDGET_TEXT} {OFFER}"
    elsewhere = reply_of(await run(engine, message("wifi?", user="bob", channel="c2")))
    assert elsewhere.source is ReplySource.LLM
    key = ThreadKey("test", "w1", "c1", "t1")
    assert await store.usage_on(clock.now.date(), channel=channel_id(key)) == Usage(90, 20)


async def test_usage_is_estimated_when_the_server_reports_none(
    store: SQLiteStore,
    cafe_runtime: PersonaRuntime,
    llm_client: ChatModel,
    llm_server: FakeLLMServer,
    clock: Clock,
) -> None:
    engine = make_engine(store, cafe_runtime, llm_client, clock)
    llm_server.script(Reply("Parking is free [parking].", send_usage=False))
    await run(engine, message("Is there parking?"))
    spent = await store.usage_on(clock.now.date(), user_id="u1")
    assert spent.prompt_tokens > 50  # the system prompt alone is longer than that
    assert spent.completion_tokens > 0


# --- the model-call queue ----------------------------------------------------------------


class HeldModel:
    """A model whose every call waits until the test lets it answer."""

    def __init__(self) -> None:
        self.started = 0
        self.release = asyncio.Event()
        self.calls_started = asyncio.Condition()

    async def stream(self, request: ChatRequest) -> AsyncIterator[LLMEvent]:
        async with self.calls_started:
            self.started += 1
            self.calls_started.notify_all()
        await self.release.wait()
        yield ContentDelta("Parking is free.")
        yield Completed("Parking is free.", (), Usage(10, 5), "stop")

    async def wait_for_calls(self, count: int) -> None:
        async with self.calls_started:
            await self.calls_started.wait_for(lambda: self.started >= count)


async def test_full_queue_gets_a_friendly_message_and_the_offer(
    store: SQLiteStore, cafe_runtime: PersonaRuntime, clock: Clock
) -> None:
    model = HeldModel()
    limits = Limits(LimitSettings(llm_concurrency=1, llm_queue=1), store, clock)
    engine = Engine(
        store=store,
        personas={"cafe": cafe_runtime},
        default_persona="cafe",
        llm=model,
        clock=clock,
        limits=limits,
    )
    first = asyncio.create_task(run(engine, message("parking?", thread="a")))
    await model.wait_for_calls(1)
    queued = asyncio.create_task(run(engine, message("parking?", thread="b")))
    # The second call waits in the queue (it is not refused); yield until it is there.
    while limits.queued_llm_calls < 1:  # noqa: ASYNC110 - no event to wait on; sleep(0) only yields
        await asyncio.sleep(0)
    refused = reply_of(await run(engine, message("parking?", thread="c")))
    assert refused.text == f"{BUSY_TEXT} {OFFER}"
    assert refused.source is ReplySource.FALLBACK
    model.release.set()
    assert reply_of(await first).source is ReplySource.LLM
    assert reply_of(await queued).source is ReplySource.LLM
    assert model.started == 2
    # The slots are free again.
    assert reply_of(await run(engine, message("parking?", thread="d"))).source is ReplySource.LLM


async def test_a_yes_after_the_busy_message_hands_off(
    store: SQLiteStore, cafe_runtime: PersonaRuntime, clock: Clock
) -> None:
    model = HeldModel()
    engine = make_engine(store, cafe_runtime, model, clock, llm_concurrency=1, llm_queue=0)
    first = asyncio.create_task(run(engine, message("parking?", thread="a")))
    await model.wait_for_calls(1)
    assert reply_of(await run(engine, message("parking?", thread="b"))).text.startswith(BUSY_TEXT)
    events = await run(engine, message("yes", thread="b"))
    assert [e.reason for e in events if isinstance(e, HandoffRequested)] == [HandoffReason.LIMIT]
    model.release.set()
    await first


# --- message rate and input length ---------------------------------------------------------


@pytest.mark.security("rate-limits")
async def test_rate_limit_per_user_per_minute(
    store: SQLiteStore, cafe_runtime: PersonaRuntime, clock: Clock
) -> None:
    engine = make_engine(store, cafe_runtime, None, clock, user_messages_per_minute=2)
    start = clock.now
    for seconds in (0, 10):
        clock.now = start + timedelta(seconds=seconds)
        assert reply_of(await run(engine, message("wifi?"))).source is ReplySource.KNOWLEDGE
    clock.now = start + timedelta(seconds=20)
    refused = reply_of(await run(engine, message("wifi?")))
    assert refused.text == f"{RATE_TEXT} {OFFER}"
    # Someone else is not held back by it.
    other = reply_of(await run(engine, message("wifi?", user="u2", thread="t2")))
    assert other.source is ReplySource.KNOWLEDGE
    # A minute after the first two, the user may write again.
    clock.now = start + timedelta(seconds=71)
    assert reply_of(await run(engine, message("wifi?"))).source is ReplySource.KNOWLEDGE


@pytest.mark.security("long-input")
async def test_long_input_is_cut_with_a_notice_and_stored_whole(
    store: SQLiteStore,
    cafe_runtime: PersonaRuntime,
    llm_client: ChatModel,
    llm_server: FakeLLMServer,
    clock: Clock,
) -> None:
    engine = make_engine(store, cafe_runtime, llm_client, clock, max_input_chars=200)
    text = "Is there parking? " + "and more words " * 60
    llm_server.script(Reply("Parking is free [parking]."))
    reply = reply_of(await run(engine, message(text)))
    sent = llm_server.requests[-1].body["messages"][-1]["content"]
    assert sent == text[:200]
    assert reply.text.endswith("(Your message was long, so I only read its first 200 characters.)")
    conversation = await store.get_conversation(ThreadKey("test", "w1", "c1", "t1"))
    assert conversation is not None
    stored = await store.recent_turns(conversation.id, 10)
    assert stored[0].text == text


@pytest.mark.security("long-input")
async def test_short_input_has_no_notice(
    store: SQLiteStore, cafe_runtime: PersonaRuntime, clock: Clock
) -> None:
    engine = make_engine(store, cafe_runtime, None, clock, max_input_chars=200)
    assert "long" not in reply_of(await run(engine, message("wifi?"))).text


# --- settings ---------------------------------------------------------------------------


def test_limit_settings_from_env() -> None:
    settings = LimitSettings.from_env(
        {
            "BOTS_USER_DAILY_TOKENS": "50_000",
            "BOTS_CHANNEL_DAILY_TOKENS": "400000",
            "BOTS_LLM_CONCURRENCY": "4",
            "BOTS_LLM_QUEUE": "0",
            "BOTS_USER_MESSAGES_PER_MINUTE": "6",
            "BOTS_MAX_INPUT_CHARS": "2000",
        }
    )
    assert settings == LimitSettings(50_000, 400_000, 4, 0, 6, 2000)
    assert LimitSettings.from_env({}) == LimitSettings()


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("BOTS_USER_DAILY_TOKENS", "lots", "must be a whole number"),
        ("BOTS_LLM_CONCURRENCY", "0", "must be at least 1"),
        ("BOTS_LLM_QUEUE", "-1", "must be at least 0"),
        ("BOTS_MAX_INPUT_CHARS", "10", "must be at least 100"),
    ],
)
def test_bad_limit_settings_say_what_is_wrong(name: str, value: str, words: str) -> None:
    with pytest.raises(ConfigError, match=f"{name} {words}"):
        LimitSettings.from_env({name: value})


@pytest.mark.security("rate-limits")
async def test_staff_are_held_to_the_channel_budget_only(
    store: SQLiteStore, cafe_runtime: PersonaRuntime, clock: Clock
) -> None:
    engine = make_engine(store, cafe_runtime, None, clock, user_daily_tokens=1)
    await store.record_usage(
        UsageEntry(clock.now, "boss", "x", "x", "m", Usage(5, 5)),
    )
    staff = IncomingMessage(
        ThreadKey("test", "w1", "c1", "t1"),
        "boss",
        "wifi?",
        "s1",
        is_staff=True,
        addressed_to_bot=True,
    )
    assert reply_of(await run(engine, staff)).source is ReplySource.KNOWLEDGE


async def test_a_model_hand_off_is_charged_too(
    store: SQLiteStore,
    cafe_runtime: PersonaRuntime,
    llm_client: ChatModel,
    llm_server: FakeLLMServer,
    clock: Clock,
) -> None:
    engine = make_engine(store, cafe_runtime, llm_client, clock)
    tool = ("handoff_to_human", '{"reason": "refund"}')
    llm_server.script(Reply("", tool_calls=(tool,), usage=(70, 9)))
    events = await run(engine, message("I want my money back for last week"))
    assert [e.reason for e in events if isinstance(e, HandoffRequested)] == [
        HandoffReason.MODEL_TOOL
    ]
    assert await store.usage_on(clock.now.date(), user_id="u1") == Usage(70, 9)
