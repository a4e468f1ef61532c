"""The hand-off lifecycle's steps in SQL: conditional state changes and hand-off records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from bots.models import ConversationState, Handoff
from bots.store import rows
from bots.store.dialect import Dialect, Session
from bots.store.schema import HANDOFF_COLUMNS

OWNED_BY_THE_BOT: Final = (ConversationState.BOT, ConversationState.RESOLVED)


@dataclass(frozen=True, slots=True)
class Transition:
    """A step of the hand-off lifecycle: to `to`, from any of `from_states`."""

    to: ConversationState
    from_states: tuple[ConversationState, ...]
    reset_counters: bool = False
    """Forget the unanswered turns in a row and the offer of a person (a fresh start)."""


HAND_OVER: Final = Transition(ConversationState.WAITING_FOR_HUMAN, OWNED_BY_THE_BOT, True)
CLAIM: Final = Transition(ConversationState.HUMAN, (ConversationState.WAITING_FOR_HUMAN,))
HAND_BACK: Final = Transition(
    ConversationState.RESOLVED, (ConversationState.WAITING_FOR_HUMAN, ConversationState.HUMAN)
)


async def transition(
    session: Session,
    dialect: Dialect,
    conversation_id: str,
    step: Transition,
    now: datetime,
    *,
    idle_before: datetime | None = None,
) -> bool:
    """Take `step` if the conversation is in one of its `from_states` (and, with
    `idle_before`, quiet since then); one conditional UPDATE, so racing callers move it
    once. (PostgreSQL, under READ COMMITTED, makes a concurrent UPDATE of the row wait for
    the first to commit, then evaluates the WHERE clause again on the row as it is now;
    SQLite has one writer at a time.)"""
    counters = ", failed_turns = 0, offer_reason = NULL" if step.reset_counters else ""
    marks = ", ".join("?" for _ in step.from_states)
    idle = " AND updated_at < ?" if idle_before is not None else ""
    changed = await session.execute(
        f"UPDATE conversations SET state = ?,"
        f" updated_at = {dialect.greatest}(updated_at, ?){counters}"
        f" WHERE id = ? AND state IN ({marks}){idle}",
        step.to.value,
        now,
        conversation_id,
        *(state.value for state in step.from_states),
        *((idle_before,) if idle_before is not None else ()),
    )
    return changed == 1


async def stamp_open_handoff(
    session: Session, stage: str, conversation_id: str, staff_id: str | None, now: datetime
) -> None:
    """Stamp the open hand-off `claimed` or `resolved`, by whom and when."""
    assert stage in ("claimed", "resolved")
    await session.execute(
        f"UPDATE handoffs SET {stage}_by = ?, {stage}_at = ?"
        " WHERE conversation_id = ? AND resolved_at IS NULL",
        staff_id,
        now,
        conversation_id,
    )


async def latest_handoff(
    session: Session, dialect: Dialect, conversation_id: str
) -> Handoff | None:
    row = await session.fetchrow(
        f"SELECT {HANDOFF_COLUMNS} FROM handoffs WHERE conversation_id = ?"
        " ORDER BY id DESC LIMIT 1",
        conversation_id,
    )
    return rows.handoff(row, dialect) if row is not None else None
