"""The conversations page's reads: recent conversations and one transcript, from the store.

The store already holds only what the privacy settings keep (redacted text, retention,
`bots forget`), so the studio shows exactly that and keeps no copy of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from bots.models import Conversation, Handoff, Turn
from bots.store import Store

RECENT_LIMIT = 50
TRANSCRIPT_LIMIT = 200


@dataclass(frozen=True)
class Transcript:
    conversation: Conversation
    turns: tuple[Turn, ...]
    handoff: Handoff | None
    feedback: dict[str, bool]
    """message id -> helpful or not, as the user said."""


class ConversationReader:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def open(self) -> None:
        await self._store.open()

    async def close(self) -> None:
        await self._store.close()

    async def recent(self) -> list[Conversation]:
        return await self._store.recent_conversations(RECENT_LIMIT)

    async def transcript(self, conversation_id: str) -> Transcript | None:
        conversation = await self._store.get_conversation_by_id(conversation_id)
        if conversation is None:
            return None
        turns = await self._store.recent_turns(conversation_id, TRANSCRIPT_LIMIT)
        handoff = await self._store.current_handoff(conversation_id)
        feedback = await self._store.feedback_of(conversation_id)
        return Transcript(conversation, tuple(turns), handoff, feedback)
