"""The store contract for which entries answers were grounded in (migration 9).

Mixed into each backend's contract test class, like `tests/contracts/store_contract.py`.
"""

from __future__ import annotations

from datetime import timedelta

from bots.store import Store
from tests.contracts.store_contract import at, thread

START, END = at(0), at(86_400)


class EntryUseStoreContract:
    """Contract cases; a subclass supplies the `store` fixture."""

    async def test_uses_count_per_persona_and_entry_within_the_period(self, store: Store) -> None:
        cafe = await store.ensure_conversation(thread("a"), "cafe", at(1))
        bistro = await store.ensure_conversation(thread("b"), "bistro", at(1))
        await store.record_entry_uses(cafe.id, ["wifi", "parking", "wifi"], at(10))
        await store.record_entry_uses(cafe.id, ["wifi"], at(20))
        await store.record_entry_uses(bistro.id, ["wifi"], at(30))
        await store.record_entry_uses(cafe.id, ["wifi"], END + timedelta(seconds=1))  # after
        await store.record_entry_uses(cafe.id, [], at(40))
        await store.record_entry_uses("no-such-conversation", ["wifi"], at(50))
        uses = await store.entry_uses(START, END)
        assert [(u.persona, u.entry_id, u.answers) for u in uses] == [
            ("bistro", "wifi", 1),
            ("cafe", "parking", 1),
            ("cafe", "wifi", 2),  # an answer citing an entry twice counts once
        ]
        assert uses[2].last_used == at(20)

    async def test_uses_outlive_retention_and_forgetting(self, store: Store) -> None:
        conversation = await store.ensure_conversation(thread("c"), "cafe", at(1))
        await store.record_entry_uses(conversation.id, ["wifi"], at(10))
        await store.delete_turns_before(at(100))
        await store.forget_conversation(conversation.id)
        # Nothing personal is kept: only that an answer of the cafe used `wifi` at that time.
        assert [(u.entry_id, u.answers) for u in await store.entry_uses(START, END)] == [
            ("wifi", 1)
        ]
