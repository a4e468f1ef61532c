"""The store contract for the usage ledger, rate counts, retention and forgetting (issue 8).

Mixed into each backend's contract test class, like `tests/contracts/store_contract.py`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bots.models import Forgotten, Role, ThreadKey, Usage, UsageEntry
from bots.store import Store
from tests.contracts.store_contract import KEY, T0, at, make_turn, thread

CHANNEL = ThreadKey("slack", "T01", "C01", "").as_id()
OTHER_CHANNEL = ThreadKey("slack", "T01", "C02", "").as_id()
DAY = T0.date()


def spend(
    seconds: float,
    prompt: int,
    completion: int,
    *,
    user: str = "U42",
    channel: str = CHANNEL,
    conversation: str = KEY.as_id(),
) -> UsageEntry:
    return UsageEntry(
        at=at(seconds),
        user_id=user,
        channel=channel,
        conversation_id=conversation,
        model="gpt-4o-mini",
        usage=Usage(prompt, completion),
    )


class PrivacyStoreContract:
    """Contract cases; a subclass supplies the `store` fixture."""

    async def test_usage_ledger_sums_by_day_user_and_channel(self, store: Store) -> None:
        await store.record_usage(spend(0, 100, 20))
        await store.record_usage(spend(60, 50, 5))
        await store.record_usage(spend(120, 7, 3, user="U7", channel=OTHER_CHANNEL))
        await store.record_usage(spend(86_400, 1000, 1000))  # the next UTC day

        assert await store.usage_on(DAY, user_id="U42") == Usage(150, 25)
        assert await store.usage_on(DAY, channel=CHANNEL) == Usage(150, 25)
        assert await store.usage_on(DAY, channel=OTHER_CHANNEL) == Usage(7, 3)
        assert await store.usage_on(DAY, user_id="U7", channel=CHANNEL) == Usage()
        assert await store.usage_on(DAY) == Usage(157, 28)
        assert await store.usage_on(DAY + timedelta(days=1), user_id="U42") == Usage(1000, 1000)
        assert await store.usage_on(date(2000, 1, 1)) == Usage()

    async def test_usage_day_is_the_utc_day(self, store: Store) -> None:
        # 23:30 in New York on April 30th is already May 1st in UTC.
        late = datetime(2024, 4, 30, 23, 30, tzinfo=ZoneInfo("America/New_York"))
        entry = UsageEntry(late, "U1", CHANNEL, "c", "m", Usage(10, 1))
        assert entry.day == DAY
        await store.record_usage(entry)
        assert await store.usage_on(DAY, user_id="U1") == Usage(10, 1)
        assert await store.usage_on(DAY - timedelta(days=1), user_id="U1") == Usage()

    async def test_delete_turns_before_keeps_newer_turns(self, store: Store) -> None:
        conversation = await store.ensure_conversation(KEY, "restaurant", T0)
        await store.record_incoming(conversation.id, "e1", make_turn("old", seconds=10))
        await store.append_turn(conversation.id, make_turn("new", seconds=100))
        handoff = await store.open_handoff(
            conversation.id, "user_asked", "wants a refund", ["Wants a refund"], at(20)
        )
        assert handoff is not None
        await store.record_usage(spend(10, 5, 5, conversation=conversation.id))

        assert await store.delete_turns_before(at(50)) == 1
        assert [t.text for t in await store.recent_turns(conversation.id, 10)] == ["new"]
        kept = await store.current_handoff(conversation.id)
        assert kept is not None
        assert (kept.summary, kept.detail, kept.reason) == ((), "", "user_asked")
        # The event id went with its turn: nothing text-bearing is left of the old message.
        assert await store.record_incoming(conversation.id, "e1", make_turn("x", seconds=101))
        assert await store.usage_on(DAY, user_id="U42") == Usage(5, 5)  # text-free: kept
        assert await store.delete_turns_before(at(50)) == 0

    async def test_forget_conversation(self, store: Store) -> None:
        conversation = await store.ensure_conversation(KEY, "restaurant", T0)
        other = await store.ensure_conversation(thread("other"), "restaurant", T0)
        await store.record_incoming(conversation.id, "e1", make_turn("my email is a@b.co"))
        await store.append_turn(conversation.id, make_turn("ok", role=Role.ASSISTANT))
        await store.record_incoming(other.id, "e2", make_turn("keep me", message_id="m2"))
        await store.open_handoff(conversation.id, "user_asked", "", ["a@b.co"], at(1))
        await store.add_feedback(conversation.id, "m1", "U42", False, at(2))
        await store.record_usage(spend(3, 10, 2, conversation=conversation.id))
        await store.add_usage(conversation.id, Usage(10, 2))

        report = await store.forget_conversation(conversation.id)

        assert report == Forgotten(
            conversations=1, turns=2, handoffs=1, feedback=1, events=1, usage_rows=1
        )
        assert await store.get_conversation_by_id(conversation.id) is None
        assert await store.recent_turns(conversation.id, 10) == []
        assert await store.current_handoff(conversation.id) is None
        assert await store.usage(conversation.id) == Usage()
        assert [t.text for t in await store.recent_turns(other.id, 10)] == ["keep me"]
        # Cost reports keep the tokens; no row names the user any more.
        assert await store.usage_on(DAY) == Usage(10, 2)
        assert await store.usage_on(DAY, user_id="U42") == Usage()
        assert await store.forget_conversation(conversation.id) == Forgotten()

    async def test_forget_user(self, store: Store) -> None:
        mine = await store.ensure_conversation(KEY, "restaurant", T0)
        theirs = await store.ensure_conversation(thread("theirs"), "restaurant", T0)
        await store.record_incoming(mine.id, "e1", make_turn("help, I am U42"))
        await store.append_turn(mine.id, make_turn("sure", role=Role.ASSISTANT))
        someone = replace(make_turn("question from U7", message_id="m9"), author_id="U7")
        await store.record_incoming(theirs.id, "e9", someone)
        await store.append_turn(
            theirs.id, make_turn("staff answer by U42", role=Role.STAFF, message_id="m10")
        )
        await store.add_feedback(theirs.id, "m1", "U42", True, at(3))
        await store.record_usage(spend(4, 9, 1, conversation=mine.id))
        await store.record_usage(spend(5, 4, 4, user="U7", conversation=theirs.id))

        report = await store.forget_user("U42")

        assert report == Forgotten(
            conversations=1, turns=3, handoffs=0, feedback=1, events=1, usage_rows=1
        )
        assert await store.get_conversation_by_id(mine.id) is None
        assert [t.text for t in await store.recent_turns(theirs.id, 10)] == ["question from U7"]
        assert await store.usage_on(DAY, user_id="U42") == Usage()
        assert await store.usage_on(DAY, user_id="U7") == Usage(4, 4)
        assert await store.usage_on(DAY) == Usage(13, 5)
        assert await store.forget_user("U42") == Forgotten()
