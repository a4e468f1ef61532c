"""The engine reads a follow-up with the conversation: by rule, or rewritten by the model."""

from __future__ import annotations

import itertools

import pytest

from bots.knowledge.files import load_knowledge
from bots.knowledge.persona import Persona
from bots.llm.client import OpenAIChatClient
from bots.models import EngineEvent, FinalReply, IncomingMessage, ThreadKey
from bots.store.sqlite import SQLiteStore
from bots.turn.engine import Engine
from bots.turn.runtime import PersonaRuntime
from tests.conftest import DATA
from tests.fakes.fake_llm import FakeLLMServer, Reply, ServerError

_ids = itertools.count(1)


async def ask(engine: Engine, text: str) -> FinalReply:
    message = IncomingMessage(
        key=ThreadKey("test", "w1", "c1", "t1"),
        author_id="u1",
        text=text,
        message_id=f"m{next(_ids)}",
    )
    events: list[EngineEvent] = [event async for event in engine.handle(message)]
    return next(e for e in events if isinstance(e, FinalReply))


def cited(reply: FinalReply) -> list[str]:
    return [c.entry_id for c in reply.citations]


def rewriting(persona: Persona) -> PersonaRuntime:
    knowledge = persona.knowledge.model_copy(update={"rewrite_followups": "on"})
    persona = persona.model_copy(update={"knowledge": knowledge})
    return PersonaRuntime.build(persona, load_knowledge(DATA / "knowledge", knowledge.sets), None)


async def test_offline_a_short_follow_up_is_answered_from_the_earlier_question(
    offline_engine: Engine,
) -> None:
    assert cited(await ask(offline_engine, "Are dogs allowed?")) == ["dogs"]
    assert cited(await ask(offline_engine, "inside too?")) == ["dogs"]


async def test_offline_a_follow_up_alone_gets_no_confident_match(offline_engine: Engine) -> None:
    assert cited(await ask(offline_engine, "inside too?")) == []


@pytest.fixture
def rewriting_engine(
    store: SQLiteStore, cafe_persona: Persona, llm_client: OpenAIChatClient
) -> Engine:
    runtime = rewriting(cafe_persona)
    return Engine(store=store, personas={"cafe": runtime}, default_persona="cafe", llm=llm_client)


async def test_with_rewrite_on_the_model_makes_the_follow_up_a_question_first(
    rewriting_engine: Engine, llm_server: FakeLLMServer
) -> None:
    llm_server.script(
        Reply("Dogs are welcome on the terrace [dogs]."),
        Reply("Where can I park my car?"),  # the rewrite
        Reply("There is a free car park behind the cafe [parking]."),
    )
    await ask(rewriting_engine, "Are dogs allowed?")
    reply = await ask(rewriting_engine, "and the car?")
    assert cited(reply) == ["parking"]
    rewrite = llm_server.requests[1].body
    assert "standalone question" in rewrite["messages"][0]["content"]
    assert "Are dogs allowed?" in rewrite["messages"][1]["content"]
    assert "and the car?" in rewrite["messages"][1]["content"]
    assert "tools" not in rewrite or not rewrite["tools"]
    # The answer is asked for with the person's own words, not the rewrite.
    assert llm_server.requests[2].body["messages"][-1]["content"].endswith("and the car?")


async def test_a_full_question_is_not_rewritten(
    rewriting_engine: Engine, llm_server: FakeLLMServer
) -> None:
    llm_server.script(Reply("Dogs are welcome [dogs]."), Reply("Free wifi [wifi]."))
    await ask(rewriting_engine, "Are dogs allowed?")
    reply = await ask(rewriting_engine, "Do you have wifi for customers who are working?")
    assert cited(reply) == ["wifi"]
    assert len(llm_server.requests) == 2


async def test_when_the_rewrite_fails_the_rule_reads_the_follow_up(
    rewriting_engine: Engine, llm_server: FakeLLMServer
) -> None:
    llm_server.script(
        Reply("Dogs are welcome on the terrace [dogs]."),
        ServerError(),
        ServerError(),
        ServerError(),
        Reply("Only on the terrace [dogs]."),
    )
    await ask(rewriting_engine, "Are dogs allowed?")
    reply = await ask(rewriting_engine, "inside too?")
    assert reply.text.startswith("Only on the terrace")
    assert cited(reply) == ["dogs"]


async def test_a_short_question_of_its_own_is_not_lost_in_the_earlier_ones(
    offline_engine: Engine,
) -> None:
    assert cited(await ask(offline_engine, "do you repair bicycles?")) == []
    assert cited(await ask(offline_engine, "is there wifi?")) == ["wifi"]
