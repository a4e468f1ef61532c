"""`bots report`'s figures: real engine turns (fake LLM) into both stores, then the report."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from bots.llm.client import OpenAIChatClient, RetryPolicy
from bots.llm.pricing import Price, PriceTable
from bots.models import FinalReply, HandoffRequested, IncomingMessage, ThreadKey, Usage
from bots.report.figures import (
    build_report,
    claim_times,
    knowledge_gaps,
    parse_since,
    read_report,
)
from bots.secret import Secret
from bots.store import open_store
from bots.store.activity import UnmatchedQuestion
from bots.turn.engine import Engine
from bots.turn.runtime import PersonaRuntime
from tests.conftest import API_KEY
from tests.contracts.test_store_postgres import SERVER_URL, _require_server, _with_search_path
from tests.fakes.fake_llm import FakeLLMServer, Reply

PRICES = PriceTable({"gpt-4o-mini": Price(0.15, 0.6)})
SCRIPT_QUESTION = "Can I book the <script>alert(1)</script> room?"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A SQLite file, or a schema of its own on the PostgreSQL server (dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bots.sqlite3'}"
        return
    await _require_server()
    schema = f"bots_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(SERVER_URL, timeout=3)
    try:
        await admin.execute(f"CREATE SCHEMA {schema}")
        yield _with_search_path(SERVER_URL, schema)
    finally:
        await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await admin.close()


async def seed(url: str, runtime: PersonaRuntime, server: FakeLLMServer, start: datetime) -> Clock:
    """Five conversations through the real engine: two answered, one handed off and claimed
    3 minutes later, one thumbs-down, one handed off by the model and never claimed. Three
    questions have no confident match ("gift cards" twice, in two wordings, and a room)."""
    store = open_store(url)
    await store.open()
    clock = Clock(start)
    client = OpenAIChatClient(
        server.base_url, Secret(API_KEY), timeout=5, retry=RetryPolicy(max_attempts=1)
    )
    engine = Engine(
        store=store,
        personas={"cafe": runtime},
        default_persona="cafe",
        llm=client,
        clock=clock,
    )
    try:

        async def say(thread: str, text: str) -> list[object]:
            message = IncomingMessage(ThreadKey("slack", "T1", "C1", thread), "U1", text, text)
            clock.advance(1)
            return [event async for event in engine.handle(message)]

        server.script(Reply("There is a free car park behind the cafe [parking]."))
        assert any(isinstance(e, FinalReply) for e in await say("a", "Is there parking?"))
        server.script(Reply("I am not sure about gift cards."))
        await say("b", "Do you sell gift cards?")
        assert any(isinstance(e, HandoffRequested) for e in await say("b", "I want a human"))
        clock.advance(3)
        await engine.claim(ThreadKey("slack", "T1", "C1", "b"), "S1")
        server.script(Reply("Yes, free wifi [wifi]."))
        await say("c", "Is there wifi?")
        await engine.feedback(ThreadKey("slack", "T1", "C1", "c"), "m", "U1", positive=False)
        server.script(Reply("Sorry, no idea about those."))
        await say("d", "do you sell giftcards")
        server.script(Reply(tool_calls=(("handoff_to_human", '{"reason": "booking"}'),)))
        assert any(isinstance(e, HandoffRequested) for e in await say("e", SCRIPT_QUESTION))
    finally:
        await engine.aclose()
        await client.aclose()
        await store.close()
    return clock


async def test_report_of_real_turns(
    database_url: str, cafe_runtime: PersonaRuntime, llm_server: FakeLLMServer
) -> None:
    start = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    clock = await seed(database_url, cafe_runtime, llm_server, start)
    clock.advance(60)
    store = open_store(database_url)
    await store.open()
    try:
        report = await read_report(store, start, clock.now, PRICES)
        earlier = await read_report(store, start - timedelta(days=1), start, PRICES)
    finally:
        await store.close()

    r = report.resolution
    assert (r.conversations, r.answered, r.handed_off, r.thumbs_down) == (5, 5, 2, 1)
    assert (r.resolved, r.rate) == (2, 0.4)  # parking and the second gift-card question
    assert report.handoffs_by_reason == (("model_tool", 1), ("user_asked", 1))
    claims = report.claims
    assert (claims.claimed, claims.median, claims.p90) == (1, timedelta(minutes=3), claims.median)
    assert (claims.unclaimed, claims.closed_unclaimed) == (1, 0)
    assert claims.longest_waiting == timedelta(minutes=60)
    assert (report.thumbs_up, report.thumbs_down) == (0, 1)
    assert (report.questions, report.matched) == (5, 2)
    assert [(g.example, g.count) for g in report.gaps] == [
        ("do you sell giftcards", 2),
        (SCRIPT_QUESTION, 1),
    ]
    [model] = report.costs
    assert model.model == "gpt-4o-mini"
    assert model.priced
    assert model.calls >= 5  # five answers, plus any hand-off summaries
    expected = PRICES.cost("gpt-4o-mini", Usage(model.prompt_tokens, model.completion_tokens))
    assert report.dollars == pytest.approx(expected)
    assert report.dollars > 0
    assert earlier.resolution.conversations == 0
    assert earlier.costs == ()


# -- the computation alone --------------------------------------------------------------------

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def unmatched(text: str, minute: int, entry: str | None = "hours") -> UnmatchedQuestion:
    return UnmatchedQuestion(text, entry, 0.1 * (minute % 3), T0 + timedelta(minutes=minute))


def test_near_duplicates_are_counted_together() -> None:
    gaps = knowledge_gaps(
        [
            unmatched("Do you sell gift cards?", 1),
            unmatched("do you sell giftcards", 2, entry=None),
            unmatched("DO YOU SELL GIFT CARDS", 3),
            unmatched("Do you have vegan wine?", 4, entry="vegan"),
            unmatched("Do you have vegan food?", 5, entry="vegan"),
            unmatched("Do you have   vegan food", 6, entry="vegan"),
            unmatched("???", 7, entry=None),
        ]
    )
    assert [(g.example, g.count, g.closest_entry) for g in gaps] == [
        ("DO YOU SELL GIFT CARDS", 3, "hours"),  # two wordings; the newest of the tied pair
        ("Do you have vegan food", 2, "vegan"),  # wine is another question
        ("???", 1, None),
        ("Do you have vegan wine?", 1, "vegan"),
    ]
    assert gaps[0].last_asked == T0 + timedelta(minutes=3)
    assert gaps[0].best_confidence == pytest.approx(0.2)
    words = ["parking", "refunds", "opening", "birthday", "allergies", "delivery", "music"]
    several = knowledge_gaps([unmatched(f"what about {word}?", n) for n, word in enumerate(words)])
    assert len(several) == len(words)
    assert len(knowledge_gaps([unmatched(f"what about {word}?", 1) for word in words], top=3)) == 3


def test_time_to_claim_percentiles() -> None:
    from bots.store.activity import HandoffTimes

    def handoff(claim_minutes: float | None, *, resolved: bool = False) -> HandoffTimes:
        claimed = T0 + timedelta(minutes=claim_minutes) if claim_minutes is not None else None
        return HandoffTimes(
            "user_asked", T0, claimed, T0 + timedelta(hours=1) if resolved else None
        )

    waits = [handoff(m) for m in range(1, 11)] + [handoff(None), handoff(None, resolved=True)]
    claims = claim_times(waits, T0 + timedelta(hours=2))
    assert claims.claimed == 10
    assert claims.median == timedelta(minutes=5.5)
    assert claims.p90 == timedelta(minutes=9.1)
    assert (claims.unclaimed, claims.closed_unclaimed) == (1, 1)
    assert claims.longest_waiting == timedelta(hours=2)
    assert dict(claims.histogram)["under 5 min"] == 4
    assert dict(claims.histogram)["5-15 min"] == 6
    assert claim_times([], T0).median is None


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("24h", timedelta(hours=24)),
        ("7d", timedelta(days=7)),
        ("30D", timedelta(days=30)),
        (" 2w ", timedelta(weeks=2)),
    ],
)
def test_since_accepts_hours_days_and_weeks(text: str, period: timedelta) -> None:
    assert parse_since(text) == period


@pytest.mark.parametrize("text", ["", "7", "d", "7 days", "-1d", "0d", "1.5d", "7m", "1y"])
def test_since_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match="such as 24h, 7d, 30d or 2w"):
        parse_since(text)


def test_retention_is_noted_only_when_the_period_reaches_past_it() -> None:
    from bots.store.activity import Activity, ConversationCounts

    empty = Activity(ConversationCounts(), (), 0, 0, 0, 0, (), ())
    until = T0 + timedelta(days=30)
    long = build_report(empty, T0, until, PRICES, retention_days=7)
    short = build_report(empty, until - timedelta(days=3), until, PRICES, retention_days=7)
    assert (long.retention_days, short.retention_days) == (7, None)
    assert long.resolution.rate is None
