"""A hand-off in the model's own words: the marker fallback and spoken promises of a person."""

from __future__ import annotations

import pytest

from bots.llm.client import OpenAIChatClient
from bots.markers import find_handoff, strip_markers
from bots.models import (
    FinalReply,
    HandoffReason,
    HandoffRequested,
    IncomingMessage,
    TextDelta,
    ThreadKey,
)
from bots.store.sqlite import SQLiteStore
from bots.turn.engine import Engine
from bots.turn.runtime import PersonaRuntime
from tests.fakes.fake_llm import FakeLLMServer, Reply

KEY = ThreadKey("test", "w", "c", "t")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[[handoff: refund request]]\nA person will take over.", "refund request"),
        ("[[Hand-off - billing]]", "billing"),
        ("[handoff]", "the assistant could not help"),
        ("Sorry!\nHANDOFF: angry customer", "angry customer"),
    ],
)
def test_markers_in_many_styles(text: str, reason: str) -> None:
    assert find_handoff(text) == reason


@pytest.mark.parametrize(
    "text",
    [
        "I'll connect you with a member of our team.",
        "I'm passing this to our staff now.",
        "Let me get someone from the team for you.",
        "I will transfer you to a colleague.",
        "I've forwarded your request to the team.",
        "I'm going to hand you over to a real person.",
    ],
)
def test_promises_of_a_person_count(text: str) -> None:
    assert find_handoff(text) == "the assistant said a person would take over"


@pytest.mark.parametrize(
    "text",
    [
        "Would you like me to connect you with someone?",
        "I can connect you with our team if you like.",
        "You can call our team on +1 555 0134.",
        "Let me get the hours for you: we open at 11.",
        "Let me pass on a tip: book early.",
        "I'll get back to you on that.",
        "I'll put the menu link below.",
        "Let me get the manager's email for you: hello@x.example",
        "I'm getting our staff picks for you.",
        "I will get the team to prepare a birthday candle.",
        "Let me bring you the host's recommendations.",
    ],
)
def test_offers_and_directions_do_not(text: str) -> None:
    assert find_handoff(text) is None


def test_markers_are_stripped() -> None:
    assert strip_markers("[[handoff: x]]\nA person will take over.") == "\nA person will take over."


def runtime_without_tools(cafe_runtime: PersonaRuntime) -> PersonaRuntime:
    persona = cafe_runtime.persona
    model = persona.model.model_copy(update={"tools": False})
    no_tools = persona.model_copy(update={"model": model})
    return PersonaRuntime(
        no_tools,
        cafe_runtime.model,
        cafe_runtime.retriever,
        cafe_runtime.catalog,
        cafe_runtime.counter,
    )


async def test_servers_without_tools_hand_off_by_marker(
    store: SQLiteStore,
    cafe_runtime: PersonaRuntime,
    llm_client: OpenAIChatClient,
    llm_server: FakeLLMServer,
) -> None:
    runtime = runtime_without_tools(cafe_runtime)
    engine = Engine(store=store, personas={"cafe": runtime}, default_persona="cafe", llm=llm_client)
    llm_server.script(
        Reply("[[handoff: refund for a broken cup]]\nA colleague will take over.", chunk_size=4)
    )
    message = IncomingMessage(KEY, "u1", "I want my money back for the broken cup", "m1")
    events = [e async for e in engine.handle(message)]
    request = llm_server.requests[0].body
    assert "tools" not in request
    assert "[[handoff: short reason]]" in request["messages"][0]["content"]
    handoff = [e for e in events if isinstance(e, HandoffRequested)]
    assert [(h.reason, h.detail) for h in handoff] == [
        (HandoffReason.MODEL_TOOL, "refund for a broken cup")
    ]
    shown = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert "handoff" not in shown.lower()
    assert not [e for e in events if isinstance(e, FinalReply)]


async def test_a_promise_without_the_tool_still_brings_a_person(
    engine: Engine, llm_server: FakeLLMServer
) -> None:
    llm_server.script(Reply("I'll connect you with a member of our team right away."))
    message = IncomingMessage(KEY, "u1", "my order never arrived and I am upset", "m2")
    events = [e async for e in engine.handle(message)]
    assert [e.reason for e in events if isinstance(e, HandoffRequested)] == [
        HandoffReason.MODEL_TOOL
    ]
