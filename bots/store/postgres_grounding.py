"""The PostgreSQL store's ungrounded answers (migration 5): SQL run on a held connection."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, TypeAlias

import asyncpg

from bots.store.activity import UngroundedAnswer

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

Connection: TypeAlias = "PoolConnectionProxy[asyncpg.Record]"

# The conversation's newest reply is the one the engine has just recorded (it holds the
# conversation for the whole turn).
MARK = """
    UPDATE turns SET ungrounded = $1
     WHERE id = (SELECT max(id) FROM turns WHERE conversation_id = $2 AND role = 'assistant')
"""
SELECT = """
    SELECT t.conversation_id, c.persona, t.text, t.ungrounded, t.created_at
      FROM turns t JOIN conversations c ON c.id = t.conversation_id
     WHERE t.ungrounded IS NOT NULL AND t.created_at >= $1 AND t.created_at < $2
     ORDER BY t.created_at DESC, t.id DESC
     LIMIT $3
"""


async def mark_ungrounded(
    connection: Connection, conversation_id: str, facts: Sequence[str]
) -> None:
    await connection.execute(MARK, list(facts), conversation_id)


async def ungrounded_answers(
    connection: Connection, since: datetime, until: datetime, limit: int
) -> list[UngroundedAnswer]:
    rows = await connection.fetch(SELECT, _aware(since), _aware(until), limit)
    return [
        UngroundedAnswer(
            conversation_id=row["conversation_id"],
            persona=row["persona"],
            text=row["text"],
            facts=tuple(row["ungrounded"]),
            at=row["created_at"],
        )
        for row in rows
    ]


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment
