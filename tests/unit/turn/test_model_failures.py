"""A failing model server and a model that does not know: counted, honest, no flood of hand-offs."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from bots.llm.client import OpenAIChatClient
from bots.llm.outages import ServerFailures
from bots.models import (
    EngineEvent,
    FinalReply,
    HandoffReason,
    HandoffRequested,
    IncomingMessage,
    ReplySource,
    ThreadKey,
)
from bots.ops.metrics import PrometheusTelemetry
from bots.store.sqlite import SQLiteStore
from bots.turn.engine import Engine
from bots.turn.runtime import PersonaRuntime
from tests.fakes.fake_llm import FakeLLMServer, Reply, ServerError

START = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
_ids = itertools.count(1)
UNKNOWN_QUESTION = "can you repair my motorbike gearbox?"


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def say(text: str, thread: str = "t1") -> IncomingMessage:
    return IncomingMessage(ThreadKey("test", "w1", "c1", thread), "u1", text, f"m{next(_ids)}")


async def run(engine: Engine, message: IncomingMessage) -> list[EngineEvent]:
    return [event async for event in engine.handle(message)]


def last(events: list[EngineEvent]) -> EngineEvent:
    assert events, "no events"
    return events[-1]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def telemetry() -> PrometheusTelemetry:
    return PrometheusTelemetry()


@pytest.fixture
def failures() -> ServerFailures:
    return ServerFailures()


@pytest.fixture
def engine(
    store: SQLiteStore,
    cafe_runtime: PersonaRuntime,
    llm_client: OpenAIChatClient,
    llm_server: FakeLLMServer,
    clock: Clock,
    telemetry: PrometheusTelemetry,
    failures: ServerFailures,
) -> Engine:
    return Engine(
        store=store,
        personas={"cafe": cafe_runtime},
        default_persona="cafe",
        llm=llm_client,
        clock=clock,
        telemetry=telemetry,
        failures=failures,
        llm_server=llm_server.base_url,
    )


def fail_next(llm_server: FakeLLMServer, calls: int = 1) -> None:
    llm_server.script(*[ServerError(500)] * (3 * calls))  # the client tries three times


def failure_count(telemetry: PrometheusTelemetry, outage: str) -> float:
    value = telemetry.registry.get_sample_value(
        "bots_llm_server_failures_total", {"server": _server(telemetry), "outage": outage}
    )
    return value or 0.0


def _server(telemetry: PrometheusTelemetry) -> str:
    for metric in telemetry.registry.collect():
        for sample in metric.samples:
            if sample.name == "bots_llm_server_failures_total":
                return sample.labels["server"]
    return ""


# --- a server that keeps failing ------------------------------------------------------------


async def test_a_failing_server_hands_off_once_not_every_question(
    engine: Engine, llm_server: FakeLLMServer, telemetry: PrometheusTelemetry
) -> None:
    fail_next(llm_server, calls=5)
    events = [await run(engine, say(UNKNOWN_QUESTION, f"t{n}")) for n in range(5)]
    handoffs = [e for turn in events for e in turn if isinstance(e, HandoffRequested)]
    assert len(handoffs) == 1  # the first failure; then the server is known to be down
    assert handoffs[0].reason is HandoffReason.LLM_UNAVAILABLE
    for turn in events[1:]:
        reply = last(turn)
        assert isinstance(reply, FinalReply)
        assert reply.source is ReplySource.FALLBACK
        assert reply.text.startswith("My answering service is down right now.")
        assert reply.text.endswith("Shall I get a person?")
    assert failure_count(telemetry, "no") == 1
    assert failure_count(telemetry, "yes") == 4


async def test_in_an_outage_a_yes_to_the_offer_hands_off(
    engine: Engine, llm_server: FakeLLMServer
) -> None:
    fail_next(llm_server, calls=3)
    await run(engine, say(UNKNOWN_QUESTION, "other"))
    assert isinstance(last(await run(engine, say("do you sell bicycles?"))), FinalReply)
    assert isinstance(last(await run(engine, say(UNKNOWN_QUESTION))), FinalReply)
    handoff = last(await run(engine, say("yes please")))
    assert isinstance(handoff, HandoffRequested)
    assert handoff.reason is HandoffReason.LLM_UNAVAILABLE
    assert handoff.record is not None
    assert handoff.record.summary[1] == f"Latest: {UNKNOWN_QUESTION}"


async def test_in_an_outage_the_persona_rule_still_hands_off(
    engine: Engine, llm_server: FakeLLMServer, cafe_runtime: PersonaRuntime
) -> None:
    limit = cafe_runtime.persona.handoff.after_failed_turns
    fail_next(llm_server, calls=limit + 1)
    await run(engine, say(UNKNOWN_QUESTION, "other"))
    for _ in range(limit - 1):
        assert isinstance(last(await run(engine, say(UNKNOWN_QUESTION))), FinalReply)
    handoff = last(await run(engine, say(UNKNOWN_QUESTION)))
    assert isinstance(handoff, HandoffRequested)
    assert handoff.reason is HandoffReason.LLM_UNAVAILABLE
    assert f"{limit} unanswered in a row" in handoff.detail


async def test_failures_far_apart_are_no_outage(
    engine: Engine, llm_server: FakeLLMServer, clock: Clock
) -> None:
    fail_next(llm_server, calls=2)
    assert isinstance(last(await run(engine, say(UNKNOWN_QUESTION, "a"))), HandoffRequested)
    clock.now += timedelta(minutes=30)
    assert isinstance(last(await run(engine, say(UNKNOWN_QUESTION, "b"))), HandoffRequested)


async def test_a_success_ends_the_outage(
    engine: Engine, llm_server: FakeLLMServer, failures: ServerFailures, clock: Clock
) -> None:
    fail_next(llm_server, calls=2)
    await run(engine, say(UNKNOWN_QUESTION, "a"))
    await run(engine, say(UNKNOWN_QUESTION, "b"))
    assert failures.status(llm_server.base_url, clock()).outage
    llm_server.script(Reply("Hello! How can I help?"))
    await run(engine, say("hello", "c"))
    assert not failures.status(llm_server.base_url, clock()).outage
    fail_next(llm_server)
    assert isinstance(last(await run(engine, say(UNKNOWN_QUESTION, "d"))), HandoffRequested)


def test_failures_are_counted_per_server() -> None:
    failures = ServerFailures()
    failures.failed("http://a.example/v1", START)
    assert not failures.failed("http://b.example/v1", START).outage
    assert failures.failed("http://a.example/v1/", START + timedelta(minutes=1)).outage
    assert [s.server for s in failures.statuses(START)] == [
        "http://a.example/v1",
        "http://b.example/v1",
    ]


def test_the_server_label_drops_credentials_and_query() -> None:
    failures = ServerFailures()
    status = failures.failed("https://user:pw@llm.example:8443/v1?key=abc", START)
    assert status.server == "https://llm.example:8443/v1"


# --- the model's own "I don't know" -----------------------------------------------------------


async def test_the_models_i_dont_know_counts_and_offers_a_person(
    engine: Engine, llm_server: FakeLLMServer, cafe_runtime: PersonaRuntime
) -> None:
    limit = cafe_runtime.persona.handoff.after_failed_turns
    llm_server.script(*[Reply("I don't know, sorry.")] * limit)
    for _ in range(limit - 1):
        reply = last(await run(engine, say("what is the wifi password of the moon?")))
        assert isinstance(reply, FinalReply)
        assert reply.source is ReplySource.LLM
        assert reply.text == "I don't know, sorry.\n\nShall I get a person?"
    handoff = last(await run(engine, say("what is the wifi password of the moon?")))
    assert isinstance(handoff, HandoffRequested)
    assert handoff.reason is HandoffReason.NO_ANSWER


@pytest.mark.parametrize(
    "text",
    [
        "Lo siento, no lo sé.",
        "Je ne sais pas, désolé.",
        "Das weiß ich leider nicht.",
        "Desculpe, não tenho essa informação.",
        "Mi dispiace, non lo so.",
    ],
)
async def test_i_dont_know_in_other_languages_lets_a_yes_hand_off(
    engine: Engine, llm_server: FakeLLMServer, text: str
) -> None:
    llm_server.script(Reply(text))
    reply = last(await run(engine, say("una pregunta rara")))
    assert isinstance(reply, FinalReply)
    assert reply.text.endswith("Shall I get a person?")
    handoff = last(await run(engine, say("sí")))
    assert isinstance(handoff, HandoffRequested)
    assert handoff.reason is HandoffReason.NO_ANSWER


async def test_an_answer_resets_the_count_and_small_talk_offers_nothing(
    engine: Engine, llm_server: FakeLLMServer, store: SQLiteStore
) -> None:
    llm_server.script(Reply("I don't know, sorry."), Reply("Hello! Nice to meet you."))
    await run(engine, say("the moon?"))
    reply = last(await run(engine, say("hi")))
    assert isinstance(reply, FinalReply)
    assert reply.text == "Hello! Nice to meet you."
    conversation = await store.get_conversation(ThreadKey("test", "w1", "c1", "t1"))
    assert conversation is not None
    assert (conversation.failed_turns, conversation.offer_reason) == (0, None)


async def test_a_cited_answer_that_hedges_is_an_answer(
    engine: Engine, llm_server: FakeLLMServer
) -> None:
    llm_server.script(Reply("I'm not sure about holidays, but we open at 8:00 [opening-hours]."))
    reply = last(await run(engine, say("when are you open?")))
    assert isinstance(reply, FinalReply)
    assert "Shall I get a person?" not in reply.text
