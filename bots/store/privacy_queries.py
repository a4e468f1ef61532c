"""The store's usage ledger, retention and forgetting: SQL run on a held session."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from bots.models import Forgotten, Role, Usage, UsageEntry
from bots.store.dialect import Dialect, Session

FORGOTTEN_USER = ""
"""What a forgotten user's id becomes in the usage ledger."""


async def record_usage(session: Session, entry: UsageEntry) -> None:
    await session.execute(
        "INSERT INTO usage_ledger (day, user_id, channel, conversation_id, model,"
        " prompt_tokens, completion_tokens, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        entry.day,
        entry.user_id,
        entry.channel,
        entry.conversation_id,
        entry.model,
        entry.usage.prompt_tokens,
        entry.usage.completion_tokens,
        entry.at,
    )


async def usage_on(session: Session, day: date, user_id: str | None, channel: str | None) -> Usage:
    where, parameters = ["day = ?"], list[Any]([day])
    if user_id is not None:
        where.append("user_id = ?")
        parameters.append(user_id)
    if channel is not None:
        where.append("channel = ?")
        parameters.append(channel)
    row = await session.fetchrow(
        "SELECT coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0)"
        f" FROM usage_ledger WHERE {' AND '.join(where)}",
        *parameters,
    )
    assert row is not None  # an aggregate always returns one row
    return Usage(int(row[0]), int(row[1]))


async def delete_turns_before(session: Session, cutoff: datetime) -> int:
    deleted = await session.execute("DELETE FROM turns WHERE created_at < ?", cutoff)
    await session.execute("DELETE FROM processed_events WHERE processed_at < ?", cutoff)
    await session.execute("DELETE FROM retrievals WHERE recorded_at < ?", cutoff)
    # Desk calls made (or refused) long ago: their payloads hold message text.
    await session.execute(
        "DELETE FROM desk_outbox WHERE done_at IS NOT NULL AND created_at < ?", cutoff
    )
    # Summaries and details are written from the messages: they go with them.
    await session.execute(
        "UPDATE handoffs SET summary = ?, detail = ''"
        " WHERE requested_at < ? AND (summary != ? OR detail != '')",
        (),
        cutoff,
        (),
    )
    return deleted


async def forget_conversations(session: Session, dialect: Dialect, ids: Sequence[str]) -> Forgotten:
    """Delete these conversations and all that hangs on them (the caller's transaction)."""
    if not ids:
        return Forgotten()
    chosen = tuple(ids)
    among = dialect.any_text
    counts = []
    for table in ("turns", "handoffs", "feedback", "processed_events"):
        found = await session.fetchval(
            f"SELECT count(*) FROM {table} WHERE conversation_id {among}", chosen
        )
        counts.append(int(found))
    anonymised = await session.execute(
        f"UPDATE usage_ledger SET user_id = ? WHERE conversation_id {among} AND user_id != ?",
        FORGOTTEN_USER,
        chosen,
        FORGOTTEN_USER,
    )
    tickets = await session.fetch(
        f"SELECT desk, ticket_id FROM desk_tickets WHERE conversation_id {among}"
        " ORDER BY created_at, ticket_id",
        chosen,
    )
    # Queued desk calls carry message text; a queued remote deletion stays (it removes some).
    await session.execute(
        f"DELETE FROM desk_outbox WHERE conversation_id {among} AND kind != 'delete'", chosen
    )
    # The foreign keys cascade: turns, hand-offs, feedback, event ids, totals and ticket
    # links go too.
    conversations = await session.execute(f"DELETE FROM conversations WHERE id {among}", chosen)
    turns, handoffs, feedback, events = counts
    linked = tuple(f"{row[0]}:{row[1]}" for row in tickets)
    return Forgotten(conversations, turns, handoffs, feedback, events, anonymised, linked)


async def forget_user(session: Session, dialect: Dialect, user_id: str) -> Forgotten:
    rows = await session.fetch(
        "SELECT DISTINCT conversation_id FROM turns WHERE author_id = ? AND role = ?",
        user_id,
        Role.USER.value,
    )
    forgotten = await forget_conversations(session, dialect, [str(row[0]) for row in rows])
    turns = await session.execute("DELETE FROM turns WHERE author_id = ?", user_id)
    feedback = await session.execute("DELETE FROM feedback WHERE user_id = ?", user_id)
    usage = await session.execute(
        "UPDATE usage_ledger SET user_id = ? WHERE user_id = ?", FORGOTTEN_USER, user_id
    )
    return forgotten + Forgotten(turns=turns, feedback=feedback, usage_rows=usage)
