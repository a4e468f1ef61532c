"""The SQLite store's retrieval outcomes and report reads: SQL run on a held connection."""

from __future__ import annotations

import sqlite3
from contextlib import suppress
from datetime import UTC, datetime

import aiosqlite

from bots.store.activity import (
    Activity,
    ConversationCounts,
    HandoffTimes,
    ModelUsage,
    RetrievalOutcome,
    UnmatchedQuestion,
)

# Conversations started in [?, ?) that the bot answered or handed over, with what happened.
# `offer_reason` is set while the bot's last word offered a person: after "I don't know"
# (no_answer), the model being down (llm_unavailable) or a limit (limit), or after a
# thumbs-down (feedback, counted as `down`).
# Turns and hand-offs are looked up per conversation through their indexes; feedback has no
# index by conversation, so its set is built once (IN) rather than scanned per conversation.
CONVERSATION_COUNTS = """
    SELECT count(*), coalesce(sum(answered), 0), coalesce(sum(handed), 0),
           coalesce(sum(down), 0), coalesce(sum(unanswered AND NOT handed), 0),
           coalesce(sum(answered AND NOT handed AND NOT down AND NOT unanswered), 0)
      FROM (
        SELECT EXISTS (SELECT 1 FROM turns t
                        WHERE t.conversation_id = c.id AND t.role = 'assistant') AS answered,
               EXISTS (SELECT 1 FROM handoffs h WHERE h.conversation_id = c.id) AS handed,
               c.id IN (SELECT conversation_id FROM feedback WHERE positive = 0) AS down,
               coalesce(c.offer_reason IN ('no_answer', 'limit', 'llm_unavailable'), 0)
                   AS unanswered
          FROM conversations c
         WHERE c.created_at >= ? AND c.created_at < ?
      )
     WHERE answered OR handed
"""
HANDOFFS = """
    SELECT reason, requested_at, claimed_at, resolved_at FROM handoffs
     WHERE requested_at >= ? AND requested_at < ? ORDER BY requested_at, id
"""
FEEDBACK = """
    SELECT coalesce(sum(positive), 0), coalesce(sum(1 - positive), 0) FROM feedback
     WHERE created_at >= ? AND created_at < ?
"""
QUESTIONS = """
    SELECT count(*), coalesce(sum(confident), 0) FROM retrievals
     WHERE recorded_at >= ? AND recorded_at < ?
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
         WHERE r.confident = 0 AND r.recorded_at >= ? AND r.recorded_at < ?
    )
     WHERE text IS NOT NULL
     ORDER BY recorded_at DESC
     LIMIT ?
"""
USAGE = """
    SELECT model, count(*), sum(prompt_tokens), sum(completion_tokens) FROM usage_ledger
     WHERE recorded_at >= ? AND recorded_at < ? GROUP BY model ORDER BY model
"""


def _text(moment: datetime) -> str:
    # The same fixed-width UTC form as the store's other timestamps (text order = time order).
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"the store needs timezone-aware datetimes, got naive {moment!r}")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


async def record_retrieval(
    db: aiosqlite.Connection, conversation_id: str, outcome: RetrievalOutcome
) -> None:
    await db.execute(
        "INSERT INTO retrievals (conversation_id, message_id, entry_id, confidence, confident,"
        " recorded_at) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (conversation_id, message_id) DO UPDATE SET"
        " entry_id = excluded.entry_id, confidence = excluded.confidence,"
        " confident = excluded.confident, recorded_at = excluded.recorded_at",
        (
            conversation_id,
            outcome.message_id,
            outcome.entry_id,
            float(outcome.confidence),
            int(outcome.confident),
            _text(outcome.at),
        ),
    )


async def activity(
    db: aiosqlite.Connection, since: datetime, until: datetime, unmatched_limit: int
) -> Activity:
    """Read the period in one read transaction, so every figure comes from one snapshot."""
    period = (_text(since), _text(until))
    await db.execute("BEGIN")
    try:
        found = await _read(db, period, unmatched_limit)
    finally:
        with suppress(sqlite3.Error):
            await db.execute("COMMIT")  # a read-only transaction: ending it is all
    return found


async def _read(
    db: aiosqlite.Connection, period: tuple[str, str], unmatched_limit: int
) -> Activity:
    (counts,) = await db.execute_fetchall(CONVERSATION_COUNTS, period)
    handoffs = await db.execute_fetchall(HANDOFFS, period)
    ((up, down),) = await db.execute_fetchall(FEEDBACK, period)
    ((questions, matched),) = await db.execute_fetchall(QUESTIONS, period)
    unmatched = await db.execute_fetchall(UNMATCHED, (*period, max(0, unmatched_limit)))
    usage = await db.execute_fetchall(USAGE, period)
    return Activity(
        conversations=ConversationCounts(*(int(n) for n in counts)),
        handoffs=tuple(
            HandoffTimes(reason, datetime.fromisoformat(requested), _time(claimed), _time(closed))
            for reason, requested, claimed, closed in handoffs
        ),
        thumbs_up=int(up),
        thumbs_down=int(down),
        questions=int(questions),
        matched=int(matched),
        unmatched=tuple(
            UnmatchedQuestion(text, entry_id, float(confidence), datetime.fromisoformat(at))
            for text, entry_id, confidence, at in unmatched
        ),
        usage=tuple(
            ModelUsage(model, int(calls), int(prompt), int(completion))
            for model, calls, prompt, completion in usage
        ),
    )
