"""Honest endings and the turn's deadline: replies cut short say so, and no turn runs forever."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bots.llm.client import OpenAIChatClient, RetryPolicy
from bots.models import (
    EngineEvent,
    FinalReply,
    HandoffRequested,
    IncomingMessage,
    ReplySource,
    Role,
    TextDelta,
    ThreadKey,
)
from bots.secret import Secret
from bots.store.sqlite import SQLiteStore
from bots.tokens import counter_for_model
from bots.turn.engine import Engine
from bots.turn.limits import Limits, LimitSettings
from bots.turn.runtime import PersonaRuntime
from tests.conftest import API_KEY
from tests.fakes.fake_llm import CutStream, FakeLLMServer, Reply, Stall, Trickle
from tests.support.fake_time import FakeTime

KEY = ThreadKey("test", "w1", "c1", "t1")
CUT_NOTE = "(My answer was cut short.)"
NOTICE = "My answering service is down right now."


def message(text: str, message_id: str = "m1") -> IncomingMessage:
    return IncomingMessage(key=KEY, author_id="u1", text=text, message_id=message_id)


async def run(engine: Engine, msg: IncomingMessage) -> list[EngineEvent]:
    return [event async for event in engine.handle(msg)]


def final(events: list[EngineEvent]) -> FinalReply:
    (reply,) = [e for e in events if isinstance(e, FinalReply)]
    return reply


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


@pytest.fixture
async def patient_client(llm_server: FakeLLMServer) -> AsyncIterator[OpenAIChatClient]:
    """Waits a minute between bytes: only the turn's deadline can end a trickle."""
    client = OpenAIChatClient(
        llm_server.base_url, Secret(API_KEY), timeout=60, retry=RetryPolicy(max_attempts=1)
    )
    yield client
    await client.aclose()


def timed_engine(
    store: SQLiteStore,
    runtime: PersonaRuntime,
    client: OpenAIChatClient,
    time: FakeTime,
    limits: Limits | None = None,
) -> Engine:
    return Engine(
        store=store,
        personas={"cafe": runtime},
        default_persona="cafe",
        llm=client,
        clock=time.now,
        sleep=time.sleep,
        turn_timeout=120,
        limits=limits,
    )


async def wait_for_tokens(server: FakeLLMServer, count: int) -> None:
    for _ in range(1000):
        if server.trickled >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the fake server sent only {server.trickled} tokens")


# -- finish_reason "length" and max_tokens ---------------------------------------------------


async def test_a_reply_cut_by_length_is_trimmed_to_a_word_and_says_so(
    engine: Engine, llm_server: FakeLLMServer
) -> None:
    llm_server.script(
        Reply("The car park is behind the cafe and is fr", finish_reason="length", chunk_size=5)
    )
    reply = final(await run(engine, message("where can I park?")))
    assert reply.text == f"The car park is behind the cafe and is …\n\n{CUT_NOTE}"
    assert reply.source is ReplySource.LLM


async def test_a_reply_cut_by_length_after_a_sentence_ends_there(
    engine: Engine, llm_server: FakeLLMServer
) -> None:
    llm_server.script(
        Reply("Yes, there is free wifi. The password is on the rec", finish_reason="length")
    )
    reply = final(await run(engine, message("is there wifi?")))
    assert reply.text == f"Yes, there is free wifi. The password is on the …\n\n{CUT_NOTE}"


async def test_a_reply_that_finished_normally_is_not_marked(
    engine: Engine, llm_server: FakeLLMServer
) -> None:
    llm_server.script(Reply("There is free wifi."))
    assert final(await run(engine, message("is there wifi?"))).text == "There is free wifi."


async def test_output_stops_at_max_tokens_when_the_server_ignores_it(
    engine: Engine, llm_server: FakeLLMServer, cafe_runtime: PersonaRuntime
) -> None:
    # 2,000 words, finishing normally: a server that never looked at max_tokens (200 here).
    llm_server.script(Reply("word " * 2000, chunk_size=10))
    events = await run(engine, message("tell me everything"))
    reply = final(events)
    assert reply.text.endswith(f"word …\n\n{CUT_NOTE}")
    counter = counter_for_model("gpt-4o-mini")
    kept = reply.text.removesuffix(f" …\n\n{CUT_NOTE}")
    assert 190 <= counter.count(kept) <= cafe_runtime.persona.model.max_tokens
    shown = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert counter.count(shown) <= cafe_runtime.persona.model.max_tokens + 5


async def test_a_trickle_ignoring_max_tokens_is_cut_off_at_max_tokens(
    store: SQLiteStore,
    cafe_runtime: PersonaRuntime,
    patient_client: OpenAIChatClient,
    llm_server: FakeLLMServer,
    time: FakeTime,
) -> None:
    llm_server.script(Trickle("word ", every_ms=1))
    engine = timed_engine(store, cafe_runtime, patient_client, time)
    reply = final(await asyncio.wait_for(run(engine, message("tell me everything")), 30))
    assert reply.text.endswith(f"word …\n\n{CUT_NOTE}")
    assert llm_server.trickled < 400  # the client hung up at about 200 tokens


# -- a stream that dies mid-answer -------------------------------------------------------------


async def test_a_stream_cut_after_some_text_keeps_it_marked_with_the_honest_notice(
    engine: Engine, llm_server: FakeLLMServer, store: SQLiteStore
) -> None:
    llm_server.script(CutStream("Our opening hours are from eight", after_chars=20))
    events = await run(engine, message("What are your opening hours?"))
    # What streamed (the leak guard holds the last few words back until it knows)...
    assert "Our opening hours ar".startswith(
        "".join(e.text for e in events if isinstance(e, TextDelta))
    )
    reply = final(events)
    assert reply.text.startswith(f"Our opening hours …\n\n{CUT_NOTE}\n\n{NOTICE}")
    assert "8:00 to 18:00" in reply.text  # then the FAQ's answer
    assert reply.source is ReplySource.KNOWLEDGE
    conversation = await store.get_conversation(KEY)
    assert conversation is not None
    turns = await store.recent_turns(conversation.id, 10)
    assert [(t.role, t.text) for t in turns] == [
        (Role.USER, "What are your opening hours?"),
        (Role.ASSISTANT, reply.text),
    ]


async def test_a_cut_stream_without_a_matching_entry_offers_a_person(
    engine: Engine, llm_server: FakeLLMServer
) -> None:
    llm_server.script(CutStream("I think the answer is that we can repair it", after_chars=25))
    reply = final(await run(engine, message("can you repair my motorbike gearbox?")))
    assert reply.text == f"I think the answer is …\n\n{CUT_NOTE}\n\n{NOTICE} Shall I get a person?"
    assert reply.source is ReplySource.FALLBACK


# -- the turn's deadline -------------------------------------------------------------------------


async def test_a_trickle_that_never_ends_is_stopped_at_the_deadline(
    store: SQLiteStore,
    cafe_runtime: PersonaRuntime,
    patient_client: OpenAIChatClient,
    llm_server: FakeLLMServer,
    time: FakeTime,
) -> None:
    # Slow enough never to reach max_tokens in this test: only the deadline can end it.
    llm_server.script(Trickle("slow ", every_ms=20))
    limits = Limits(LimitSettings(llm_concurrency=1), store, time.now)
    engine = timed_engine(store, cafe_runtime, patient_client, time, limits)
    turn = asyncio.create_task(run(engine, message("What are your opening hours?")))
    await wait_for_tokens(llm_server, 5)
    time.advance(119)
    await asyncio.sleep(0.05)
    assert not turn.done()  # 119 s is inside the deadline
    time.advance(1)
    events = await asyncio.wait_for(turn, 10)
    reply = final(events)
    assert reply.text.startswith("slow slow slow")
    assert f"slow …\n\n{CUT_NOTE}\n\n{NOTICE}" in reply.text
    assert "8:00 to 18:00" in reply.text
    sent = llm_server.trickled
    await asyncio.sleep(0.2)
    assert llm_server.trickled <= sent + 1  # the stream was closed, not left running
    # The LLM slot was given back: the next turn gets the model at once.
    llm_server.script(Reply("Open daily 8 to 18."))
    after = final(await asyncio.wait_for(run(engine, message("and sunday?", "m2")), 10))
    assert after.text == "Open daily 8 to 18."


async def test_a_model_silent_past_the_deadline_gets_the_honest_fallback(
    store: SQLiteStore,
    cafe_runtime: PersonaRuntime,
    patient_client: OpenAIChatClient,
    llm_server: FakeLLMServer,
    time: FakeTime,
) -> None:
    llm_server.script(Stall(30))
    engine = timed_engine(store, cafe_runtime, patient_client, time)
    turn = asyncio.create_task(run(engine, message("What are your opening hours?")))
    assert await asyncio.to_thread(llm_server.wait_for_requests, 1)
    time.advance(120)
    reply = final(await asyncio.wait_for(turn, 10))
    assert reply.text.startswith(NOTICE)  # nothing was written: the FAQ answers
    assert "8:00 to 18:00" in reply.text


async def test_silent_past_the_deadline_without_an_entry_hands_off(
    store: SQLiteStore,
    cafe_runtime: PersonaRuntime,
    patient_client: OpenAIChatClient,
    llm_server: FakeLLMServer,
    time: FakeTime,
) -> None:
    llm_server.script(Stall(30))
    engine = timed_engine(store, cafe_runtime, patient_client, time)
    turn = asyncio.create_task(run(engine, message("can you repair my motorbike gearbox?")))
    assert await asyncio.to_thread(llm_server.wait_for_requests, 1)
    time.advance(120)
    events = await asyncio.wait_for(turn, 10)
    assert any(isinstance(e, HandoffRequested) for e in events)


async def test_the_deadline_is_recorded_with_the_message(
    store: SQLiteStore,
    cafe_runtime: PersonaRuntime,
    patient_client: OpenAIChatClient,
    llm_server: FakeLLMServer,
    time: FakeTime,
) -> None:
    llm_server.script(Reply("There is free wifi."))
    engine = timed_engine(store, cafe_runtime, patient_client, time)
    await run(engine, message("is there wifi?"))
    conversation = await store.get_conversation(KEY)
    assert conversation is not None
    question, _ = await store.recent_turns(conversation.id, 10)
    assert question.answer_due is not None
    seconds = (question.answer_due - question.created_at).total_seconds()
    assert 120 < seconds <= 150  # the deadline, and a little grace for the reply's recording


async def test_one_piece_far_over_max_tokens_keeps_what_fits(
    engine: Engine, llm_server: FakeLLMServer, cafe_runtime: PersonaRuntime
) -> None:
    llm_server.script(Reply("word " * 2000, chunk_size=20_000))  # all of it in one piece
    reply = final(await run(engine, message("tell me everything")))
    kept = reply.text.removesuffix(f" …\n\n{CUT_NOTE}")
    assert kept != reply.text
    counter = counter_for_model("gpt-4o-mini")
    assert 190 <= counter.count(kept) <= cafe_runtime.persona.model.max_tokens
