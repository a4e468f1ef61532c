"""The desk outbox: every desk call is queued in the store first, then made, retried until done.

A hand-off's ticket, a user's later message, a remote deletion: each is a row of
`desk_outbox` (migration 7) before any HTTP call, so a desk that is down, a 429 or a restart
loses nothing. A run takes the due rows oldest first; a call that fails for a while
(`DeskUnavailable`) is tried again after exponential back-off with jitter, or after the
desk's `Retry-After`, capped at `MAX_WAIT`; a refusal (`DeskRefused`, a 4xx) is final and
logged. A conversation's comments wait until its ticket exists, so they arrive in order.
Several processes sharing PostgreSQL each run the outbox; a lease (a conditional UPDATE of the
row's due time) gives each row to one of them. Written by hand: a queue library (arq,
dramatiq, celery) would need Redis or a broker the bot does not otherwise have, while this is
two tables in the store it already keeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from bots.desks.protocol import (
    DeskClient,
    DeskRefused,
    DeskUnavailable,
    Requester,
    TicketRequest,
    TranscriptLine,
)
from bots.store import Store
from bots.store.desk_queries import DeskJob

log = logging.getLogger(__name__)

CREATE, COMMENT, DELETE = "create", "comment", "delete"
MAX_WAIT = timedelta(minutes=15)
"""No wait between two tries of a call is longer than this, `Retry-After` included."""
FIRST_WAIT = 2.0
LEASE = timedelta(minutes=2)
"""How long a taken call is left to its process before another may try it."""
WAITING_FOR_TICKET = timedelta(seconds=30)

Created = Callable[[str, str, str], Awaitable[None]]
"""Told (conversation id, desk, ticket id) once a ticket exists."""


def request_payload(request: TicketRequest) -> str:
    return json.dumps(
        {
            "conversation_id": request.conversation_id,
            "subject": request.subject,
            "transcript": [[t.who, t.text, list(t.sources)] for t in request.transcript],
            "summary": list(request.summary),
            "requester": [
                request.requester.user_id,
                request.requester.name,
                request.requester.email,
            ],
            "tags": list(request.tags),
            "priority": request.priority,
            "link": request.link,
        },
        ensure_ascii=False,
    )


def request_of(payload: str) -> TicketRequest:
    data = json.loads(payload)
    return TicketRequest(
        conversation_id=data["conversation_id"],
        subject=data["subject"],
        transcript=tuple(TranscriptLine(w, t, tuple(s)) for w, t, s in data["transcript"]),
        summary=tuple(data["summary"]),
        requester=Requester(*data["requester"]),
        tags=tuple(data["tags"]),
        priority=data["priority"],
        link=data["link"],
    )


class DeskOutbox:
    """Runs the queued desk calls of one store against the desks by name."""

    def __init__(
        self,
        store: Store,
        desks: Mapping[str, DeskClient],
        clock: Callable[[], datetime],
        *,
        created: Created | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._store = store
        self._desks = dict(desks)
        self._clock = clock
        self._created = created
        self._jitter = jitter
        self._wake = asyncio.Event()

    async def enqueue(self, conversation_id: str, desk: str, kind: str, data: str) -> None:
        """Queue a call (in the store, at once), and wake the runner."""
        await self._store.enqueue_desk_job(conversation_id, desk, kind, data, self._clock())
        self._wake.set()

    async def comment(self, conversation_id: str, desk: str, who: str, text: str) -> None:
        await self.enqueue(conversation_id, desk, COMMENT, json.dumps([who, text]))

    async def delete(self, conversation_id: str, desk: str, ticket_id: str) -> None:
        await self.enqueue(conversation_id, desk, DELETE, json.dumps(ticket_id))

    async def run_due(self) -> int:
        """Make every call that is due now; how many were done (delivered or refused)."""
        done = 0
        blocked: set[str] = set()  # conversations whose earlier call is still waiting
        for job in await self._store.due_desk_jobs(self._clock()):
            if job.conversation_id in blocked:
                continue
            now = self._clock()
            if not await self._store.lease_desk_job(job, now + LEASE):
                continue  # another process took it
            if await self._run(job, now):
                done += 1
            else:
                blocked.add(job.conversation_id)
        return done

    async def run_forever(self, every: float = 30.0) -> None:
        """Run due calls whenever one is queued, and at least every `every` seconds."""
        while True:
            self._wake.clear()
            try:
                await self.run_due()
            except Exception:
                log.exception("desk outbox run failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), every)

    async def _run(self, job: DeskJob, now: datetime) -> bool:
        desk = self._desks.get(job.desk)
        if desk is None:
            await self._store.finish_desk_job(job.id, now, f"no desk named {job.desk} set up")
            log.warning("desk call %d dropped: desk %s is not configured", job.id, job.desk)
            return True
        try:
            finished = await self._call(desk, job)
        except DeskUnavailable as exc:
            await self._later(job, now, str(exc), exc.retry_after)
            return False
        except DeskRefused as exc:
            await self._store.finish_desk_job(job.id, self._clock(), str(exc))
            log.warning("%s refused desk call %d (%s): not retried", desk.label, job.id, exc)
            return True
        if not finished:  # the ticket it is for does not exist yet
            await self._store.retry_desk_job(
                job.id, job.attempts, now + WAITING_FOR_TICKET, "waiting for the ticket"
            )
            return False
        await self._store.finish_desk_job(job.id, self._clock())
        return True

    async def _call(self, desk: DeskClient, job: DeskJob) -> bool:
        data: Any = json.loads(job.payload)
        if job.kind == CREATE:
            earlier = [
                t.ticket_id
                for t in await self._store.desk_tickets_of(job.conversation_id)
                if t.desk == desk.name and t.created_at >= job.created_at
            ]

            async def opened(ticket_id: str) -> None:
                await self._store.link_desk_ticket(
                    job.conversation_id, desk.name, ticket_id, self._clock()
                )

            ticket_id = await desk.create_ticket(
                request_of(job.payload),
                key=f"bots-{job.conversation_id}-{job.id}",
                existing=earlier[-1] if earlier else None,
                opened=opened,
            )
            log.info("desk ticket created desk=%s conversation=%s", desk.name, job.conversation_id)
            if self._created is not None:
                await self._created(job.conversation_id, desk.name, ticket_id)
            return True
        if job.kind == COMMENT:
            tickets = [
                t
                for t in await self._store.desk_tickets_of(job.conversation_id)
                if t.desk == desk.name
            ]
            if not tickets:
                if await self._store.pending_desk_jobs(job.conversation_id) <= 1:
                    raise DeskRefused("the conversation has no ticket to comment on")
                return False  # its ticket is still queued
            who, text = data
            await desk.add_comment(tickets[-1].ticket_id, who, text)
            return True
        if job.kind == DELETE:
            await desk.delete_ticket(str(data))
            return True
        raise DeskRefused(f"unknown desk call {job.kind!r}")

    async def _later(
        self, job: DeskJob, now: datetime, why: str, retry_after: float | None
    ) -> None:
        attempts = job.attempts + 1
        backoff = FIRST_WAIT * 2 ** min(attempts - 1, 16) + self._jitter()
        wait = timedelta(seconds=retry_after if retry_after is not None else backoff)
        wait = min(wait, MAX_WAIT)
        await self._store.retry_desk_job(job.id, attempts, now + wait, why)
        log.warning(
            "desk call %d (%s) failed (%s), attempt %d; next try in %.0fs",
            job.id,
            job.kind,
            why,
            attempts,
            wait.total_seconds(),
        )
