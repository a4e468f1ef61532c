"""The store contract for ungrounded answers (migration 5, the live grounding check).

Mixed into each backend's contract test class, like `tests/contracts/store_contract.py`.
"""

from __future__ import annotations

from bots.models import Role
from bots.store import Store
from tests.contracts.store_contract import at, make_turn, thread

START, END = at(0), at(86_400)


async def answered(store: Store, name: str, answer: str, seconds: float) -> str:
    conversation = await store.ensure_conversation(thread(name), "restaurant", at(seconds))
    question = make_turn("when do you open?", seconds=seconds, message_id=f"{name}-q")
    assert await store.record_incoming(conversation.id, f"ev-{name}", question)
    reply = make_turn(answer, seconds=seconds + 1, role=Role.ASSISTANT, message_id="")
    await store.append_turn(conversation.id, reply)
    return conversation.id


class GroundingStoreContract:
    """Contract cases; a subclass supplies the `store` fixture."""

    async def test_an_ungrounded_answer_is_kept_with_its_turn(self, store: Store) -> None:
        await answered(store, "fine", "We open at 8.", 10)
        bad = await answered(store, "bad", "We open at 6am, call 555-0199-22.", 20)
        await store.mark_ungrounded(bad, ["6am", "555-0199-22"])
        listed = await store.ungrounded_answers(START, END)
        assert [(u.conversation_id, u.persona, u.facts) for u in listed] == [
            (bad, "restaurant", ("6am", "555-0199-22"))
        ]
        assert listed[0].text == "We open at 6am, call 555-0199-22."
        assert listed[0].at == at(21)

    async def test_only_the_newest_reply_is_marked(self, store: Store) -> None:
        conversation = await answered(store, "two", "first answer", 10)
        await store.append_turn(
            conversation, make_turn("second answer", seconds=30, role=Role.ASSISTANT)
        )
        await store.mark_ungrounded(conversation, ["9pm"])
        assert [u.text for u in await store.ungrounded_answers(START, END)] == ["second answer"]

    async def test_the_period_and_the_limit_apply_newest_first(self, store: Store) -> None:
        for n in range(4):
            conversation = await answered(store, f"c{n}", f"answer {n}", 100 * n)
            await store.mark_ungrounded(conversation, [str(n)])
        assert [u.facts for u in await store.ungrounded_answers(at(50), END, limit=2)] == [
            ("3",),
            ("2",),
        ]
        assert await store.ungrounded_answers(at(1_000), END) == []

    async def test_retention_and_forgetting_remove_them(self, store: Store) -> None:
        old = await answered(store, "old", "old answer", 10)
        new = await answered(store, "new", "new answer", 5_000)
        await store.mark_ungrounded(old, ["1"])
        await store.mark_ungrounded(new, ["2"])
        await store.delete_turns_before(at(1_000))
        assert [u.conversation_id for u in await store.ungrounded_answers(START, END)] == [new]
        await store.forget_conversation(new)
        assert await store.ungrounded_answers(START, END) == []
