"""The store contract for retrieval outcomes and the report's reads (`bots report`, issue 8).

Mixed into each backend's contract test class, like `tests/contracts/store_contract.py`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bots.errors import StoreError
from bots.models import Role, Usage, UsageEntry
from bots.store import Store
from bots.store.activity import (
    ConversationCounts,
    HandoffTimes,
    ModelUsage,
    RetrievalOutcome,
    UnmatchedQuestion,
)
from tests.contracts.store_contract import T0, at, make_turn, thread

CHANNEL = "slack/T01/C01/"
START, END = at(0), at(86_400)


def outcome(
    message_id: str, seconds: float, *, confident: bool, entry: str | None = "hours"
) -> RetrievalOutcome:
    return RetrievalOutcome(message_id, entry, 0.8 if confident else 0.1, confident, at(seconds))


async def asked(
    store: Store, name: str, text: str, seconds: float, *, confident: bool, reply: bool = True
) -> str:
    """A conversation started at `seconds`: one question, its retrieval, maybe a reply."""
    conversation = await store.ensure_conversation(thread(name), "restaurant", at(seconds))
    message_id = f"{name}-q"
    question = make_turn(text, seconds=seconds, message_id=message_id)
    assert await store.record_incoming(conversation.id, f"ev-{name}", question)
    await store.record_retrieval(conversation.id, outcome(message_id, seconds, confident=confident))
    if reply:
        await store.append_turn(
            conversation.id, make_turn("an answer", seconds=seconds + 1, role=Role.ASSISTANT)
        )
    return conversation.id


class ReportStoreContract:
    """Contract cases; a subclass supplies the `store` fixture."""

    async def test_conversations_count_by_what_happened_to_them(self, store: Store) -> None:
        await asked(store, "resolved", "parking?", 10, confident=True)
        handed = await asked(store, "handed", "refund please", 20, confident=True)
        await store.open_handoff(handed, "user_asked", "", [], at(25))
        disliked = await asked(store, "disliked", "wifi?", 30, confident=True)
        await store.add_feedback(disliked, "m", "U42", False, at(35))
        liked = await asked(store, "liked", "dogs?", 40, confident=True)
        await store.add_feedback(liked, "m", "U42", True, at(45))
        straight = await asked(store, "straight", "a person", 50, confident=False, reply=False)
        await store.open_handoff(straight, "user_asked", "", [], at(51))
        await asked(store, "unanswered", "hello?", 60, confident=False, reply=False)
        # "I don't know, shall I get a person?", and the user never said yes.
        dunno = await asked(store, "dunno", "gift cards?", 70, confident=False)
        await store.set_counters(dunno, failed_turns=1, offer_reason="no_answer")
        # A later answer after a thumbs-down offer: only the thumbs-down counts.
        await store.set_counters(disliked, failed_turns=0, offer_reason="feedback")
        await asked(store, "too-old", "old", -10, confident=True)
        await asked(store, "too-new", "new", 86_400, confident=True)

        found = await store.activity(START, END)

        assert found.conversations == ConversationCounts(
            total=6, answered=5, handed_off=2, thumbs_down=1, unanswered=1, resolved=2
        )
        assert (found.thumbs_up, found.thumbs_down) == (1, 1)

    async def test_handoffs_come_with_their_times(self, store: Store) -> None:
        claimed = await asked(store, "a", "q", 0, confident=True)
        waiting = await asked(store, "b", "q", 0, confident=True)
        closed = await asked(store, "c", "q", 0, confident=True)
        earlier = await asked(store, "d", "q", -100, confident=True)
        await store.open_handoff(earlier, "staff", "", [], at(-50))
        await store.open_handoff(claimed, "user_asked", "", [], at(100))
        await store.claim_handoff(claimed, "S1", at(160))
        await store.open_handoff(waiting, "no_answer", "", [], at(200))
        await store.open_handoff(closed, "model_tool", "", [], at(300))
        await store.resolve_handoff(closed, "S2", at(400))

        found = await store.activity(START, END)

        assert found.handoffs == (
            HandoffTimes("user_asked", at(100), at(160), None),
            HandoffTimes("no_answer", at(200), None, None),
            HandoffTimes("model_tool", at(300), None, at(400)),
        )
        assert all(h.requested_at.utcoffset() == timedelta(0) for h in found.handoffs)

    async def test_unmatched_questions_newest_first_with_their_text(self, store: Store) -> None:
        await asked(store, "a", "Do you sell gift cards?", 10, confident=False)
        await asked(store, "b", "Is there parking?", 20, confident=True)
        await asked(store, "c", "Can I book the <b>whole</b> room?", 30, confident=False)
        await asked(store, "d", "Before the period", -30, confident=False)

        found = await store.activity(START, END)

        assert (found.questions, found.matched) == (3, 1)
        assert found.unmatched == (
            UnmatchedQuestion("Can I book the <b>whole</b> room?", "hours", 0.1, at(30)),
            UnmatchedQuestion("Do you sell gift cards?", "hours", 0.1, at(10)),
        )
        limited = await store.activity(START, END, unmatched_limit=1)
        assert [q.text for q in limited.unmatched] == ["Can I book the <b>whole</b> room?"]
        assert (limited.questions, limited.matched) == (3, 1)

    async def test_a_second_outcome_for_a_message_replaces_the_first(self, store: Store) -> None:
        conversation = await asked(store, "a", "gift cards?", 10, confident=False)
        better = outcome("a-q", 12, confident=True, entry="gifts")
        await store.record_retrieval(conversation, better)
        nothing = RetrievalOutcome("a-q", None, 0.0, False, at(14))

        found = await store.activity(START, END)
        assert (found.questions, found.matched, found.unmatched) == (1, 1, ())

        await store.record_retrieval(conversation, nothing)
        found = await store.activity(START, END)
        assert found.unmatched == (UnmatchedQuestion("gift cards?", None, 0.0, at(14)),)

    async def test_recording_for_an_unknown_conversation_fails(self, store: Store) -> None:
        with pytest.raises(StoreError):
            await store.record_retrieval("nope/nope/nope/nope", outcome("m", 0, confident=True))

    async def test_usage_is_summed_per_model_by_time(self, store: Store) -> None:
        def spend(seconds: float, model: str, prompt: int, completion: int) -> UsageEntry:
            return UsageEntry(at(seconds), "U42", CHANNEL, "c", model, Usage(prompt, completion))

        await store.record_usage(spend(10, "gpt-4o-mini", 100, 20))
        await store.record_usage(spend(20, "gpt-4o-mini", 50, 5))
        await store.record_usage(spend(30, "gpt-4o", 7, 3))
        await store.record_usage(spend(-1, "gpt-4o", 1000, 1000))
        await store.record_usage(spend(86_400, "gpt-4o", 1000, 1000))

        found = await store.activity(START, END)

        assert found.usage == (
            ModelUsage("gpt-4o", 1, 7, 3),
            ModelUsage("gpt-4o-mini", 2, 150, 25),
        )

    async def test_an_empty_period_reads_as_zeros(self, store: Store) -> None:
        found = await store.activity(START, END)
        assert found.conversations == ConversationCounts()
        assert (found.handoffs, found.unmatched, found.usage) == ((), (), ())
        assert (found.questions, found.matched, found.thumbs_up, found.thumbs_down) == (0,) * 4

    async def test_retention_takes_the_outcomes_and_their_text(self, store: Store) -> None:
        await asked(store, "old", "old secret question", 10, confident=False)
        await asked(store, "new", "new question", 100, confident=False)

        await store.delete_turns_before(at(50))

        found = await store.activity(START, END)
        assert [q.text for q in found.unmatched] == ["new question"]
        assert (found.questions, found.matched) == (1, 0)

    async def test_forgetting_takes_the_outcomes(self, store: Store) -> None:
        mine = await asked(store, "mine", "my question", 10, confident=False)
        await asked(store, "theirs", "their question", 20, confident=False)

        await store.forget_conversation(mine)

        found = await store.activity(START, END)
        assert [q.text for q in found.unmatched] == ["their question"]
        assert found.questions == 1

    async def test_text_deleted_with_its_turn_never_shows(self, store: Store) -> None:
        # A staff member asked the bot in someone else's thread; forgetting them deletes that
        # message but not the conversation: the outcome may stay, its text may not.
        conversation = (await store.ensure_conversation(thread("shared"), "restaurant", T0)).id
        staff = replace(
            make_turn("staff question", seconds=5, role=Role.STAFF, message_id="s1"),
            author_id="S9",
        )
        await store.record_incoming(conversation, "ev-s1", staff)
        await store.record_retrieval(conversation, outcome("s1", 5, confident=False))
        assert [q.text for q in (await store.activity(START, END)).unmatched] == ["staff question"]

        await store.forget_user("S9")

        assert (await store.activity(START, END)).unmatched == ()

    async def test_naive_period_is_refused(self, store: Store) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            await store.activity(START.replace(tzinfo=None), END)
