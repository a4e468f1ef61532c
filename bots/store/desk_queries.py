"""Help-desk tickets linked to conversations, and the outbox of desk calls: rows and SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from bots.store.dialect import Dialect, Row, Session

TICKET_COLUMNS: Final = (
    "desk, ticket_id, conversation_id, status, created_at, updated_at, last_reply"
)
JOB_COLUMNS: Final = "id, conversation_id, desk, kind, payload, attempts, due_at, created_at"


@dataclass(frozen=True, slots=True)
class DeskTicket:
    """A ticket (Zendesk) or conversation (Chatwoot) a hand-off became."""

    desk: str
    ticket_id: str
    conversation_id: str
    status: str
    """`open` while the desk works it, `solved` once it is solved or resolved there."""
    created_at: datetime
    updated_at: datetime
    last_reply: int | None = None
    """The newest agent reply already posted in the thread (the desks number them in order):
    older ones are never posted again, even once retention dropped their event ids."""


@dataclass(frozen=True, slots=True)
class DeskJob:
    """One desk call still to make: create a ticket, add a comment, delete a ticket."""

    id: int
    conversation_id: str
    desk: str
    kind: str
    payload: str
    """JSON, written and read by bots/desks/outbox.py."""
    attempts: int
    due_at: datetime
    created_at: datetime


def _ticket(row: Row, dialect: Dialect) -> DeskTicket:
    return DeskTicket(
        row[0],
        row[1],
        row[2],
        row[3],
        dialect.read_time(row[4]),
        dialect.read_time(row[5]),
        None if row[6] is None else int(row[6]),
    )


def _job(row: Row, dialect: Dialect) -> DeskJob:
    return DeskJob(
        int(row[0]),
        row[1],
        row[2],
        row[3],
        row[4],
        int(row[5]),
        dialect.read_time(row[6]),
        dialect.read_time(row[7]),
    )


async def enqueue(
    session: Session, conversation_id: str, desk: str, kind: str, payload: str, now: datetime
) -> None:
    await session.execute(
        "INSERT INTO desk_outbox (conversation_id, desk, kind, payload, attempts, due_at,"
        " created_at) VALUES (?, ?, ?, ?, 0, ?, ?)",
        conversation_id,
        desk,
        kind,
        payload,
        now,
        now,
    )


async def due_jobs(session: Session, dialect: Dialect, now: datetime, limit: int) -> list[DeskJob]:
    """Jobs not done whose time has come, oldest first (a conversation's jobs in order)."""
    found = await session.fetch(
        f"SELECT {JOB_COLUMNS} FROM desk_outbox WHERE done_at IS NULL AND due_at <= ?"
        " ORDER BY id LIMIT ?",
        now,
        limit,
    )
    return [_job(row, dialect) for row in found]


async def lease(session: Session, job: DeskJob, until: datetime) -> bool:
    """Take `job` until `until`: True for one caller only, even across processes."""
    changed = await session.execute(
        "UPDATE desk_outbox SET due_at = ? WHERE id = ? AND due_at = ? AND done_at IS NULL",
        until,
        job.id,
        job.due_at,
    )
    return changed == 1


async def finish(session: Session, job_id: int, now: datetime, error: str | None) -> None:
    """Done, delivered or refused for good (`error`: why, in words with no message text)."""
    await session.execute(
        "UPDATE desk_outbox SET done_at = ?, last_error = ? WHERE id = ?", now, error, job_id
    )


async def retry_later(
    session: Session, job_id: int, attempts: int, due_at: datetime, error: str
) -> None:
    await session.execute(
        "UPDATE desk_outbox SET attempts = ?, due_at = ?, last_error = ? WHERE id = ?",
        attempts,
        due_at,
        error,
        job_id,
    )


async def pending_jobs(session: Session, conversation_id: str) -> int:
    found = await session.fetchval(
        "SELECT count(*) FROM desk_outbox WHERE conversation_id = ? AND done_at IS NULL",
        conversation_id,
    )
    return int(found)


async def link_ticket(
    session: Session, conversation_id: str, desk: str, ticket_id: str, now: datetime
) -> None:
    await session.execute(
        "INSERT INTO desk_tickets (desk, ticket_id, conversation_id, status, created_at,"
        " updated_at) VALUES (?, ?, ?, 'open', ?, ?)"
        " ON CONFLICT (desk, ticket_id) DO UPDATE SET status = 'open', updated_at = ?",
        desk,
        ticket_id,
        conversation_id,
        now,
        now,
        now,
    )


async def set_ticket_status(
    session: Session, desk: str, ticket_id: str, status: str, now: datetime
) -> bool:
    """Set the status; False when it already was `status` (or there is no such ticket)."""
    changed = await session.execute(
        "UPDATE desk_tickets SET status = ?, updated_at = ?"
        " WHERE desk = ? AND ticket_id = ? AND status != ?",
        status,
        now,
        desk,
        ticket_id,
        status,
    )
    return changed == 1


async def tickets_where(
    session: Session, dialect: Dialect, where: str, *parameters: object
) -> list[DeskTicket]:
    found = await session.fetch(
        f"SELECT {TICKET_COLUMNS} FROM desk_tickets WHERE {where} ORDER BY created_at, ticket_id",
        *parameters,
    )
    return [_ticket(row, dialect) for row in found]


async def mark_replied(session: Session, desk: str, ticket_id: str, reply: int) -> None:
    """Move the ticket's `last_reply` forward to `reply` (never back)."""
    await session.execute(
        "UPDATE desk_tickets SET last_reply = ? WHERE desk = ? AND ticket_id = ?"
        " AND (last_reply IS NULL OR last_reply < ?)",
        reply,
        desk,
        ticket_id,
        reply,
    )
