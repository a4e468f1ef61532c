"""The behaviour every conversation store must show, written once for all backends.

Use it by subclassing in a test module that provides a `store` fixture yielding an *open*
store (and closing it afterwards)::

    class TestMyStore(StoreContract):
        pass

The class name does not start with "Test", so pytest collects these cases only through
the subclasses. Register the module for assertion rewriting before importing it
(`pytest.register_assert_rewrite("tests.contracts.store_contract")`) to get readable failures.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bots.errors import StoreError
from bots.models import ConversationState, Role, ThreadKey, Turn, Usage
from bots.store import Store

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
KEY = ThreadKey("slack", "T01", "C01", "1714564800.000100")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def make_turn(
    text: str = "hello",
    *,
    seconds: float = 0,
    role: Role = Role.USER,
    message_id: str = "m1",
    cited_ids: tuple[str, ...] = (),
) -> Turn:
    return Turn(
        role=role,
        text=text,
        author_id="U42",
        message_id=message_id,
        created_at=at(seconds),
        token_count=len(text.split()),
        cited_ids=cited_ids,
    )


def thread(name: str, channel: str = "C01") -> ThreadKey:
    return ThreadKey("slack", "T01", channel, name)


class StoreContract:
    """Contract cases; a subclass supplies the `store` fixture."""

    # -- conversations ----------------------------------------------------------------

    async def test_ensure_conversation_creates_once(self, store: Store) -> None:
        first = await store.ensure_conversation(KEY, "restaurant", T0)
        again = await store.ensure_conversation(KEY, "another-persona", at(60))

        assert first.id == KEY.as_id()
        assert first.key == KEY
        assert first.persona == "restaurant"
        assert first.state is ConversationState.BOT
        assert first.created_at == T0
        assert first.updated_at == T0
        assert first.created_at.tzinfo is not None
        assert again == first  # the persona and times of the existing one are kept

    async def test_concurrent_ensure_conversation_creates_one(self, store: Store) -> None:
        results = await asyncio.gather(
            *(store.ensure_conversation(KEY, "restaurant", at(i)) for i in range(20))
        )
        assert len({c.id for c in results}) == 1
        assert len({c.created_at for c in results}) == 1

    async def test_get_conversation(self, store: Store) -> None:
        assert await store.get_conversation(KEY) is None
        created = await store.ensure_conversation(KEY, "restaurant", T0)
        assert await store.get_conversation(KEY) == created
        assert await store.get_conversation(thread("other")) is None

    async def test_set_state_persists(self, store: Store) -> None:
        conversation = await store.ensure_conversation(KEY, "restaurant", T0)
        await store.set_state(conversation.id, ConversationState.WAITING_FOR_HUMAN, at(10))
        after = await store.get_conversation(KEY)
        assert after is not None
        assert after.state is ConversationState.WAITING_FOR_HUMAN
        assert after.updated_at == at(10)
        assert after.created_at == T0

        await store.set_state(conversation.id, ConversationState.HUMAN, at(20))
        await store.set_state(conversation.id, ConversationState.RESOLVED, at(30))
        final = await store.get_conversation(KEY)
        assert final is not None
        assert final.state is ConversationState.RESOLVED

    async def test_set_state_of_unknown_conversation_fails(self, store: Store) -> None:
        with pytest.raises(StoreError):
            await store.set_state("nope/nope/nope/nope", ConversationState.HUMAN, T0)

    async def test_recent_conversations_newest_first(self, store: Store) -> None:
        assert await store.recent_conversations(10) == []
        for i, name in enumerate(("a", "b", "c")):
            await store.ensure_conversation(thread(name), "restaurant", at(i))
        await store.append_turn(thread("a").as_id(), make_turn("back again", seconds=50))

        recent = await store.recent_conversations(2)
        assert [c.key for c in recent] == [thread("a"), thread("c")]

    async def test_feedback_of_gives_each_messages_latest_feedback(self, store: Store) -> None:
        conversation = await store.ensure_conversation(KEY, "restaurant", T0)
        assert await store.feedback_of(conversation.id) == {}
        await store.add_feedback(conversation.id, "m1", "U42", True, at(1))
        await store.add_feedback(conversation.id, "m2", "U42", True, at(2))
        await store.add_feedback(conversation.id, "m2", "U42", False, at(3))
        assert await store.feedback_of(conversation.id) == {"m1": True, "m2": False}

    async def test_latest_conversation_picks_newest(self, store: Store) -> None:
        assert await store.latest_conversation("slack", "T01", "C01") is None
        for i, name in enumerate(("a", "b", "c")):
            await store.ensure_conversation(thread(name), "restaurant", at(i))
        await store.ensure_conversation(thread("elsewhere", "C02"), "restaurant", at(99))

        latest = await store.latest_conversation("slack", "T01", "C01")
        assert latest is not None
        assert latest.key == thread("c")

        # Activity moves a conversation to the front.
        await store.append_turn(thread("a").as_id(), make_turn("back again", seconds=50))
        latest = await store.latest_conversation("slack", "T01", "C01")
        assert latest is not None
        assert latest.key == thread("a")
        assert latest.updated_at == at(50)

        other = await store.latest_conversation("slack", "T01", "C02")
        assert other is not None
        assert other.key == thread("elsewhere", "C02")
        assert await store.latest_conversation("discord", "T01", "C01") is None

    async def test_latest_conversation_tie_goes_to_the_last_created(self, store: Store) -> None:
        for name in ("a", "b", "c"):
            await store.ensure_conversation(thread(name), "restaurant", T0)
        latest = await store.latest_conversation("slack", "T01", "C01")
        assert latest is not None
        assert latest.key == thread("c")

    # -- turns ------------------------------------------------------------------------

    async def test_record_incoming_once_per_event(self, store: Store) -> None:
        conversation = await store.ensure_conversation(KEY, "restaurant", T0)
        assert await store.record_incoming(conversation.id, "Ev1", make_turn("first"))
        assert not await store.record_incoming(conversation.id, "Ev1", make_turn("redelivery"))

        turns = await store.recent_turns(conversation.id, 10)
        assert [t.text for t in turns] == ["first"]

    async def test_record_incoming_updates_conversation(self, store: Store) -> None:
        conversation = await store.ensure_conversation(KEY, "restaurant", T0)
        await store.record_incoming(conversation.id, "Ev1", make_turn(seconds=42))
        after = await store.get_conversation(KEY)
        assert after is not None
        assert after.updated_at == at(42)

    async def test_record_incoming_for_unknown_conversation_writes_nothing(
        self, store: Store
    ) -> None:
        with pytest.raises(StoreError):
            await store.record_incoming(KEY.as_id(), "Ev1", make_turn())
        # The failed attempt did not mark the event processed.
        conversation = await store.ensure_conversation(KEY, "restaurant", T0)
        assert await store.record_incoming(conversation.id, "Ev1", make_turn())
        assert len(await store.recent_turns(conversation.id, 10)) == 1

    async def test_append_turn_to_unknown_conversation_fails(self, store: Store) -> None:
        with pytest.raises(StoreError):
            await store.append_turn(KEY.as_id(), make_turn())

    async def test_turn_round_trips_every_field(self, store: Store) -> None:
        conversation = await store.ensure_conversation(KEY, "restaurant", T0)
        paris = timezone(timedelta(hours=2))
        incoming = Turn(
            role=Role.USER,
            text="Avez-vous une table pour 4 ? 🍝\n<!channel> `code` 'quotes' \"double\"",
            author_id="U42",
            message_id="1714564801.000200",
            created_at=datetime(2024, 5, 1, 14, 0, 1, 123456, tzinfo=paris),
            token_count=17,
        )
        reply = Turn(
            role=Role.ASSISTANT,
            text="Yes, we seat groups of up to 8.",
            author_id="bot",
            message_id="1714564802.000300",
            created_at=at(2),
            token_count=9,
            cited_ids=("faq-groups", "faq-hours"),
        )
        note = Turn(Role.NOTE, "A person handled this.", "", "", at(3), 0)
        staff = Turn(Role.STAFF, "Hi, Sam here.", "U7", "s1", at(4), 4, ())
        assert await store.record_incoming(conversation.id, "Ev1", incoming)
        for turn in (reply, note, staff):
            await store.append_turn(conversation.id, turn)

        stored = await store.recent_turns(conversation.id, 10)
        assert stored == [incoming, reply, note, staff]
        assert all(t.created_at.tzinfo is not None for t in stored)
        assert stored[0].created_at == datetime(2024, 5, 1, 12, 0, 1, 123456, tzinfo=UTC)
        assert stored[1].cited_ids == ("faq-groups", "faq-hours")
        assert isinstance(stored[1].cited_ids, tuple)
        assert stored[0].role is Role.USER

    async def test_recent_turns_limit_and_order(self, store: Store) -> None:
        conversation = await store.ensure_conversation(KEY, "restaurant", T0)
        for i in range(5):
            await store.append_turn(conversation.id, make_turn(f"t{i}", seconds=i))

        assert [t.text for t in await store.recent_turns(conversation.id, 3)] == [
            "t2",
            "t3",
            "t4",
        ]
        assert [t.text for t in await store.recent_turns(conversation.id, 99)] == [
            f"t{i}" for i in range(5)
        ]
        assert await store.recent_turns(conversation.id, 0) == []
        assert await store.recent_turns("no/such/conversation/here", 5) == []

    async def test_recent_turns_keeps_insertion_order_for_equal_times(self, store: Store) -> None:
        conversation = await store.ensure_conversation(KEY, "restaurant", T0)
        for i in range(4):
            await store.append_turn(conversation.id, make_turn(f"t{i}"))
        assert [t.text for t in await store.recent_turns(conversation.id, 4)] == [
            "t0",
            "t1",
            "t2",
            "t3",
        ]

    async def test_turns_stay_in_their_conversation(self, store: Store) -> None:
        a = await store.ensure_conversation(thread("a"), "restaurant", T0)
        b = await store.ensure_conversation(thread("b"), "restaurant", T0)
        await store.append_turn(a.id, make_turn("for a"))
        await store.append_turn(b.id, make_turn("for b"))
        assert [t.text for t in await store.recent_turns(a.id, 10)] == ["for a"]
        assert [t.text for t in await store.recent_turns(b.id, 10)] == ["for b"]

    # -- usage ------------------------------------------------------------------------

    async def test_add_usage_accumulates(self, store: Store) -> None:
        conversation = await store.ensure_conversation(KEY, "restaurant", T0)
        assert await store.usage(conversation.id) == Usage()
        await store.add_usage(conversation.id, Usage(10, 5))
        await store.add_usage(conversation.id, Usage(3, 2))
        assert await store.usage(conversation.id) == Usage(13, 7)

        other = await store.ensure_conversation(thread("other"), "restaurant", T0)
        assert await store.usage(other.id) == Usage()

    # -- concurrency ------------------------------------------------------------------

    async def test_concurrent_redeliveries_are_recorded_once(self, store: Store) -> None:
        conversation = await store.ensure_conversation(KEY, "restaurant", T0)
        results = await asyncio.gather(
            *(
                store.record_incoming(conversation.id, "Ev-same", make_turn(f"copy {i}"))
                for i in range(50)
            )
        )
        assert results.count(True) == 1
        assert len(await store.recent_turns(conversation.id, 100)) == 1

    async def test_concurrent_conversations_all_land(self, store: Store) -> None:
        async def one_conversation(n: int) -> None:
            conversation = await store.ensure_conversation(thread(f"t{n}"), "restaurant", T0)
            assert await store.record_incoming(
                conversation.id, f"Ev{n}", make_turn(f"question {n}", seconds=1)
            )
            await store.append_turn(
                conversation.id, make_turn(f"answer {n}", seconds=2, role=Role.ASSISTANT)
            )
            await store.add_usage(conversation.id, Usage(n, 1))
            await store.set_state(conversation.id, ConversationState.RESOLVED, at(3))

        count = 60
        await asyncio.gather(*(one_conversation(n) for n in range(count)))

        for n in range(count):
            key = thread(f"t{n}")
            conversation = await store.get_conversation(key)
            assert conversation is not None
            assert conversation.state is ConversationState.RESOLVED
            turns = await store.recent_turns(key.as_id(), 10)
            assert [t.text for t in turns] == [f"question {n}", f"answer {n}"]
            assert await store.usage(key.as_id()) == Usage(n, 1)

    # -- hand-off lifecycle -------------------------------------------------------------

    async def test_handoff_lifecycle_moves_through_every_state(self, store: Store) -> None:
        conversation = await store.ensure_conversation(KEY, "restaurant", T0)
        opened = await store.open_handoff(conversation.id, "user_asked", "asked", ["a", "b"], at(1))
        assert opened is not None
        assert (opened.reason, opened.summary, opened.requested_at) == (
            "user_asked",
            ("a", "b"),
            at(1),
        )
        assert await _state(store) is ConversationState.WAITING_FOR_HUMAN

        assert await store.open_handoff(conversation.id, "again", "", [], at(2)) is None
        assert await store.claim_handoff(conversation.id, "staff-1", at(3))
        assert not await store.claim_handoff(conversation.id, "staff-2", at(4))
        assert await _state(store) is ConversationState.HUMAN

        closed = await store.resolve_handoff(conversation.id, "staff-1", at(5))
        assert closed is not None
        assert (closed.claimed_by, closed.claimed_at) == ("staff-1", at(3))
        assert (closed.resolved_by, closed.resolved_at) == ("staff-1", at(5))
        assert await _state(store) is ConversationState.RESOLVED
        assert await store.resolve_handoff(conversation.id, "staff-1", at(6)) is None

        # A resolved conversation can be handed off again: a new record.
        second = await store.open_handoff(conversation.id, "model_tool", "x", [], at(7))
        assert second is not None
        assert second.id != opened.id
        assert await store.current_handoff(conversation.id) == second

    async def test_automatic_hand_back_skips_a_thread_that_just_saw_activity(
        self, store: Store
    ) -> None:
        conversation = await store.ensure_conversation(KEY, "restaurant", T0)
        await store.open_handoff(conversation.id, "r", "", [], at(1))
        await store.claim_handoff(conversation.id, "s", at(2))
        await store.append_turn(conversation.id, make_turn("staff reply", seconds=100))
        assert (
            await store.resolve_handoff(conversation.id, None, at(101), idle_since=at(50)) is None
        )
        assert await _state(store) is ConversationState.HUMAN
        assert await store.resolve_handoff(conversation.id, None, at(200), idle_since=at(150))
        assert await _state(store) is ConversationState.RESOLVED

    async def test_concurrent_handoffs_open_once(self, store: Store) -> None:
        conversation = await store.ensure_conversation(KEY, "restaurant", T0)
        results = await asyncio.gather(
            *(store.open_handoff(conversation.id, "r", "", [], at(i)) for i in range(10))
        )
        assert len([r for r in results if r is not None]) == 1

    async def test_counters_round_trip_and_reset_on_handoff(self, store: Store) -> None:
        conversation = await store.ensure_conversation(KEY, "restaurant", T0)
        await store.set_counters(conversation.id, failed_turns=2, offer_reason="no_answer")
        stored = await store.get_conversation(KEY)
        assert stored is not None
        assert (stored.failed_turns, stored.offer_reason) == (2, "no_answer")
        await store.open_handoff(conversation.id, "r", "", [], at(1))
        stored = await store.get_conversation_by_id(conversation.id)
        assert stored is not None
        assert (stored.failed_turns, stored.offer_reason) == (0, None)

    async def test_reminders_are_found_once(self, store: Store) -> None:
        conversation = await store.ensure_conversation(KEY, "restaurant", T0)
        handoff = await store.open_handoff(conversation.id, "r", "", [], at(10))
        assert handoff is not None
        assert await store.unclaimed_handoffs(at(10)) == []
        due = await store.unclaimed_handoffs(at(11))
        assert [h.id for h in due] == [handoff.id]
        assert await store.mark_reminded(handoff.id, at(12))
        assert not await store.mark_reminded(handoff.id, at(13))
        assert await store.unclaimed_handoffs(at(100)) == []

    async def test_claimed_handoffs_need_no_reminder(self, store: Store) -> None:
        conversation = await store.ensure_conversation(KEY, "restaurant", T0)
        await store.open_handoff(conversation.id, "r", "", [], at(1))
        await store.claim_handoff(conversation.id, "s", at(2))
        assert await store.unclaimed_handoffs(at(100)) == []

    async def test_quiet_conversations(self, store: Store) -> None:
        conversation = await store.ensure_conversation(KEY, "restaurant", T0)
        await store.open_handoff(conversation.id, "r", "", [], at(1))
        await store.claim_handoff(conversation.id, "s", at(2))
        await store.append_turn(conversation.id, make_turn("staff says hi", seconds=30))
        assert await store.quiet_conversations(ConversationState.HUMAN, at(30)) == []
        quiet = await store.quiet_conversations(ConversationState.HUMAN, at(31))
        assert [c.id for c in quiet] == [conversation.id]

    async def test_unanswered_turns_are_user_messages_left_without_a_reply(
        self, store: Store
    ) -> None:
        answered = await store.ensure_conversation(thread("answered"), "restaurant", T0)
        await store.record_incoming(answered.id, "e1", make_turn("q1", seconds=1))
        await store.append_turn(answered.id, make_turn("a1", seconds=2, role=Role.ASSISTANT))
        pending = await store.ensure_conversation(thread("pending"), "restaurant", T0)
        await store.record_incoming(pending.id, "e2", make_turn("q2", seconds=3, message_id="m2"))
        with_people = await store.ensure_conversation(thread("people"), "restaurant", T0)
        await store.record_incoming(with_people.id, "e3", make_turn("q3", seconds=4))
        await store.open_handoff(with_people.id, "r", "", [], at(5))

        found = await store.unanswered_turns(T0, at(10))
        assert [(c.id, t.text, t.message_id, t.created_at) for c, t in found] == [
            (pending.id, "q2", "m2", at(3))
        ]
        assert found[0][0].key == thread("pending")
        assert await store.unanswered_turns(T0, at(3)) == []  # `before` excludes it
        assert await store.unanswered_turns(at(4), at(10)) == []  # and so does `since`
        # A note after the message (as a recovery claim writes) means it is being handled.
        await store.append_turn(pending.id, make_turn("note", seconds=6, role=Role.NOTE))
        assert await store.unanswered_turns(T0, at(10)) == []

    async def test_a_message_inside_its_answer_deadline_is_not_unanswered_yet(
        self, store: Store
    ) -> None:
        conversation = await store.ensure_conversation(KEY, "restaurant", T0)
        question = replace(make_turn("q", seconds=1), answer_due=at(100))
        await store.record_incoming(conversation.id, "e1", question)
        # Another process may still be answering it until its deadline: left alone.
        assert await store.unanswered_turns(T0, at(200), due_by=at(99)) == []
        found = await store.unanswered_turns(T0, at(200), due_by=at(100))
        assert [(t.text, t.answer_due) for _, t in found] == [("q", at(100))]
        # Without `due_by` (a store of one process's own, after a restart) it counts at once.
        assert len(await store.unanswered_turns(T0, at(200))) == 1

    async def test_the_streamed_reply_of_a_message_is_remembered(self, store: Store) -> None:
        conversation = await store.ensure_conversation(KEY, "restaurant", T0)
        await store.record_incoming(conversation.id, "e1", make_turn("q", seconds=1))
        await store.record_reply_started(conversation.id, "m1", "1700000001.000100")
        await store.record_reply_started(conversation.id, "unknown", "ignored")
        ((_, turn),) = await store.unanswered_turns(T0, at(10), due_by=at(10))
        assert turn.reply_id == "1700000001.000100"
        (stored,) = await store.recent_turns(conversation.id, 10)
        assert stored.reply_id == "1700000001.000100"


async def _state(store: Store) -> ConversationState:
    conversation = await store.get_conversation(KEY)
    assert conversation is not None
    return conversation.state
