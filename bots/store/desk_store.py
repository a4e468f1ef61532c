"""The store's help-desk methods (tickets linked to conversations, the outbox), for `SQLStore`."""

from __future__ import annotations

from abc import abstractmethod
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import ClassVar

from bots.store import desk_queries as desks
from bots.store.desk_queries import DeskJob, DeskTicket
from bots.store.dialect import Dialect, Session


class DeskStore:
    """Mixed into `SQLStore` (bots/store/queries.py): the same sessions, the desk tables."""

    dialect: ClassVar[Dialect]

    @abstractmethod
    def _session(
        self, action: str, *, writes: bool = False
    ) -> AbstractAsyncContextManager[Session]: ...

    async def enqueue_desk_job(
        self, conversation_id: str, desk: str, kind: str, payload: str, now: datetime
    ) -> None:
        """Queue one desk call (bots/desks/outbox.py runs it, retrying until it is done)."""
        async with self._session("queue a help-desk call", writes=True) as session:
            await desks.enqueue(session, conversation_id, desk, kind, payload, now)

    async def due_desk_jobs(self, now: datetime, limit: int = 50) -> list[DeskJob]:
        async with self._session("read the help-desk outbox") as session:
            return await desks.due_jobs(session, self.dialect, now, limit)

    async def lease_desk_job(self, job: DeskJob, until: datetime) -> bool:
        """Take the job until `until`, for one caller only (processes sharing PostgreSQL)."""
        async with self._session("take a help-desk call", writes=True) as session:
            return await desks.lease(session, job, until)

    async def finish_desk_job(self, job_id: int, now: datetime, error: str | None = None) -> None:
        async with self._session("finish a help-desk call", writes=True) as session:
            await desks.finish(session, job_id, now, error)

    async def retry_desk_job(
        self, job_id: int, attempts: int, due_at: datetime, error: str
    ) -> None:
        async with self._session("reschedule a help-desk call", writes=True) as session:
            await desks.retry_later(session, job_id, attempts, due_at, error)

    async def pending_desk_jobs(self, conversation_id: str) -> int:
        """How many desk calls for the conversation are not done yet."""
        async with self._session("read the help-desk outbox") as session:
            return await desks.pending_jobs(session, conversation_id)

    async def link_desk_ticket(
        self, conversation_id: str, desk: str, ticket_id: str, now: datetime
    ) -> None:
        """Remember that the conversation's hand-off is ticket `ticket_id` (status open)."""
        async with self._session("link the help-desk ticket", writes=True) as session:
            await desks.link_ticket(session, conversation_id, desk, ticket_id, now)

    async def set_desk_ticket_status(
        self, desk: str, ticket_id: str, status: str, now: datetime
    ) -> bool:
        """False when the ticket already had `status` (a redelivered "solved" changes nothing)."""
        async with self._session("update the help-desk ticket", writes=True) as session:
            return await desks.set_ticket_status(session, desk, ticket_id, status, now)

    async def mark_desk_replied(self, desk: str, ticket_id: str, reply: int) -> None:
        """The agent reply numbered `reply` is in the thread: never post it (or older) again."""
        async with self._session("remember the relayed desk reply", writes=True) as session:
            await desks.mark_replied(session, desk, ticket_id, reply)

    async def desk_ticket(self, desk: str, ticket_id: str) -> DeskTicket | None:
        async with self._session("read the help-desk ticket") as session:
            found = await desks.tickets_where(
                session, self.dialect, "desk = ? AND ticket_id = ?", desk, ticket_id
            )
        return found[0] if found else None

    async def desk_tickets_of(self, conversation_id: str) -> list[DeskTicket]:
        """The conversation's tickets, oldest first (open and solved)."""
        async with self._session("read the help-desk tickets") as session:
            return await desks.tickets_where(
                session, self.dialect, "conversation_id = ?", conversation_id
            )

    async def open_desk_tickets(self) -> list[DeskTicket]:
        """Every ticket still open, oldest first (what polling looks at)."""
        async with self._session("read the open help-desk tickets") as session:
            return await desks.tickets_where(session, self.dialect, "status = ?", "open")
