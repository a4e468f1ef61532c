"""The store contract for the entry points of issue 21: the most asked entries (suggested
prompts) and the intake form's answers. Mixed into each backend's contract test class."""

from __future__ import annotations

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
