"""The hand-off lifecycle through the engine: every trigger, every transition, restarts."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bots.knowledge.persona import Persona, SupportHours
from bots.llm.client import ChatRequest, Completed, ContentDelta, LLMEvent, OpenAIChatClient
from bots.models import (
    ConversationState,
    EngineEvent,
    FinalReply,
    HandoffClaimed,
    HandoffReason,
    HandoffRecord,
    HandoffReminder,
    HandoffRequested,
    HandoffResolved,
    IncomingMessage,
    ReplySource,
    Role,
    SilenceReason,
    Silent,
    ThreadKey,
    Usage,
)
from bots.store.sqlite import SQLiteStore
from bots.turn.engine import Engine
from bots.turn.runtime import PersonaRuntime
from tests.fakes.fake_llm import FakeLLMServer, Reply, ServerError

KEY = ThreadKey("test", "w1", "c1", "t1")
START = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # a Wednesday
_ids = itertools.count(1)


class Clock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)


class CollectingSink:
    def __init__(self) -> None:
        self.records: list[HandoffRecord] = []

    async def deliver(self, record: HandoffRecord, *, link: str | None = None) -> bool:
        self.records.append(record)
        return True


def say(text: str, *, staff: bool = False, author: str = "u1") -> IncomingMessage:
    return IncomingMessage(KEY, author, text, f"m{next(_ids)}", is_staff=staff)


async def run(engine: Engine, message: IncomingMessage) -> list[EngineEvent]:
    return [event async for event in engine.handle(message)]


def only(events: list[EngineEvent], kind: type) -> object:
    found = [e for e in events if isinstance(e, kind)]
    assert len(found) == 1, events
    return found[0]


async def state(store: SQLiteStore) -> ConversationState:
    conversation = await store.get_conversation(KEY)
    assert conversation is not None
    return conversation.state


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sink() -> CollectingSink:
    return CollectingSink()


def make_engine(
    store: SQLiteStore,
    runtime: PersonaRuntime,
    clock: Clock,
    llm: OpenAIChatClient | None = None,
    sink: CollectingSink | None = None,
) -> Engine:
    return Engine(
        store=store,
        personas={runtime.persona.name: runtime},
        default_persona=runtime.persona.name,
        llm=llm,
        clock=clock,
        handoff_sinks=[sink] if sink else [],
    )


@pytest.fixture
def offline(
    store: SQLiteStore, cafe_runtime: PersonaRuntime, clock: Clock, sink: CollectingSink
) -> Engine:
    return make_engine(store, cafe_runtime, clock, sink=sink)


@pytest.fixture
def online(
    store: SQLiteStore,
    cafe_runtime: PersonaRuntime,
    clock: Clock,
    llm_client: OpenAIChatClient,
    sink: CollectingSink,
) -> Engine:
    return make_engine(store, cafe_runtime, clock, llm=llm_client, sink=sink)


# --- triggers -------------------------------------------------------------------------


async def test_asking_for_a_person_hands_off_before_any_model_call(
    online: Engine, llm_server: FakeLLMServer, store: SQLiteStore, sink: CollectingSink
) -> None:
    await run(online, say("Is there parking?"))
    llm_server.script(Reply("Customer wants a person.\nNothing answered yet.\nReply in thread."))
    events = await run(online, say("can I talk to a real person please"))
    handoff = only(events, HandoffRequested)
    assert isinstance(handoff, HandoffRequested)
    assert handoff.reason is HandoffReason.USER_ASKED
    assert handoff.message == "A person from our team will take it from here."
    record = handoff.record
    assert record is not None
    assert record.key == KEY
    assert record.user_id == "u1"
    # The structured lines always stay; the model's summary is added, labelled.
    assert record.summary == (
        "First asked: Is there parking?",
        "Latest: can I talk to a real person please",
        "Why a person: user asked",
        "Assistant's summary: Customer wants a person. Nothing answered yet. Reply in thread.",
    )
    assert record.last_messages[0] == ("user", "Is there parking?")
    assert await state(store) is ConversationState.WAITING_FOR_HUMAN
    # The only model call after the parking answer wrote the summary; the request for a
    # person itself never went to the model.
    summary_request = llm_server.requests[-1].body
    assert "hand-off notes" in summary_request["messages"][0]["content"]
    await online.aclose()
    assert sink.records == [record]


@pytest.mark.parametrize(
    "text",
    [
        "am I talking to a bot?",
        "who is the human resources contact",
        "my travel agent booked it",
        "talk to me about the menu",
    ],
)
async def test_hard_negatives_do_not_hand_off(offline: Engine, text: str) -> None:
    events = await run(offline, say(text))
    assert not [e for e in events if isinstance(e, HandoffRequested)]
    assert isinstance(events[-1], FinalReply)


async def test_offline_summary_is_extractive(offline: Engine, sink: CollectingSink) -> None:
    await run(offline, say("Do you have vegan cakes?"))
    events = await run(offline, say("I want to speak to a human"))
    record = only(events, HandoffRequested).record  # type: ignore[attr-defined]
    assert record.summary[0] == "First asked: Do you have vegan cakes?"
    assert record.summary[1] == "Latest: I want to speak to a human"
    assert record.summary[2].startswith("Why a person: user asked")


async def test_the_model_tool_hands_off(
    online: Engine, llm_server: FakeLLMServer, store: SQLiteStore
) -> None:
    llm_server.script(Reply(tool_calls=(("handoff_to_human", '{"reason": "refund"}'),)))
    events = await run(online, say("I want my money back for the broken cup"))
    handoff = only(events, HandoffRequested)
    assert handoff.reason is HandoffReason.MODEL_TOOL  # type: ignore[attr-defined]
    assert handoff.detail == "refund"  # type: ignore[attr-defined]
    assert await state(store) is ConversationState.WAITING_FOR_HUMAN


async def test_repeated_unanswered_questions_hand_off(offline: Engine, store: SQLiteStore) -> None:
    for question in ("do you repair bicycles?", "what about scooters?"):
        reply = only(await run(offline, say(question)), FinalReply)
        assert reply.source is ReplySource.FALLBACK  # type: ignore[attr-defined]
    events = await run(offline, say("can you fix a motorbike gearbox?"))
    handoff = only(events, HandoffRequested)
    assert handoff.reason is HandoffReason.NO_ANSWER  # type: ignore[attr-defined]
    assert not [e for e in events if isinstance(e, FinalReply)]


async def test_an_answer_resets_the_unanswered_count(offline: Engine) -> None:
    await run(offline, say("do you repair bicycles?"))
    await run(offline, say("what about scooters?"))
    await run(offline, say("is there wifi?"))
    events = await run(offline, say("can you fix a motorbike gearbox?"))
    assert isinstance(events[-1], FinalReply)


async def test_yes_to_the_offer_of_a_person_hands_off(offline: Engine) -> None:
    reply = only(await run(offline, say("do you repair bicycles?")), FinalReply)
    assert "Shall I get a person?" in reply.text  # type: ignore[attr-defined]
    handoff = only(await run(offline, say("yes please")), HandoffRequested)
    assert handoff.reason is HandoffReason.NO_ANSWER  # type: ignore[attr-defined]


async def test_the_offer_lapses_after_another_question(offline: Engine) -> None:
    await run(offline, say("do you repair bicycles?"))
    await run(offline, say("is there wifi?"))
    events = await run(offline, say("yes"))
    assert not [e for e in events if isinstance(e, HandoffRequested)]


async def test_llm_down_with_no_answer_in_the_knowledge_hands_off(
    online: Engine, llm_server: FakeLLMServer
) -> None:
    llm_server.default = lambda body: ServerError(500)
    handoff = only(await run(online, say("can you fix a motorbike gearbox?")), HandoffRequested)
    assert handoff.reason is HandoffReason.LLM_UNAVAILABLE  # type: ignore[attr-defined]
    record = handoff.record  # type: ignore[attr-defined]
    assert record.summary[0].startswith("First asked:")  # no model to summarise


async def test_thumbs_down_then_yes_hands_off(offline: Engine) -> None:
    await run(offline, say("is there wifi?"))
    offer = await offline.feedback(KEY, "m-answer", "u1", positive=False)
    assert offer is not None
    assert offer.text == "Shall I get a person?"
    handoff = only(await run(offline, say("yes please")), HandoffRequested)
    assert handoff.reason is HandoffReason.FEEDBACK  # type: ignore[attr-defined]


async def test_after_thumbs_down_and_yes_latest_is_the_question_that_failed(
    offline: Engine,
) -> None:
    await run(offline, say("is there parking?"))
    await run(offline, say("is there wifi?"))
    await offline.feedback(KEY, "m-answer", "u1", positive=False)
    handoff = only(await run(offline, say("yes please")), HandoffRequested)
    record = handoff.record  # type: ignore[attr-defined]
    assert record.summary[:2] == ("First asked: is there parking?", "Latest: is there wifi?")
    assert record.summary[2] == "Why a person: feedback"


async def test_a_nonsense_model_summary_keeps_the_structured_lines(
    online: Engine, llm_server: FakeLLMServer
) -> None:
    llm_server.script(
        Reply("We have parking behind the cafe [parking]."),
        Reply("@here banana banana banana\n\n- the the the"),
    )
    await run(online, say("is there parking?"))
    handoff = only(await run(online, say("I want a human")), HandoffRequested)
    record = handoff.record  # type: ignore[attr-defined]
    assert record.summary[:3] == (
        "First asked: is there parking?",
        "Latest: I want a human",
        "Why a person: user asked",
    )
    assert record.summary[3].startswith("Assistant's summary: ")
    assert "@here" not in record.summary[3]


async def test_thumbs_up_offers_nothing(offline: Engine) -> None:
    await run(offline, say("is there wifi?"))
    assert await offline.feedback(KEY, "m-answer", "u1", positive=True) is None


async def test_staff_command_hands_off(offline: Engine, store: SQLiteStore) -> None:
    await run(offline, say("is there wifi?"))
    handoff = await offline.staff_handoff(KEY, "alice", "VIP guest")
    assert isinstance(handoff, HandoffRequested)
    assert handoff.reason is HandoffReason.STAFF
    assert "VIP guest" in handoff.detail
    assert await state(store) is ConversationState.WAITING_FOR_HUMAN


# --- transitions ----------------------------------------------------------------------


async def test_staff_message_claims_and_the_bot_stays_quiet(
    offline: Engine, store: SQLiteStore
) -> None:
    await run(offline, say("I want a human"))
    assert await run(offline, say("hello?")) == [Silent(SilenceReason.HUMAN_OWNS_THREAD)]
    claimed = await run(offline, say("Hi, Alice here, how can I help?", staff=True, author="alice"))
    assert claimed == [HandoffClaimed(KEY, "alice")]
    assert await state(store) is ConversationState.HUMAN
    assert await run(offline, say("is there wifi?")) == [Silent(SilenceReason.HUMAN_OWNS_THREAD)]
    conversation = await store.get_conversation(KEY)
    assert conversation is not None
    roles = [t.role for t in await store.recent_turns(conversation.id, 50)]
    assert roles[-3:] == [Role.USER, Role.STAFF, Role.USER]  # still recorded


async def test_claim_command_and_double_claim(offline: Engine) -> None:
    await run(offline, say("agent please"))
    assert await offline.claim(KEY, "bob") == HandoffClaimed(KEY, "bob")
    assert await offline.claim(KEY, "carol") == Silent(SilenceReason.NOT_HANDED_OFF)


async def test_resolve_hands_back_with_a_note_for_the_model(
    online: Engine, llm_server: FakeLLMServer, store: SQLiteStore, clock: Clock
) -> None:
    await run(online, say("I want to talk to a person"))
    clock.advance(2)
    await run(online, say("Refund done, anything else?", staff=True, author="alice"))
    clock.advance(3)
    resolved = await online.resolve(KEY, "alice")
    assert resolved == HandoffResolved(
        KEY,
        "alice",
        "You're back with the assistant. Ask me anything else!",
        staff_answered=True,  # Alice wrote in the thread: the team is offered "Save as FAQ"
    )
    assert await state(store) is ConversationState.RESOLVED
    llm_server.script(Reply("Sure, we have free wifi [wifi]."))
    reply = only(await run(online, say("is there wifi?")), FinalReply)
    assert reply.text == "Sure, we have free wifi."  # type: ignore[attr-defined]
    assert await state(store) is ConversationState.BOT
    sent = llm_server.requests[-1].body["messages"]
    staff = [m for m in sent if "Refund done" in m["content"]]
    assert staff
    assert "[A person from the support team wrote]: Refund done" in staff[0]["content"]
    notes = [m for m in sent[1:] if "handled this conversation" in m["content"]]
    assert len(notes) == 1
    assert "[Note]: A person from the support team handled" in notes[0]["content"]
    assert "12:00 UTC to 12:05 UTC" in notes[0]["content"]
    roles = [m["role"] for m in sent]
    assert roles[0] == "system"
    assert "system" not in roles[1:]
    assert all(a != b for a, b in itertools.pairwise(roles[1:]))  # alternating


async def test_resolving_a_thread_that_is_not_handed_off(offline: Engine) -> None:
    await run(offline, say("is there wifi?"))
    assert await offline.resolve(KEY, "alice") == Silent(SilenceReason.NOT_HANDED_OFF)


@pytest.mark.parametrize("step", ["bot", "waiting", "human", "resolved"])
async def test_restart_in_each_state_changes_nothing(
    db_path: Path, cafe_runtime: PersonaRuntime, clock: Clock, step: str
) -> None:
    first_store = SQLiteStore(db_path)
    await first_store.open()
    first = make_engine(first_store, cafe_runtime, clock)
    await run(first, say("is there parking?" if step == "bot" else "I want a human"))
    if step in ("human", "resolved"):
        await first.claim(KEY, "alice")
    if step == "resolved":
        await first.resolve(KEY, "alice")
    await first_store.close()

    second_store = SQLiteStore(db_path)
    await second_store.open()
    second = make_engine(second_store, cafe_runtime, clock)
    events = await run(second, say("is there wifi?"))
    await second_store.close()
    if step in ("bot", "resolved"):
        assert isinstance(events[-1], FinalReply)
    else:
        assert events == [Silent(SilenceReason.HUMAN_OWNS_THREAD)]


# --- timers ---------------------------------------------------------------------------


async def test_one_reminder_when_unclaimed(offline: Engine, clock: Clock) -> None:
    await run(offline, say("I want a human"))
    clock.advance(14)
    assert await offline.tick() == []
    clock.advance(2)
    reminders = await offline.tick()
    assert len(reminders) == 1
    reminder = reminders[0]
    assert isinstance(reminder, HandoffReminder)
    assert reminder.waiting_minutes == 16
    assert reminder.record.key == KEY
    clock.advance(30)
    assert await offline.tick() == []


async def test_no_reminder_once_claimed(offline: Engine, clock: Clock) -> None:
    await run(offline, say("I want a human"))
    await offline.claim(KEY, "alice")
    clock.advance(60)
    assert await offline.tick() == []


async def test_quiet_thread_goes_back_to_the_bot(
    offline: Engine, clock: Clock, store: SQLiteStore
) -> None:
    await run(offline, say("I want a human"))
    await offline.claim(KEY, "alice")
    clock.advance(239)
    assert await offline.tick() == []
    clock.advance(2)
    events = await offline.tick()
    assert events == [
        HandoffResolved(KEY, None, "You're back with the assistant. Ask me anything else!")
    ]
    assert await state(store) is ConversationState.RESOLVED


# --- support hours --------------------------------------------------------------------


async def test_outside_support_hours_the_user_is_told_when(
    store: SQLiteStore, cafe_runtime: PersonaRuntime
) -> None:
    persona = cafe_runtime.persona.model_copy(
        update={
            "handoff": cafe_runtime.persona.handoff.model_copy(
                update={
                    "hours": SupportHours(timezone="Europe/Paris", days={"monday": "09:00-17:00"})
                }
            )
        }
    )
    runtime = PersonaRuntime(
        persona,
        cafe_runtime.model,
        cafe_runtime.retriever,
        cafe_runtime.catalog,
        cafe_runtime.counter,
    )
    # Wednesday 20:00 in Paris: closed until Monday 09:00.
    engine = make_engine(store, runtime, Clock(datetime(2026, 3, 4, 19, 0, tzinfo=UTC)))
    handoff = only(await run(engine, say("I want a human")), HandoffRequested)
    assert isinstance(handoff, HandoffRequested)
    assert "on Monday at 09:00 (Europe/Paris)" in handoff.message
    assert handoff.record is not None
    assert handoff.record.out_of_hours


def test_persona_hours_are_validated(cafe_persona: Persona) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="did you mean `monday`"):
        cafe_persona.handoff.model_validate(
            {"hours": {"timezone": "UTC", "days": {"mondey": "09:00-17:00"}}}
        )


async def test_a_staff_message_in_a_bot_thread_is_recorded_not_answered(
    offline: Engine, store: SQLiteStore
) -> None:
    await run(offline, say("is there wifi?"))
    events = await run(offline, say("Hi, Ana from the team here", staff=True, author="ana"))
    assert events == [Silent(SilenceReason.STAFF_MESSAGE)]
    assert await state(store) is ConversationState.BOT
    conversation = await store.get_conversation(KEY)
    assert conversation is not None
    assert conversation.failed_turns == 0
    turns = await store.recent_turns(conversation.id, 10)
    assert (turns[-1].role, turns[-1].text) == (Role.STAFF, "Hi, Ana from the team here")


async def test_a_summary_that_fails_falls_back_to_extractive(
    online: Engine, llm_server: FakeLLMServer
) -> None:
    llm_server.script(ServerError(500), ServerError(500), ServerError(500))
    handoff = only(await run(online, say("I want to talk to a person")), HandoffRequested)
    record = handoff.record  # type: ignore[attr-defined]
    assert record.summary[0] == "First asked: I want to talk to a person"


async def test_user_text_cannot_ping_the_support_channel(offline: Engine) -> None:
    await run(offline, say("@everyone <!channel> hello"))
    handoff = only(await run(offline, say("agent please")), HandoffRequested)
    record = handoff.record  # type: ignore[attr-defined]
    shown = " ".join(record.summary) + " ".join(text for _, text in record.last_messages)
    assert "@everyone" not in shown
    assert "<!channel>" not in shown


async def test_the_adapter_link_reaches_the_record_and_the_webhook(
    store: SQLiteStore, cafe_runtime: PersonaRuntime, clock: Clock
) -> None:
    class LinkSink(CollectingSink):
        def __init__(self) -> None:
            super().__init__()
            self.links: list[str | None] = []

        async def deliver(self, record: HandoffRecord, *, link: str | None = None) -> bool:
            self.links.append(link)
            return await super().deliver(record, link=link)

    sink = LinkSink()
    engine = Engine(
        store=store,
        personas={"cafe": cafe_runtime},
        default_persona="cafe",
        llm=None,
        clock=clock,
        handoff_sinks=[sink],
        link_for=lambda key: f"https://chat.example/{key.channel}/{key.thread}",
    )
    handoff = only(await run(engine, say("agent please")), HandoffRequested)
    await engine.aclose()
    assert handoff.record.link == "https://chat.example/c1/t1"  # type: ignore[attr-defined]
    assert sink.links == ["https://chat.example/c1/t1"]


async def test_reminders_wait_for_the_team_to_be_in(
    store: SQLiteStore, cafe_runtime: PersonaRuntime
) -> None:
    runtime = with_hours(cafe_runtime, {"monday": "09:00-17:00"}, "UTC")
    clock = Clock(datetime(2026, 3, 4, 20, 0, tzinfo=UTC))  # Wednesday evening: closed
    engine = make_engine(store, runtime, clock)
    await run(engine, say("I want a human"))
    clock.advance(60)
    assert await engine.tick() == []
    clock.now = datetime(2026, 3, 9, 9, 10, tzinfo=UTC)  # Monday 09:10: in for 10 minutes
    assert await engine.tick() == []
    clock.now = datetime(2026, 3, 9, 9, 16, tzinfo=UTC)
    reminders = await engine.tick()
    assert [type(r) for r in reminders] == [HandoffReminder]


def with_hours(runtime: PersonaRuntime, days: dict[str, str], zone: str) -> PersonaRuntime:
    persona = runtime.persona
    handoff = persona.handoff.model_copy(update={"hours": SupportHours(timezone=zone, days=days)})
    return PersonaRuntime(
        persona.model_copy(update={"handoff": handoff}),
        runtime.model,
        runtime.retriever,
        runtime.catalog,
        runtime.counter,
    )


@pytest.mark.parametrize("span", ["10:00-24:30", "18:00-09:00", "9:00-17:00", "10:00"])
def test_bad_opening_times_are_refused(span: str) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="expected opening times"):
        SupportHours(days={"monday": span})


def test_a_day_open_until_midnight() -> None:
    from bots.handoff.hours import next_opening

    hours = SupportHours(timezone="UTC", days={"wednesday": "10:00-24:00"})
    assert next_opening(hours, datetime(2026, 3, 4, 23, 59, tzinfo=UTC)) is None
    assert next_opening(hours, datetime(2026, 3, 4, 9, 0, tzinfo=UTC)) == datetime(
        2026, 3, 4, 10, 0, tzinfo=UTC
    )


async def test_a_claim_from_another_process_during_the_model_call_wins(
    db_path: Path, cafe_runtime: PersonaRuntime, clock: Clock
) -> None:
    ours = SQLiteStore(db_path)
    theirs = SQLiteStore(db_path)  # another bot process on the same database
    await ours.open()
    await theirs.open()
    other = make_engine(theirs, cafe_runtime, clock)

    class SlowModel:
        """While it writes, a staff member takes the thread through the other process."""

        async def stream(self, request: ChatRequest) -> AsyncIterator[LLMEvent]:
            await other.staff_handoff(KEY, "alice", "")
            await other.claim(KEY, "alice")
            yield ContentDelta("Here is your answer.")
            yield Completed("Here is your answer.", (), Usage(1, 1), "stop")

    engine = Engine(
        store=ours,
        personas={"cafe": cafe_runtime},
        default_persona="cafe",
        llm=SlowModel(),
        clock=clock,
    )
    events = await run(engine, say("and the wifi password?"))
    await ours.close()
    await theirs.close()
    assert events[-1] == Silent(SilenceReason.HUMAN_OWNS_THREAD)
    assert not [e for e in events if isinstance(e, FinalReply)]


async def test_a_staff_member_who_asks_the_bot_gets_an_answer(offline: Engine) -> None:
    asking = IncomingMessage(
        KEY, "ana", "is there wifi?", "m-ask", is_staff=True, addressed_to_bot=True
    )
    events = await run(offline, asking)
    assert isinstance(events[-1], FinalReply)
