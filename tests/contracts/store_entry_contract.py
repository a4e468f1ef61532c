"""The store contract for the entry points of issue 21: the most asked entries (suggested
prompts) and the intake form's answers. Mixed into each backend's contract test class."""

from __future__ import annotations

import pytest

from bots.errors import StoreError
from bots.models import IntakeAnswer, IntakeDetails
from bots.store import Store
from bots.store.activity import RetrievalOutcome
from tests.contracts.store_contract import at, make_turn, thread


async def ask(
    store: Store,
    name: str,
    entry: str | None,
    *,
    persona: str = "restaurant",
    confident: bool = True,
    seconds: float = 100,
) -> str:
    conversation = await store.ensure_conversation(thread(name), persona, at(seconds))
    message_id = f"{name}-q"
    turn = make_turn("a question", seconds=seconds, message_id=message_id)
    assert await store.record_incoming(conversation.id, f"ev-{name}", turn)
    score = 0.9 if confident else 0.1
    outcome = RetrievalOutcome(message_id, entry, score, confident, at(seconds))
    await store.record_retrieval(conversation.id, outcome)
    return conversation.id


class EntryPointsStoreContract:
    """Contract cases; a subclass supplies the `store` fixture."""

    async def test_most_asked_entries_count_confident_matches_of_the_persona(
        self, store: Store
    ) -> None:
        for n in range(3):
            await ask(store, f"hours{n}", "hours")
        for n in range(2):
            await ask(store, f"parking{n}", "parking")
        await ask(store, "wifi", "wifi")
        await ask(store, "unsure0", "dogs", confident=False)
        await ask(store, "unsure1", "dogs", confident=False)
        await ask(store, "none", None, confident=False)
        await ask(store, "other0", "refunds", persona="helpdesk")
        await ask(store, "other1", "refunds", persona="helpdesk")
        await ask(store, "old0", "menu", seconds=-50)
        await ask(store, "old1", "menu", seconds=-40)

        assert await store.most_asked_entries("restaurant", at(0), 10) == [
            "hours",
            "parking",
            "wifi",
        ]
        assert await store.most_asked_entries("restaurant", at(0), 2) == ["hours", "parking"]
        assert await store.most_asked_entries("helpdesk", at(0), 5) == ["refunds"]

    async def test_intake_answers_are_kept_in_order_and_replaced_on_resubmission(
        self, store: Store
    ) -> None:
        conversation = await ask(store, "intake", "hours")
        first = (
            IntakeAnswer("email", "E-mail", "a@example.com"),
            IntakeAnswer("order", "Order", "7"),
        )
        await store.save_intake(details(conversation, first, seconds=200))
        assert await store.intake_of(conversation) == first
        again = (IntakeAnswer("order", "Order", "8"),)
        await store.save_intake(details(conversation, again, seconds=300))
        assert await store.intake_of(conversation) == again
        with pytest.raises(StoreError):
            await store.save_intake(details("slack/T01/C01/none", again, seconds=300))

    async def test_forgetting_and_retention_remove_intake_answers(self, store: Store) -> None:
        answers = (IntakeAnswer("email", "E-mail", "a@example.com"),)
        gone = await ask(store, "forgotten", "hours")
        await store.save_intake(details(gone, answers, seconds=200))
        await store.forget_conversation(gone)
        assert await store.intake_of(gone) == ()

        # The user's answers in a conversation someone else started go with the user.
        other = await ask(store, "someone-else", "hours")
        await store.save_intake(details(other, answers, seconds=200, user="U-forget"))
        await store.forget_user("U-forget")
        assert await store.intake_of(other) == ()

        old = await ask(store, "old", "hours")
        await store.save_intake(details(old, answers, seconds=200))
        kept = await ask(store, "kept", "hours")
        await store.save_intake(details(kept, answers, seconds=900))
        await store.delete_turns_before(at(500))
        assert await store.intake_of(old) == ()
        assert await store.intake_of(kept) == answers


def details(
    conversation_id: str, answers: tuple[IntakeAnswer, ...], *, seconds: float, user: str = "U42"
) -> IntakeDetails:
    return IntakeDetails(conversation_id, thread("x"), "restaurant", user, answers, at(seconds))
