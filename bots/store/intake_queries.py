"""The intake form's answers in the store: saving, reading, forgetting (migration 8)."""

from __future__ import annotations

from datetime import datetime

from bots.models import IntakeAnswer
from bots.store.dialect import Session


async def save_intake(
    session: Session,
    conversation_id: str,
    user_id: str,
    answers: tuple[IntakeAnswer, ...],
    now: datetime,
) -> None:
    """Replace the conversation's answers with these (the caller's transaction)."""
    await session.execute("DELETE FROM intake_answers WHERE conversation_id = ?", conversation_id)
    for position, answer in enumerate(answers):
        await session.execute(
            "INSERT INTO intake_answers"
            " (conversation_id, field_id, position, label, value, user_id, submitted_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            conversation_id,
            answer.field_id,
            position,
            answer.label,
            answer.value,
            user_id,
            now,
        )


async def intake_of(session: Session, conversation_id: str) -> tuple[IntakeAnswer, ...]:
    rows = await session.fetch(
        "SELECT field_id, label, value FROM intake_answers WHERE conversation_id = ?"
        " ORDER BY position",
        conversation_id,
    )
    return tuple(IntakeAnswer(str(r[0]), str(r[1]), str(r[2])) for r in rows)


async def forget_user_intake(session: Session, user_id: str) -> int:
    return await session.execute("DELETE FROM intake_answers WHERE user_id = ?", user_id)


async def delete_intake_before(session: Session, cutoff: datetime) -> int:
    return await session.execute("DELETE FROM intake_answers WHERE submitted_at < ?", cutoff)
