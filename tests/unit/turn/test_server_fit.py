"""Turns against servers with small windows or no tools: the shipped persona, unedited."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bots.knowledge.files import load_knowledge
from bots.knowledge.persona import load_persona
from bots.llm.client import OpenAIChatClient, RetryPolicy
from bots.llm.fit import ServerFit
from bots.models import (
    EngineEvent,
    FinalReply,
    HandoffReason,
    HandoffRequested,
    IncomingMessage,
    ReplySource,
    ThreadKey,
)
from bots.secret import Secret
from bots.store.sqlite import SQLiteStore
from bots.turn.engine import Engine
from bots.turn.runtime import PersonaRuntime
from tests.conftest import DATA, RecordingSleep
from tests.fakes.fake_llm import FakeLLMServer, Reply

ROOT = Path(__file__).parents[3]


@pytest.fixture(scope="module")
def restaurant() -> PersonaRuntime:
    persona = load_persona(ROOT / "personas" / "restaurant.yaml")
    assert persona.model.context_window == 16000  # the shipped file, as a new user has it
    entries = load_knowledge(ROOT / "knowledge", persona.knowledge.sets)
    return PersonaRuntime.build(persona, entries, None)


@pytest.fixture
async def client(llm_server: FakeLLMServer) -> AsyncIterator[OpenAIChatClient]:
    async with OpenAIChatClient(
        llm_server.base_url, Secret("k"), timeout=5, retry=RetryPolicy(), sleep=RecordingSleep()
    ) as llm:
        yield llm


def engine_for(
    store: SQLiteStore, runtime: PersonaRuntime, llm: OpenAIChatClient, fit: ServerFit
) -> Engine:
    name = runtime.persona.name
    return Engine(store=store, personas={name: runtime}, default_persona=name, llm=llm, fit=fit)


async def ask(engine: Engine, text: str, thread: str = "t1", n: int = 1) -> list[EngineEvent]:
    message = IncomingMessage(ThreadKey("test", "w", "c", thread), "u1", text, f"{thread}-{n}")
    return [event async for event in engine.handle(message)]


def final(events: list[EngineEvent]) -> FinalReply:
    replies = [e for e in events if isinstance(e, FinalReply)]
    assert len(replies) == 1, events
    return replies[0]


@pytest.mark.parametrize("style", ["openai", "llama-cpp-python", "llama.cpp", "stream-error"])
async def test_a_2048_token_server_answers_the_shipped_persona(
    store: SQLiteStore,
    restaurant: PersonaRuntime,
    client: OpenAIChatClient,
    llm_server: FakeLLMServer,
    style: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    llm_server.context_window, llm_server.refusal_style = 2048, style
    llm_server.default = lambda body: Reply("We open at 11:00 on Sundays.")
    engine = engine_for(store, restaurant, client, ServerFit())

    with caplog.at_level(logging.INFO, logger="bots.llm.fit"):
        first = final(await ask(engine, "what time do you open on sunday?", "t1"))
        asked_before = len(llm_server.requests)
        second = final(await ask(engine, "do you have parking?", "t2"))

    assert first.source is ReplySource.LLM
    assert second.source is ReplySource.LLM
    assert len(llm_server.requests) == asked_before + 1  # the window, once learned, holds
    assert llm_server.requests[-1].body["max_tokens"] == 256
    told = [r.getMessage() for r in caplog.records if "server context 2048" in r.getMessage()]
    assert told == [
        "server context 2048 tokens (named in its refusal); persona asked for 16000; using 2048"
    ]


async def test_a_window_learned_at_start_needs_no_refusal(
    store: SQLiteStore,
    restaurant: PersonaRuntime,
    client: OpenAIChatClient,
    llm_server: FakeLLMServer,
) -> None:
    llm_server.context_window, llm_server.refusal_style = 1024, "llama-cpp-python"
    engine = engine_for(store, restaurant, client, ServerFit(server_window=1024, source="x"))

    reply = final(await ask(engine, "what time do you open on sunday?"))

    assert reply.source is ReplySource.LLM
    assert len(llm_server.requests) == 1
    assert llm_server.requests[0].body["max_tokens"] == 128


async def test_512_tokens_work_for_a_short_persona(
    store: SQLiteStore, client: OpenAIChatClient, llm_server: FakeLLMServer
) -> None:
    persona = load_persona(DATA / "personas" / "cafe.yaml")
    runtime = PersonaRuntime.build(persona, load_knowledge(DATA / "knowledge", ("cafe",)), None)
    llm_server.context_window, llm_server.refusal_style = 512, "llama-cpp-python"
    llm_server.default = lambda body: Reply("Yes, free wifi [wifi].")
    engine = engine_for(store, runtime, client, ServerFit())

    reply = final(await ask(engine, "is there wifi?"))

    assert reply.source is ReplySource.LLM
    assert [c.entry_id for c in reply.citations] == ["wifi"]
    assert llm_server.requests[-1].body["max_tokens"] == 64


async def test_a_server_without_tools_is_asked_without_them_from_then_on(
    store: SQLiteStore,
    restaurant: PersonaRuntime,
    client: OpenAIChatClient,
    llm_server: FakeLLMServer,
) -> None:
    llm_server.refuses_tools = True
    fit = ServerFit()
    engine = engine_for(store, restaurant, client, fit)

    first = final(await ask(engine, "what time do you open on sunday?", "t1"))
    llm_server.script(Reply("[[handoff: wants to book a wedding]]\nA person will take over."))
    events = await ask(engine, "can you plan my wedding dinner for 80 guests?", "t2")

    assert first.source is ReplySource.LLM
    refused, *rest = llm_server.requests
    assert "tools" in refused.body
    assert all("tools" not in request.body for request in rest)
    # One more for the first turn, one for the second (then the hand-off's summary).
    system = rest[1].body["messages"][0]["content"]
    assert "[[handoff: short reason]]" in system
    assert "handoff_to_human tool" not in system
    assert not fit.tools
    handoffs = [e for e in events if isinstance(e, HandoffRequested)]
    assert handoffs
    assert handoffs[0].reason is HandoffReason.MODEL_TOOL


async def test_instructions_too_long_for_the_window_are_named_once(
    store: SQLiteStore,
    restaurant: PersonaRuntime,
    client: OpenAIChatClient,
    llm_server: FakeLLMServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    llm_server.context_window = 512  # the shipped persona's rules alone take more
    engine = engine_for(store, restaurant, client, ServerFit(server_window=512, source="x"))

    with caplog.at_level(logging.WARNING):
        first = await ask(engine, "what time do you open on sunday?", "t1")
        await ask(engine, "do you have parking?", "t2")

    lines = [r.getMessage() for r in caplog.records]
    told = [line for line in lines if "fixed rules and instructions" in line]
    assert len(told) == 1
    assert "persona restaurant" in told[0]
    assert "give the model server a larger context" in told[0]
    assert not [e for e in first if isinstance(e, FinalReply) and e.source is ReplySource.LLM]
