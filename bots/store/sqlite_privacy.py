"""The SQLite store's usage ledger, retention and forgetting: SQL run on a held connection."""

from __future__ import annotations

from datetime import UTC, date, datetime

import aiosqlite

from bots.models import Forgotten, Role, Usage, UsageEntry

FORGOTTEN_USER = ""
"""What a forgotten user's id becomes in the usage ledger."""


def _text(moment: datetime) -> str:
    # The same fixed-width UTC form as the store's other timestamps (text order = time order).
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"the store needs timezone-aware datetimes, got naive {moment!r}")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


async def record_usage(db: aiosqlite.Connection, entry: UsageEntry) -> None:
    await db.execute(
        "INSERT INTO usage_ledger (day, user_id, channel, conversation_id, model,"
        " prompt_tokens, completion_tokens, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            entry.day.isoformat(),
            entry.user_id,
            entry.channel,
            entry.conversation_id,
            entry.model,
            entry.usage.prompt_tokens,
            entry.usage.completion_tokens,
            _text(entry.at),
        ),
    )


async def usage_on(
    db: aiosqlite.Connection, day: date, user_id: str | None, channel: str | None
) -> Usage:
    where, parameters = ["day = ?"], [day.isoformat()]
    if user_id is not None:
        where.append("user_id = ?")
        parameters.append(user_id)
    if channel is not None:
        where.append("channel = ?")
        parameters.append(channel)
    rows = list(
        await db.execute_fetchall(
            "SELECT coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0)"
            f" FROM usage_ledger WHERE {' AND '.join(where)}",
            parameters,
        )
    )
    return Usage(int(rows[0][0]), int(rows[0][1]))


async def delete_turns_before(db: aiosqlite.Connection, cutoff: datetime) -> int:
    stamp = _text(cutoff)
    cursor = await db.execute("DELETE FROM turns WHERE created_at < ?", (stamp,))
    deleted = cursor.rowcount
    await db.execute("DELETE FROM processed_events WHERE processed_at < ?", (stamp,))
    await db.execute("DELETE FROM retrievals WHERE recorded_at < ?", (stamp,))
    # Summaries and details are written from the messages: they go with them.
    await db.execute(
        "UPDATE handoffs SET summary = '[]', detail = ''"
        " WHERE requested_at < ? AND (summary != '[]' OR detail != '')",
        (stamp,),
    )
    return deleted


async def forget_conversations(db: aiosqlite.Connection, ids: list[str]) -> Forgotten:
    """Delete these conversations and all that hangs on them (one transaction is the caller's)."""
    if not ids:
        return Forgotten()
    marks = ", ".join("?" for _ in ids)
    counts = []
    for table in ("turns", "handoffs", "feedback", "processed_events"):
        rows = list(
            await db.execute_fetchall(
                f"SELECT count(*) FROM {table} WHERE conversation_id IN ({marks})", ids
            )
        )
        counts.append(int(rows[0][0]))
    cursor = await db.execute(
        f"UPDATE usage_ledger SET user_id = ? WHERE conversation_id IN ({marks}) AND user_id != ?",
        (FORGOTTEN_USER, *ids, FORGOTTEN_USER),
    )
    anonymised = cursor.rowcount
    # The foreign keys cascade: turns, hand-offs, feedback, event ids and totals go too.
    cursor = await db.execute(f"DELETE FROM conversations WHERE id IN ({marks})", ids)
    turns, handoffs, feedback, events = counts
    return Forgotten(cursor.rowcount, turns, handoffs, feedback, events, anonymised)


async def forget_user(db: aiosqlite.Connection, user_id: str) -> Forgotten:
    rows = await db.execute_fetchall(
        "SELECT DISTINCT conversation_id FROM turns WHERE author_id = ? AND role = ?",
        (user_id, Role.USER.value),
    )
    forgotten = await forget_conversations(db, [str(row[0]) for row in rows])
    turns = await db.execute("DELETE FROM turns WHERE author_id = ?", (user_id,))
    feedback = await db.execute("DELETE FROM feedback WHERE user_id = ?", (user_id,))
    usage = await db.execute(
        "UPDATE usage_ledger SET user_id = ? WHERE user_id = ?", (FORGOTTEN_USER, user_id)
    )
    return forgotten + Forgotten(
        turns=turns.rowcount, feedback=feedback.rowcount, usage_rows=usage.rowcount
    )
