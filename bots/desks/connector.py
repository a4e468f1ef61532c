"""A help desk as a hand-off sink: each hand-off queues its ticket, later messages comments."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from bots.desks.outbox import CREATE, DeskOutbox, request_payload
from bots.desks.protocol import DeskClient, TicketRequest, TranscriptLine
from bots.desks.requester import IntakeEmail, RequesterLookup, requester_for
from bots.desks.transcript import subject_from
from bots.handoff.lifecycle import MODEL_SUMMARY_LABEL
from bots.handoff.updates import MESSAGE, RESOLVED, HandoffUpdate
from bots.models import HandoffRecord, Role
from bots.store import Store

log = logging.getLogger(__name__)

TRANSCRIPT_TURNS = 60
_WHO = {Role.USER: "user", Role.ASSISTANT: "assistant", Role.STAFF: "staff"}


@dataclass(frozen=True)
class DeskChoice:
    """What one persona chose (its `handoff.desk` and `handoff.desk_priority`)."""

    desk: str | None = None
    """"zendesk", "chatwoot", "none", or None: the settings' desk (BOTS_DESK)."""
    priorities: Mapping[str, str] = field(default_factory=dict)
    """Hand-off reason -> priority, before the settings' BOTS_DESK_PRIORITY."""


ChoiceOf = Callable[[str], DeskChoice]
"""A persona's name -> its choice (read at each hand-off, so a reloaded persona counts)."""

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
        requester_lookup: RequesterLookup | None = None,
        intake_email: IntakeEmail | None = None,
        choice_of: ChoiceOf = lambda persona: DeskChoice(),
        solve_on_resolve: bool = False,
    ) -> None:
        self._desk = desk
        self._store = store
        self._outbox = outbox
        self._sources_of = sources_of
        self._priorities = dict(priorities or {})
        self._requester_lookup = requester_lookup
        self._intake_email = intake_email
        self._choice_of = choice_of
        self._solve_on_resolve = solve_on_resolve
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

    def serves(self, persona: str) -> bool:
        """Whether `persona`'s hand-offs become tickets here: it chose this desk, or left the
        choice to the settings."""
        return self._choice_of(persona).desk in (None, self._desk.name)

    def notice_line_for(self, persona: str) -> str:
        """The notice's ticket line, for a persona this desk serves; else none."""
        return self.notice_line if self.serves(persona) else ""

    def use_requester_lookup(self, lookup: RequesterLookup) -> None:
        """The platform bot exists: tickets are requested by its users' names from now on."""
        self._requester_lookup = lookup

    async def deliver(self, record: HandoffRecord, *, link: str | None = None) -> bool:
        """Queue the ticket for `record` (the outbox makes it); True once it is queued, False
        when its persona chose another desk (or none)."""
        if not self.serves(record.persona):
            return False
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
            # Handed back in the chat: the ticket's later replies no longer go to the thread;
            # with BOTS_DESK_SOLVE_ON_RESOLVE the ticket is solved too (through the outbox).
            for ticket in await self._store.desk_tickets_of(conversation_id):
                if ticket.desk == self._desk.name and ticket.status == "open":
                    await self._store.set_desk_ticket_status(
                        ticket.desk, ticket.ticket_id, "closed_in_chat", update.at
                    )
                    if self._solve_on_resolve:
                        await self._outbox.solve(conversation_id, ticket.desk, ticket.ticket_id)

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
            requester=await requester_for(record, self._requester_lookup, self._intake_email),
            tags=(
                "bots",
                f"persona_{record.persona}",
                f"platform_{record.key.platform}",
                f"handoff_{reason}",
            ),
            priority=self._choice_of(record.persona).priorities.get(reason)
            or self._priorities.get(reason, "normal"),
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
