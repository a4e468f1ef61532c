"""The PostgreSQL store's retrieval outcomes and report reads: SQL run on a held connection."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, TypeAlias

import asyncpg

from bots.store.activity import (
    Activity,
    ConversationCounts,
    HandoffTimes,
    ModelUsage,
    RetrievalOutcome,
    UnmatchedQuestion,
)

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

Connection: TypeAlias = "PoolConnectionProxy[asyncpg.Record]"

# Conversations started in [$1, $2) that the bot answered or handed over, with what happened.
# `offer_reason` is set while the bot's last word offered a person: after "I don't know"
# (no_answer), the model being down (llm_unavailable) or a limit (limit), or after a
# thumbs-down (feedback, counted as `down`).
CONVERSATION_COUNTS = """
    SELECT count(*),
           count(*) FILTER (WHERE answered),
           count(*) FILTER (WHERE handed),
           count(*) FILTER (WHERE down),
           count(*) FILTER (WHERE unanswered AND NOT handed),
           count(*) FILTER (WHERE answered AND NOT handed AND NOT down AND NOT unanswered)
      FROM (
        SELECT EXISTS (SELECT FROM turns t
                        WHERE t.conversation_id = c.id AND t.role = 'assistant') AS answered,
               EXISTS (SELECT FROM handoffs h WHERE h.conversation_id = c.id) AS handed,
               EXISTS (SELECT FROM feedback f
                        WHERE f.conversation_id = c.id AND NOT f.positive) AS down,
               coalesce(c.offer_reason IN ('no_answer', 'limit', 'llm_unavailable'), false)
                   AS unanswered
          FROM conversations c
         WHERE c.created_at >= $1 AND c.created_at < $2
      ) facts
     WHERE answered OR handed
"""
HANDOFFS = """
    SELECT reason, requested_at, claimed_at, resolved_at FROM handoffs
     WHERE requested_at >= $1 AND requested_at < $2 ORDER BY requested_at, id
"""
FEEDBACK = """
    SELECT count(*) FILTER (WHERE positive), count(*) FILTER (WHERE NOT positive) FROM feedback
     WHERE created_at >= $1 AND created_at < $2
"""
QUESTIONS = """
    SELECT count(*), count(*) FILTER (WHERE confident) FROM retrievals
     WHERE recorded_at >= $1 AND recorded_at < $2
"""
# The text comes from the question's own turn: a question whose turn retention or `bots
# forget` deleted has none, and is left out.
UNMATCHED = """
    SELECT text, entry_id, confidence, recorded_at FROM (
        SELECT (SELECT t.text FROM turns t
                 WHERE t.conversation_id = r.conversation_id AND t.message_id = r.message_id
                   AND t.role IN ('user', 'staff')
                 ORDER BY t.id LIMIT 1) AS text,
               r.entry_id, r.confidence, r.recorded_at
          FROM retrievals r
         WHERE NOT r.confident AND r.recorded_at >= $1 AND r.recorded_at < $2
    ) questions
     WHERE text IS NOT NULL
     ORDER BY recorded_at DESC
     LIMIT $3
"""
USAGE = """
    SELECT model, count(*), sum(prompt_tokens), sum(completion_tokens) FROM usage_ledger
     WHERE recorded_at >= $1 AND recorded_at < $2 GROUP BY model ORDER BY model
"""


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"the store needs timezone-aware datetimes, got naive {moment!r}")
    return moment


async def record_retrieval(
    connection: Connection, conversation_id: str, outcome: RetrievalOutcome
) -> None:
    await connection.execute(
        "INSERT INTO retrievals (conversation_id, message_id, entry_id, confidence, confident,"
        " recorded_at) VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (conversation_id, message_id) DO UPDATE SET"
        " entry_id = excluded.entry_id, confidence = excluded.confidence,"
        " confident = excluded.confident, recorded_at = excluded.recorded_at",
        conversation_id,
        outcome.message_id,
        outcome.entry_id,
        float(outcome.confidence),
        outcome.confident,
        _aware(outcome.at),
    )


async def activity(
    connection: Connection, since: datetime, until: datetime, unmatched_limit: int
) -> Activity:
    """Read the period in one read-only REPEATABLE READ transaction: one snapshot for all."""
    period = (_aware(since), _aware(until))
    async with connection.transaction(isolation="repeatable_read", readonly=True):
        counts = await connection.fetchrow(CONVERSATION_COUNTS, *period)
        handoffs = await connection.fetch(HANDOFFS, *period)
        feedback = await connection.fetchrow(FEEDBACK, *period)
        questions = await connection.fetchrow(QUESTIONS, *period)
        unmatched = await connection.fetch(UNMATCHED, *period, max(0, unmatched_limit))
        usage = await connection.fetch(USAGE, *period)
    # Aggregates without GROUP BY always return one row.
    assert counts is not None
    assert feedback is not None
    assert questions is not None
    return Activity(
        conversations=ConversationCounts(*(int(n) for n in counts)),
        handoffs=tuple(
            HandoffTimes(row["reason"], row["requested_at"], row["claimed_at"], row["resolved_at"])
            for row in handoffs
        ),
        thumbs_up=int(feedback[0]),
        thumbs_down=int(feedback[1]),
        questions=int(questions[0]),
        matched=int(questions[1]),
        unmatched=tuple(
            UnmatchedQuestion(
                row["text"], row["entry_id"], float(row["confidence"]), row["recorded_at"]
            )
            for row in unmatched
        ),
        usage=tuple(ModelUsage(row[0], int(row[1]), int(row[2]), int(row[3])) for row in usage),
    )
