"""A help desk as a hand-off sink: each hand-off queues its ticket, later messages comments."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence

from bots.desks.outbox import CREATE, DeskOutbox, request_payload
from bots.desks.protocol import DeskClient, Requester, TicketRequest, TranscriptLine
from bots.desks.transcript import subject_from
from bots.handoff.lifecycle import MODEL_SUMMARY_LABEL
from bots.handoff.updates import MESSAGE, RESOLVED, HandoffUpdate
from bots.models import HandoffRecord, Role
from bots.store import Store

log = logging.getLogger(__name__)

TRANSCRIPT_TURNS = 60
_WHO = {Role.USER: "user", Role.ASSISTANT: "assistant", Role.STAFF: "staff"}

SourcesOf = Callable[[str, Sequence[str]], tuple[str, ...]]
"""(persona, cited entry ids) -> the sources as people read them: "title (url)"."""


class DeskConnector:
    """Turns hand-offs into tickets of one desk, through the outbox (nothing is lost)."""

    def __init__(
        self,
        desk: DeskClient,
        store: Store,
        outbox: DeskOutbox,
        *,
        sources_of: SourcesOf = lambda persona, ids: tuple(ids),
        priorities: Mapping[str, str] | None = None,
    ) -> None:
        self._desk = desk
        self._store = store
        self._outbox = outbox
        self._sources_of = sources_of
        self._priorities = dict(priorities or {})
        # Conversations whose ticket is being queued right now (`deliver` runs in the
        # background): a message arriving meanwhile still becomes a comment.
        self._delivering: set[str] = set()

    @property
    def notice_line(self) -> str:
        """Shown on the team's hand-off notice: the ticket is made after it, and retried."""
        return (
            f"{self._desk.label} ticket: pending (queued; created as soon as "
            f"{self._desk.label} answers)"
        )

    async def deliver(self, record: HandoffRecord, *, link: str | None = None) -> bool:
        """Queue the ticket for `record` (the outbox makes it); True once it is queued."""
        self._delivering.add(record.conversation_id)
        try:
            request = await self._request(record, link)
            await self._outbox.enqueue(
                record.conversation_id, self._desk.name, CREATE, request_payload(request)
            )
        finally:
            self._delivering.discard(record.conversation_id)
        return True

    async def update(self, update: HandoffUpdate) -> None:
        """The user's (and the chat staff's) messages become comments on the open ticket."""
        if update.origin != "chat":
            return  # what the desk's own agents did: the desk has it already
        conversation_id = update.conversation.id
        if update.type == MESSAGE and update.text.strip():
            if not await self._has_ticket(conversation_id):
                return  # handed off before this desk was set up: nothing to comment on
            await self._outbox.comment(
                conversation_id, self._desk.name, update.sender or "user", update.text
            )
        elif update.type == RESOLVED:
            # Handed back in the chat: the ticket's later replies no longer go to the thread.
            for ticket in await self._store.desk_tickets_of(conversation_id):
                if ticket.desk == self._desk.name and ticket.status == "open":
                    await self._store.set_desk_ticket_status(
                        ticket.desk, ticket.ticket_id, "closed_in_chat", update.at
                    )

    async def _has_ticket(self, conversation_id: str) -> bool:
        """An open ticket of this desk, or one still queued (or being queued)."""
        if conversation_id in self._delivering:
            return True
        tickets = await self._store.desk_tickets_of(conversation_id)
        if any(t.desk == self._desk.name and t.status == "open" for t in tickets):
            return True
        return await self._store.pending_desk_jobs(conversation_id) > 0

    async def _request(self, record: HandoffRecord, link: str | None) -> TicketRequest:
        turns = await self._store.recent_turns(record.conversation_id, TRANSCRIPT_TURNS)
        transcript = tuple(
            TranscriptLine(
                _WHO[t.role],
                t.text,
                self._sources_of(record.persona, t.cited_ids) if t.cited_ids else (),
            )
            for t in turns
            if t.role in _WHO
        )
        asked = [t.text for t in turns if t.role is Role.USER]
        reason = record.reason.value
        question = _model_subject(record.summary) or (asked[0] if asked else "")
        return TicketRequest(
            conversation_id=record.conversation_id,
            subject=subject_from(question, f"Chat hand-off: {reason}"),
            transcript=transcript,
            summary=tuple(line for line in record.summary if line != self.notice_line),
            requester=Requester(record.user_id),
            tags=(
                "bots",
                f"persona_{record.persona}",
                f"platform_{record.key.platform}",
                f"handoff_{reason}",
            ),
            priority=self._priorities.get(reason, "normal"),
            link=link or record.link,
        )


def _model_subject(summary: Sequence[str]) -> str:
    """The first sentence of the model's hand-off summary (what the customer wants), if the
    model wrote one (bots/handoff/lifecycle.py `MODEL_SUMMARY_LABEL`); else ""."""
    for line in summary:
        if line.startswith(MODEL_SUMMARY_LABEL):
            wants = line.removeprefix(MODEL_SUMMARY_LABEL).strip()
            first = re.split(r"(?<=[.!?])\s", wants, maxsplit=1)[0]
            return first.rstrip("…").strip()
    return ""
