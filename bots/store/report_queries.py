"""The store's retrieval outcomes and the report's reads: SQL run on a held session."""

from __future__ import annotations

from datetime import datetime

from bots.store.activity import (
    Activity,
    ConversationCounts,
    EntryUse,
    HandoffTimes,
    ModelUsage,
    RetrievalOutcome,
    UnmatchedQuestion,
)
from bots.store.dialect import Dialect, Session

# Conversations started in [?, ?) that the bot answered or handed over, with what happened.
# `offer_reason` is set while the bot's last word offered a person: after "I don't know"
# (no_answer), the model being down (llm_unavailable) or a limit (limit), or after a
# thumbs-down (feedback, counted as `down`).
# Turns and hand-offs are looked up per conversation through their indexes; SQLite's
# feedback has no index by conversation, so its set is built once (IN) rather than scanned
# per conversation.
CONVERSATION_COUNTS = """
    SELECT count(*),
           count(*) FILTER (WHERE answered),
           count(*) FILTER (WHERE handed),
           count(*) FILTER (WHERE down),
           count(*) FILTER (WHERE unanswered AND NOT handed),
           count(*) FILTER (WHERE answered AND NOT handed AND NOT down AND NOT unanswered)
      FROM (
        SELECT EXISTS (SELECT 1 FROM turns t
                        WHERE t.conversation_id = c.id AND t.role = 'assistant') AS answered,
               EXISTS (SELECT 1 FROM handoffs h WHERE h.conversation_id = c.id) AS handed,
               c.id IN (SELECT conversation_id FROM feedback WHERE NOT positive) AS down,
               coalesce(c.offer_reason IN ('no_answer', 'limit', 'llm_unavailable'), false)
                   AS unanswered
          FROM conversations c
         WHERE c.created_at >= ? AND c.created_at < ?
      ) facts
     WHERE answered OR handed
"""
HANDOFFS = """
    SELECT reason, requested_at, claimed_at, resolved_at FROM handoffs
     WHERE requested_at >= ? AND requested_at < ? ORDER BY requested_at, id
"""
FEEDBACK = """
    SELECT count(*) FILTER (WHERE positive), count(*) FILTER (WHERE NOT positive) FROM feedback
     WHERE created_at >= ? AND created_at < ?
"""
QUESTIONS = """
    SELECT count(*), count(*) FILTER (WHERE confident) FROM retrievals
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
         WHERE NOT r.confident AND r.recorded_at >= ? AND r.recorded_at < ?
    ) questions
     WHERE text IS NOT NULL
     ORDER BY recorded_at DESC
     LIMIT ?
"""
USAGE = """
    SELECT model, count(*), sum(prompt_tokens), sum(completion_tokens) FROM usage_ledger
     WHERE recorded_at >= ? AND recorded_at < ? GROUP BY model ORDER BY model
"""


async def record_retrieval(
    session: Session, conversation_id: str, outcome: RetrievalOutcome
) -> None:
    await session.execute(
        "INSERT INTO retrievals (conversation_id, message_id, entry_id, confidence, confident,"
        " recorded_at) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (conversation_id, message_id) DO UPDATE SET"
        " entry_id = excluded.entry_id, confidence = excluded.confidence,"
        " confident = excluded.confident, recorded_at = excluded.recorded_at",
        conversation_id,
        outcome.message_id,
        outcome.entry_id,
        float(outcome.confidence),
        bool(outcome.confident),
        outcome.at,
    )


async def activity(
    session: Session, dialect: Dialect, since: datetime, until: datetime, unmatched_limit: int
) -> Activity:
    """The period's figures; the caller's snapshot makes them consistent with each other."""
    read_time = dialect.read_time

    def maybe_time(value: object) -> datetime | None:
        return None if value is None else read_time(value)

    counts = await session.fetchrow(CONVERSATION_COUNTS, since, until)
    handoffs = await session.fetch(HANDOFFS, since, until)
    feedback = await session.fetchrow(FEEDBACK, since, until)
    questions = await session.fetchrow(QUESTIONS, since, until)
    unmatched = await session.fetch(UNMATCHED, since, until, max(0, unmatched_limit))
    usage = await session.fetch(USAGE, since, until)
    # Aggregates without GROUP BY always return one row.
    assert counts is not None
    assert feedback is not None
    assert questions is not None
    return Activity(
        conversations=ConversationCounts(*(int(n) for n in counts)),
        handoffs=tuple(
            HandoffTimes(reason, read_time(requested), maybe_time(claimed), maybe_time(closed))
            for reason, requested, claimed, closed in handoffs
        ),
        thumbs_up=int(feedback[0]),
        thumbs_down=int(feedback[1]),
        questions=int(questions[0]),
        matched=int(questions[1]),
        unmatched=tuple(
            UnmatchedQuestion(text, entry_id, float(confidence), read_time(at))
            for text, entry_id, confidence, at in unmatched
        ),
        usage=tuple(
            ModelUsage(model, int(calls), int(prompt), int(completion))
            for model, calls, prompt, completion in usage
        ),
    )


async def most_asked_entries(
    session: Session, persona: str, since: datetime, limit: int
) -> list[str]:
    rows = await session.fetch(
        "SELECT r.entry_id, count(*) AS asked FROM retrievals r"
        " JOIN conversations c ON c.id = r.conversation_id"
        " WHERE c.persona = ? AND r.recorded_at >= ? AND r.confident AND r.entry_id IS NOT NULL"
        " GROUP BY r.entry_id ORDER BY asked DESC, r.entry_id LIMIT ?",
        persona,
        since,
        limit,
    )
    return [str(row[0]) for row in rows]


# The persona is the conversation's: entry ids are unique within a persona's sets only.
RECORD_ENTRY_USE = (
    "INSERT INTO entry_uses (persona, entry_id, used_at)"
    " SELECT persona, ?, ? FROM conversations WHERE id = ?"
)
ENTRY_USES = """
    SELECT persona, entry_id, count(*), max(used_at) FROM entry_uses
     WHERE used_at >= ? AND used_at < ?
     GROUP BY persona, entry_id ORDER BY persona, entry_id
"""


async def record_entry_uses(
    session: Session, conversation_id: str, entry_ids: tuple[str, ...], at: datetime
) -> None:
    for entry_id in dict.fromkeys(entry_ids):
        await session.execute(RECORD_ENTRY_USE, entry_id, at, conversation_id)


async def entry_uses(
    session: Session, dialect: Dialect, since: datetime, until: datetime
) -> list[EntryUse]:
    rows = await session.fetch(ENTRY_USES, since, until)
    return [
        EntryUse(str(persona), str(entry), int(count), dialect.read_time(last))
        for persona, entry, count, last in rows
    ]
