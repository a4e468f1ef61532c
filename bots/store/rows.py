"""Rows to frozen values and back: a conversation, a turn, a hand-off, in either database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bots.models import Conversation, ConversationState, Handoff, Role, ThreadKey, Turn
from bots.store.dialect import Dialect, Row


def conversation(row: Row, dialect: Dialect) -> Conversation:
    """A row of `CONVERSATION_COLUMNS` (bots/store/schema.py)."""
    return Conversation(
        id=row[0],
        key=ThreadKey(row[1], row[2], row[3], row[4]),
        persona=row[5],
        state=ConversationState(row[6]),
        created_at=dialect.read_time(row[7]),
        updated_at=dialect.read_time(row[8]),
        failed_turns=row[9],
        offer_reason=row[10],
    )


def turn(row: Row, dialect: Dialect, start: int = 0) -> Turn:
    """The `TURN_COLUMNS` of a row, from column `start` on."""
    role, text, author_id, message_id, created, token_count, cited, due, reply_id = row[
        start : start + 9
    ]
    return Turn(
        role=Role(role),
        text=text,
        author_id=author_id,
        message_id=message_id,
        created_at=dialect.read_time(created),
        token_count=token_count,
        cited_ids=dialect.read_names(cited),
        answer_due=maybe_time(due, dialect),
        reply_id=reply_id,
    )


def handoff(row: Row, dialect: Dialect) -> Handoff:
    """A row of `HANDOFF_COLUMNS`."""
    return Handoff(
        id=row[0],
        conversation_id=row[1],
        reason=row[2],
        detail=row[3],
        summary=dialect.read_names(row[4]),
        requested_at=dialect.read_time(row[5]),
        claimed_by=row[6],
        claimed_at=maybe_time(row[7], dialect),
        resolved_by=row[8],
        resolved_at=maybe_time(row[9], dialect),
        reminded_at=maybe_time(row[10], dialect),
    )


def maybe_time(value: Any, dialect: Dialect) -> datetime | None:
    return None if value is None else dialect.read_time(value)


def turn_values(conversation_id: str, turn: Turn) -> tuple[Any, ...]:
    """A turn's columns, in `TURN_COLUMNS` order after its conversation's id."""
    return (
        conversation_id,
        Role(turn.role).value,
        turn.text,
        turn.author_id,
        turn.message_id,
        turn.created_at,
        turn.token_count,
        turn.cited_ids,
        turn.answer_due,
        turn.reply_id,
    )
