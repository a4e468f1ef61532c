"""The PostgreSQL store's usage ledger, retention and forgetting: SQL run on a held connection."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeAlias

import asyncpg

from bots.models import Forgotten, Role, Usage, UsageEntry

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

Connection: TypeAlias = "PoolConnectionProxy[asyncpg.Record]"

FORGOTTEN_USER = ""
"""What a forgotten user's id becomes in the usage ledger."""


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"the store needs timezone-aware datetimes, got naive {moment!r}")
    return moment


def _count(status: str) -> int:
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


async def record_usage(connection: Connection, entry: UsageEntry) -> None:
    await connection.execute(
        "INSERT INTO usage_ledger (day, user_id, channel, conversation_id, model,"
        " prompt_tokens, completion_tokens, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        entry.day,
        entry.user_id,
        entry.channel,
        entry.conversation_id,
        entry.model,
        entry.usage.prompt_tokens,
        entry.usage.completion_tokens,
        _aware(entry.at),
    )


async def usage_on(
    connection: Connection, day: date, user_id: str | None, channel: str | None
) -> Usage:
    where, parameters_any = ["day = $1"], list[Any]([day])
    if user_id is not None:
        parameters_any.append(user_id)
        where.append(f"user_id = ${len(parameters_any)}")
    if channel is not None:
        parameters_any.append(channel)
        where.append(f"channel = ${len(parameters_any)}")
    row = await connection.fetchrow(
        "SELECT coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0)"
        f" FROM usage_ledger WHERE {' AND '.join(where)}",
        *parameters_any,
    )
    assert row is not None  # an aggregate always returns one row
    return Usage(int(row[0]), int(row[1]))


async def delete_turns_before(connection: Connection, cutoff: datetime) -> int:
    stamp = _aware(cutoff)
    deleted = _count(await connection.execute("DELETE FROM turns WHERE created_at < $1", stamp))
    await connection.execute("DELETE FROM processed_events WHERE processed_at < $1", stamp)
    await connection.execute("DELETE FROM retrievals WHERE recorded_at < $1", stamp)
    # Summaries and details are written from the messages: they go with them.
    await connection.execute(
        "UPDATE handoffs SET summary = '{}', detail = ''"
        " WHERE requested_at < $1 AND (summary != '{}' OR detail != '')",
        stamp,
    )
    return deleted


async def forget_conversations(connection: Connection, ids: Sequence[str]) -> Forgotten:
    """Delete these conversations and all that hangs on them (the caller's transaction)."""
    if not ids:
        return Forgotten()
    chosen = list(ids)
    counts = []
    for table in ("turns", "handoffs", "feedback", "processed_events"):
        found = await connection.fetchval(
            f"SELECT count(*) FROM {table} WHERE conversation_id = ANY($1::text[])", chosen
        )
        counts.append(int(found))
    anonymised = _count(
        await connection.execute(
            "UPDATE usage_ledger SET user_id = $1"
            " WHERE conversation_id = ANY($2::text[]) AND user_id != $1",
            FORGOTTEN_USER,
            chosen,
        )
    )
    # The foreign keys cascade: turns, hand-offs, feedback, event ids and totals go too.
    conversations = _count(
        await connection.execute("DELETE FROM conversations WHERE id = ANY($1::text[])", chosen)
    )
    turns, handoffs, feedback, events = counts
    return Forgotten(conversations, turns, handoffs, feedback, events, anonymised)


async def forget_user(connection: Connection, user_id: str) -> Forgotten:
    rows = await connection.fetch(
        "SELECT DISTINCT conversation_id FROM turns WHERE author_id = $1 AND role = $2",
        user_id,
        Role.USER.value,
    )
    forgotten = await forget_conversations(connection, [str(row[0]) for row in rows])
    turns = await connection.execute("DELETE FROM turns WHERE author_id = $1", user_id)
    feedback = await connection.execute("DELETE FROM feedback WHERE user_id = $1", user_id)
    usage = await connection.execute(
        "UPDATE usage_ledger SET user_id = $1 WHERE user_id = $2", FORGOTTEN_USER, user_id
    )
    return forgotten + Forgotten(
        turns=_count(turns), feedback=_count(feedback), usage_rows=_count(usage)
    )
