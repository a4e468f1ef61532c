"""The engine end to end: a real SQLite store, a real HTTP fake of the LLM API."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from bots.knowledge.files import KnowledgeEntry, load_knowledge
from bots.knowledge.persona import Persona
from bots.llm.client import (
    ChatRequest,
    Completed,
    ContentDelta,
    LLMEvent,
    OpenAIChatClient,
    RetryPolicy,
)
from bots.models import (
    ConversationState,
    EngineEvent,
    FinalReply,
    HandoffReason,
    HandoffRequested,
    IncomingMessage,
    ReplySource,
    Role,
    SilenceReason,
    Silent,
    TextDelta,
    ThreadKey,
    Turn,
    Usage,
)
from bots.secret import Secret
from bots.store.sqlite import SQLiteStore
from bots.turn.engine import Engine
from bots.turn.runtime import PersonaRuntime
from tests.conftest import API_KEY, DATA, RecordingSleep
from tests.fakes.fake_llm import (
    ContextLengthError,
    FakeLLMServer,
    Malformed,
    RateLimited,
    Reply,
    ServerError,
)

_ids = itertools.count(1)


def key(thread: str = "t1") -> ThreadKey:
    return ThreadKey("test", "w1", "c1", thread)


def message(text: str, thread: str = "t1", message_id: str | None = None) -> IncomingMessage:
    return IncomingMessage(
        key=key(thread), author_id="u1", text=text, message_id=message_id or f"m{next(_ids)}"
    )


async def run(engine: Engine, msg: IncomingMessage) -> list[EngineEvent]:
    return [event async for event in engine.handle(msg)]


def final(events: list[EngineEvent]) -> FinalReply:
    replies = [e for e in events if isinstance(e, FinalReply)]
    assert len(replies) == 1, events
    return replies[0]


async def history(store: SQLiteStore, thread: str = "t1") -> list[Turn]:
    conversation = await store.get_conversation(key(thread))
    assert conversation is not None
    return await store.recent_turns(conversation.id, 100)


# --- no API key: the knowledge base answers -------------------------------------------


async def test_offline_answers_from_the_best_entry(offline_engine: Engine) -> None:
    reply = final(await run(offline_engine, message("where can I park?")))
    assert reply.source is ReplySource.KNOWLEDGE
    assert "free car park behind the cafe" in reply.text
    assert [c.entry_id for c in reply.citations] == ["parking"]


async def test_offline_says_it_does_not_know_and_offers_a_person(offline_engine: Engine) -> None:
    reply = final(await run(offline_engine, message("can you repair my motorbike gearbox?")))
    assert reply.source is ReplySource.FALLBACK
    assert "Sorry, I don't know that." in reply.text
    assert "Shall I get a person?" in reply.text
    assert reply.citations == ()


async def test_offline_turns_are_recorded(offline_engine: Engine, store: SQLiteStore) -> None:
    await run(offline_engine, message("is there wifi?"))
    turns = await history(store)
    assert [t.role for t in turns] == [Role.USER, Role.ASSISTANT]
    assert turns[0].text == "is there wifi?"
    assert turns[1].cited_ids == ("wifi",)


# --- with the model -------------------------------------------------------------------


async def test_streams_the_model_reply_and_cites_entries(
    engine: Engine, llm_server: FakeLLMServer
) -> None:
    llm_server.script(Reply("There is a free car park behind the cafe [parking].", chunk_size=3))
    events = await run(engine, message("Is there parking?"))
    deltas = "".join(e.text for e in events if isinstance(e, TextDelta))
    reply = final(events)
    assert reply.source is ReplySource.LLM
    assert reply.text == "There is a free car park behind the cafe."
    assert deltas == reply.text
    assert [c.entry_id for c in reply.citations] == ["parking"]
    assert reply.usage.completion_tokens > 0


async def test_request_holds_persona_snippets_user_text_and_bearer_key(
    engine: Engine, llm_server: FakeLLMServer
) -> None:
    await run(engine, message("Can I bring my dog?"))
    request = llm_server.requests[-1]
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    system, *rest = request.body["messages"]
    assert system["role"] == "system"
    assert "friendly helper of the Test Cafe" in system["content"]
    assert '<entry id="dogs">' in system["content"]
    assert "Dogs are welcome on the terrace." in system["content"]
    assert rest[-1] == {"role": "user", "content": "Can I bring my dog?"}
    assert request.body["model"] == "gpt-4o-mini"
    assert request.body["max_tokens"] == 200
    assert request.body["tools"][0]["function"]["name"] == "handoff_to_human"


async def test_history_is_sent_and_trimmed_to_the_budget_newest_first(
    store: SQLiteStore,
    cafe_runtime: PersonaRuntime,
    llm_client: OpenAIChatClient,
    llm_server: FakeLLMServer,
) -> None:
    engine = Engine(
        store=store, personas={"cafe": cafe_runtime}, default_persona="cafe", llm=llm_client
    )
    filler = "word " * 150  # ~150 tokens a turn against a 3,800-token budget
    for n in range(30):
        await run(engine, message(f"question {n} {filler}"))
    await run(engine, message("last question"))
    sent = llm_server.requests[-1].body["messages"]
    user_turns = [m["content"] for m in sent if m["role"] == "user"]
    assert user_turns[-1] == "last question"
    assert user_turns[-2].startswith("question 29 ")  # the newest earlier turn is kept
    assert not any(t.startswith("question 0 ") for t in user_turns)  # the oldest is dropped
    assert 2 < len(user_turns) < 31


async def test_model_output_cannot_ping_everyone(engine: Engine, llm_server: FakeLLMServer) -> None:
    llm_server.script(Reply("Hey @everyone and <!channel> and <@U123>, we open at 8."))
    reply = final(await run(engine, message("when are you open?")))
    assert "@everyone" not in reply.text
    assert "<!channel>" not in reply.text
    assert "<@U123>" not in reply.text
    assert "we open at 8" in reply.text


async def test_handoff_tool_call_hands_the_thread_over(
    engine: Engine, llm_server: FakeLLMServer, store: SQLiteStore
) -> None:
    llm_server.script(Reply(tool_calls=(("handoff_to_human", '{"reason": "refund dispute"}'),)))
    events = await run(engine, message("I want my money back for the broken cup"))
    handoff = [e for e in events if isinstance(e, HandoffRequested)]
    assert [(h.reason, h.detail, h.message) for h in handoff] == [
        (
            HandoffReason.MODEL_TOOL,
            "refund dispute",
            "A person from our team will take it from here.",
        )
    ]
    conversation = await store.get_conversation(key())
    assert conversation is not None
    assert conversation.state is ConversationState.WAITING_FOR_HUMAN
    # While a person owns the thread the bot records but stays quiet.
    later = await run(engine, message("hello?"))
    assert later == [Silent(SilenceReason.HUMAN_OWNS_THREAD)]
    assert (await history(store))[-1].text == "hello?"
    assert len(llm_server.requests) == 2  # the reply, then the hand-off summary; not "hello?"


# --- faults: a correct reply after retry, or an honest fallback; history kept -----------


@pytest.mark.parametrize(
    "fault",
    [RateLimited(retry_after="2"), ServerError(500), ServerError(503), Malformed()],
    ids=["429", "500", "503", "malformed"],
)
async def test_transient_fault_then_success_gives_the_model_reply(
    engine: Engine, llm_server: FakeLLMServer, store: SQLiteStore, fault: object
) -> None:
    llm_server.script(fault, Reply("Open daily 8 to 18 [opening-hours]."))  # type: ignore[arg-type]
    reply = final(await run(engine, message("when are you open?")))
    assert reply.source is ReplySource.LLM
    assert reply.text == "Open daily 8 to 18."
    assert len(llm_server.requests) == 2
    assert [t.role for t in await history(store)] == [Role.USER, Role.ASSISTANT]


@pytest.mark.parametrize(
    "faults",
    [
        [RateLimited(retry_after="1")] * 3,
        [ServerError(500)] * 3,
    ],
    ids=["429-storm", "500-storm"],
)
async def test_persistent_fault_falls_back_honestly_to_the_knowledge(
    engine: Engine, llm_server: FakeLLMServer, store: SQLiteStore, faults: list[object]
) -> None:
    llm_server.script(*faults)  # type: ignore[arg-type]
    reply = final(await run(engine, message("What are your opening hours?")))
    assert reply.source is ReplySource.KNOWLEDGE
    assert reply.text.startswith("My answering service is down right now.")
    assert "8:00 to 18:00" in reply.text
    assert "Traceback" not in reply.text
    turns = await history(store)
    assert [t.role for t in turns] == [Role.USER, Role.ASSISTANT]
    assert turns[0].text == "What are your opening hours?"


async def test_outage_with_no_matching_entry_hands_the_user_to_a_person(
    engine: Engine, llm_server: FakeLLMServer
) -> None:
    llm_server.script(*[ServerError(500)] * 3)
    events = await run(engine, message("can you repair my motorbike gearbox?"))
    assert [type(e) for e in events] == [HandoffRequested]
    handoff = events[0]
    assert isinstance(handoff, HandoffRequested)
    assert handoff.reason is HandoffReason.LLM_UNAVAILABLE
    assert handoff.message == "A person from our team will take it from here."


async def test_retry_after_is_honoured(
    engine: Engine, llm_server: FakeLLMServer, sleep: object
) -> None:
    llm_server.script(RateLimited(retry_after="2"), Reply("ok"))
    await run(engine, message("hi there, are you open?"))
    assert sleep.calls == [2.0]  # type: ignore[attr-defined]


async def test_context_too_long_shrinks_the_prompt_and_retries_once(
    engine: Engine, llm_server: FakeLLMServer
) -> None:
    for n in range(40):  # more history than the 3,800-token budget holds
        await run(engine, message(f"earlier question {n} " + "blah " * 100))
    llm_server.script(ContextLengthError(), Reply("Fine [wifi]."))
    reply = final(await run(engine, message("do you have wifi?")))
    assert reply.text == "Fine."
    first, second = llm_server.requests[-2:]
    assert len(json.dumps(second.body)) < len(json.dumps(first.body))


async def test_context_too_long_twice_falls_back(engine: Engine, llm_server: FakeLLMServer) -> None:
    llm_server.script(ContextLengthError(), ContextLengthError())
    reply = final(await run(engine, message("do you have wifi?")))
    assert reply.source is ReplySource.KNOWLEDGE
    assert len(llm_server.requests) == 2


# --- duplicates, restarts, ordering -------------------------------------------------------


async def test_same_platform_message_id_twice_gets_one_reply(
    engine: Engine, llm_server: FakeLLMServer, store: SQLiteStore
) -> None:
    first = await run(engine, message("is there wifi?", message_id="evt-1"))
    second = await run(engine, message("is there wifi?", message_id="evt-1"))
    assert len([e for e in first if isinstance(e, FinalReply)]) == 1
    assert second == [Silent(SilenceReason.DUPLICATE)]
    assert len(llm_server.requests) == 1
    assert len(await history(store)) == 2


async def test_concurrent_redelivery_is_answered_once(
    offline_engine: Engine, store: SQLiteStore
) -> None:
    results = await asyncio.gather(
        *(run(offline_engine, message("is there wifi?", message_id="evt-x")) for _ in range(5))
    )
    replies = [e for events in results for e in events if isinstance(e, FinalReply)]
    assert len(replies) == 1
    assert len(await history(store)) == 2


async def test_a_new_engine_on_the_same_database_continues_the_conversation(
    db_path: Path,
    cafe_runtime: PersonaRuntime,
    llm_server: FakeLLMServer,
    llm_client: OpenAIChatClient,
) -> None:
    first_store = SQLiteStore(db_path)
    await first_store.open()
    first = Engine(
        store=first_store, personas={"cafe": cafe_runtime}, default_persona="cafe", llm=llm_client
    )
    llm_server.script(Reply("We have oat milk [vegan]."))
    await run(first, message("do you have dairy free milk?"))
    await first_store.close()

    second_store = SQLiteStore(db_path)
    await second_store.open()
    second = Engine(
        store=second_store, personas={"cafe": cafe_runtime}, default_persona="cafe", llm=llm_client
    )
    llm_server.script(Reply("Yes, soy too."))
    await run(second, message("and soy?"))
    await second_store.close()
    sent = [(m["role"], m["content"]) for m in llm_server.requests[-1].body["messages"][1:]]
    assert sent == [
        ("user", "do you have dairy free milk?"),
        ("assistant", "We have oat milk."),
        ("user", "and soy?"),
    ]


async def test_turns_of_one_conversation_run_in_order(
    store: SQLiteStore,
    cafe_runtime: PersonaRuntime,
    llm_client: OpenAIChatClient,
    llm_server: FakeLLMServer,
) -> None:
    engine = Engine(
        store=store, personas={"cafe": cafe_runtime}, default_persona="cafe", llm=llm_client
    )
    llm_server.default = lambda body: Reply(f"echo {body['messages'][-1]['content']}")
    texts = [f"message number {n}" for n in range(8)]
    await asyncio.gather(*(run(engine, message(t)) for t in texts))
    turns = await history(store)
    users = [t.text for t in turns if t.role is Role.USER]
    assistants = [t.text for t in turns if t.role is Role.ASSISTANT]
    assert [f"echo {u}" for u in users] == assistants
    # every reply follows its own question directly: no interleaving
    assert all(
        turns[i].role is Role.USER and turns[i + 1].text == f"echo {turns[i].text}"
        for i in range(0, len(turns), 2)
    )


async def test_empty_message_is_ignored(offline_engine: Engine) -> None:
    assert await run(offline_engine, message("   ")) == [Silent(SilenceReason.EMPTY)]


async def test_clock_is_injected(store: SQLiteStore, cafe_runtime: PersonaRuntime) -> None:
    moment = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    engine = Engine(
        store=store,
        personas={"cafe": cafe_runtime},
        default_persona="cafe",
        llm=None,
        clock=lambda: moment,
    )
    await run(engine, message("is there wifi?"))
    assert {t.created_at for t in await history(store)} == {moment}


async def test_timeouts_fall_back_to_the_knowledge(
    store: SQLiteStore, cafe_runtime: PersonaRuntime, sleep: RecordingSleep
) -> None:
    calls: list[httpx.Request] = []

    def time_out(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadTimeout("no answer", request=request)

    client = OpenAIChatClient(
        "http://llm.test/v1",
        Secret(API_KEY),
        transport=httpx.MockTransport(time_out),
        retry=RetryPolicy(max_attempts=3),
        sleep=sleep,
    )
    engine = Engine(
        store=store, personas={"cafe": cafe_runtime}, default_persona="cafe", llm=client
    )
    reply = final(await run(engine, message("What are your opening hours?")))
    await client.aclose()
    assert reply.source is ReplySource.KNOWLEDGE
    assert "8:00 to 18:00" in reply.text
    assert len(calls) == 3
    assert len(sleep.calls) == 2


class GatedModel:
    """Answers only once `expected` calls are waiting at the same time."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.waiting = 0
        self.most_at_once = 0
        self.open = asyncio.Event()

    async def stream(self, request: ChatRequest) -> AsyncIterator[LLMEvent]:
        self.waiting += 1
        self.most_at_once = max(self.most_at_once, self.waiting)
        if self.waiting >= self.expected:
            self.open.set()
        await asyncio.wait_for(self.open.wait(), timeout=5)
        self.waiting -= 1
        yield ContentDelta("ok")
        yield Completed("ok", (), Usage(1, 1), "stop")


async def test_different_conversations_run_concurrently(
    store: SQLiteStore, cafe_runtime: PersonaRuntime
) -> None:
    model = GatedModel(expected=20)
    engine = Engine(store=store, personas={"cafe": cafe_runtime}, default_persona="cafe", llm=model)
    results = await asyncio.gather(
        *(run(engine, message("hello there", thread=f"t{n}")) for n in range(20))
    )
    assert model.most_at_once == 20
    assert all(final(events).text == "ok" for events in results)


async def test_large_knowledge_sends_only_the_retrieved_entries(
    store: SQLiteStore,
    cafe_persona: Persona,
    llm_client: OpenAIChatClient,
    llm_server: FakeLLMServer,
) -> None:
    filler = tuple(
        KnowledgeEntry(f"filler-{n}", f"Question about topic {n}?", "Some long answer. " * 30)
        for n in range(200)
    )
    cafe = load_knowledge(DATA / "knowledge", ["cafe"])
    runtime = PersonaRuntime.build(cafe_persona, cafe + filler, None)
    assert runtime.catalog.total_tokens > runtime.budget  # the whole set cannot fit
    engine = Engine(store=store, personas={"cafe": runtime}, default_persona="cafe", llm=llm_client)
    await run(engine, message("Is there parking for my car?"))
    system = llm_server.requests[-1].body["messages"][0]["content"]
    assert '<entry id="parking">' in system
    assert '<entry id="wifi">' not in system
    assert system.count("<entry id=") <= cafe_persona.knowledge.max_snippets


async def test_same_message_id_in_two_channels_is_two_messages(offline_engine: Engine) -> None:
    first = IncomingMessage(ThreadKey("test", "w1", "c1", "t"), "u", "wifi?", "1700000000.1")
    second = IncomingMessage(ThreadKey("test", "w1", "c2", "t"), "u", "wifi?", "1700000000.1")
    assert isinstance((await run(offline_engine, first))[-1], FinalReply)
    assert isinstance((await run(offline_engine, second))[-1], FinalReply)


async def test_broken_unicode_from_a_platform_does_not_crash(
    engine: Engine, store: SQLiteStore
) -> None:
    reply = final(await run(engine, message("wifi \ud800 password\x00?")))
    assert reply.text
    assert "\ud800" not in (await history(store))[0].text


async def test_a_reply_of_only_citation_markers_is_not_sent_empty(
    engine: Engine, llm_server: FakeLLMServer
) -> None:
    llm_server.script(Reply("[wifi]"))
    reply = final(await run(engine, message("do you have wifi?")))
    assert reply.text
    assert reply.source is ReplySource.KNOWLEDGE
