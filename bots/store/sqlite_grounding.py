"""The SQLite store's ungrounded answers (migration 5): SQL run on a held connection."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import aiosqlite

from bots.store.activity import UngroundedAnswer

# The conversation's newest reply is the one the engine has just recorded (it holds the
# conversation for the whole turn).
MARK = """
    UPDATE turns SET ungrounded = ?
     WHERE id = (SELECT max(id) FROM turns WHERE conversation_id = ? AND role = 'assistant')
"""
SELECT = """
    SELECT t.conversation_id, c.persona, t.text, t.ungrounded, t.created_at
      FROM turns t JOIN conversations c ON c.id = t.conversation_id
     WHERE t.ungrounded IS NOT NULL AND t.created_at >= ? AND t.created_at < ?
     ORDER BY t.created_at DESC, t.id DESC
     LIMIT ?
"""


async def mark_ungrounded(
    db: aiosqlite.Connection, conversation_id: str, facts: Sequence[str]
) -> None:
    await db.execute(MARK, (json.dumps(list(facts), ensure_ascii=False), conversation_id))


async def ungrounded_answers(
    db: aiosqlite.Connection, since: datetime, until: datetime, limit: int
) -> list[UngroundedAnswer]:
    rows = await db.execute_fetchall(SELECT, (_text(since), _text(until), limit))
    return [
        UngroundedAnswer(
            conversation_id=conversation_id,
            persona=persona,
            text=text,
            facts=tuple(json.loads(facts)),
            at=datetime.fromisoformat(at),
        )
        for conversation_id, persona, text, facts, at in rows
    ]


def _text(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
