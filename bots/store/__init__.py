"""The conversation store: the protocol every backend implements, and `open_store(url)`."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

from bots.errors import ConfigError
from bots.models import (
    Conversation,
    ConversationState,
    Forgotten,
    Handoff,
    IntakeAnswer,
    IntakeDetails,
    ThreadKey,
    Turn,
    Usage,
    UsageEntry,
)
from bots.store.activity import Activity, EntryUse, RetrievalOutcome, UngroundedAnswer
from bots.store.desk_queries import DeskJob, DeskTicket


class Store(Protocol):
    """Durable conversations. Every method is safe to call concurrently from one event loop.

    Datetimes go in and come out timezone-aware (a naive one is a bug: ValueError). Failures
    of the database itself are raised as `bots.errors.StoreError`. `updated_at` only moves
    forward: to the time of each recorded turn and to `now` on `set_state`. The shared
    behaviour is pinned down by `tests/contracts/store_contract.py`, which every backend runs.
    """

    @property
    def shared(self) -> bool:
        """Whether several bot processes may answer from this store at once (PostgreSQL), or
        one process has it to itself (a SQLite file): then no other process's turn is alive."""

    async def open(self) -> None:
        """Connect and bring the schema up to date."""

    async def close(self) -> None:
        """Wait for calls in progress and disconnect. Calling it twice is fine."""

    async def schema_version(self) -> int:
        """How many migrations the open database has applied."""

    async def ensure_conversation(
        self, key: ThreadKey, persona: str, now: datetime
    ) -> Conversation:
        """The conversation for `key`, created (state `bot`) with `persona` if it is new.

        An existing conversation keeps its persona and state. Concurrent calls for one new
        key create it once.
        """

    async def get_conversation(self, key: ThreadKey) -> Conversation | None:
        """The conversation for `key`, or None if there is none."""

    def serialised(self, conversation_id: str) -> AbstractAsyncContextManager[None]:
        """Hold one conversation for a whole turn against other processes sharing the store.

        Holders of one id take turns, first come first served. A store that only one process
        uses (SQLite) holds nothing: the engine already serialises turns within a process.
        """

    async def latest_conversation(
        self, platform: str, workspace: str, channel: str
    ) -> Conversation | None:
        """The most recently updated conversation in one channel (the console's --resume)."""

    async def recent_conversations(self, limit: int) -> list[Conversation]:
        """The `limit` most recently updated conversations, newest first (the studio's list)."""

    async def record_incoming(self, conversation_id: str, event_id: str, turn: Turn) -> bool:
        """Atomically mark `event_id` processed and append `turn`.

        Returns False, writing nothing, when `event_id` was already processed: a redelivered
        event must be answered once. StoreError if the conversation does not exist.
        """

    async def append_turn(self, conversation_id: str, turn: Turn) -> None:
        """Append `turn` (a reply, a staff message, a note). StoreError if no such conversation."""

    async def unanswered_turns(
        self, since: datetime, before: datetime, *, due_by: datetime | None = None
    ) -> list[tuple[Conversation, Turn]]:
        """Conversations the bot owns (`bot`/`resolved`) whose newest turn is a user message
        written in [since, before): turns a process died in the middle of. Oldest first.

        With `due_by`, only messages whose `answer_due` is not after it (or was never
        recorded): a turn still inside its deadline may be alive in another process.
        """

    async def record_reply_started(
        self, conversation_id: str, message_id: str, reply_id: str
    ) -> None:
        """Remember that the answer to user message `message_id` began streaming into
        platform message `reply_id` (`Turn.reply_id`). Nothing happens for an unknown one."""

    async def recent_turns(self, conversation_id: str, limit: int) -> list[Turn]:
        """The newest `limit` turns, oldest first (empty for `limit` <= 0 or an unknown id)."""

    async def set_state(
        self, conversation_id: str, state: ConversationState, now: datetime
    ) -> None:
        """Set the hand-off state as of `now`. StoreError if no such conversation."""

    async def get_conversation_by_id(self, conversation_id: str) -> Conversation | None: ...

    async def set_counters(
        self, conversation_id: str, *, failed_turns: int, offer_reason: str | None
    ) -> None:
        """Remember unanswered turns in a row, and whether a person was just offered (why)."""

    async def open_handoff(
        self,
        conversation_id: str,
        reason: str,
        detail: str,
        summary: Sequence[str],
        now: datetime,
    ) -> Handoff | None:
        """`bot`/`resolved` -> `waiting_for_human` plus a hand-off record, atomically.

        None, changing nothing, when people already have the conversation.
        """

    async def claim_handoff(self, conversation_id: str, staff_id: str, now: datetime) -> bool:
        """`waiting_for_human` -> `human`, atomically; False when it was not waiting."""

    async def resolve_handoff(
        self,
        conversation_id: str,
        staff_id: str | None,
        now: datetime,
        *,
        idle_since: datetime | None = None,
    ) -> Handoff | None:
        """`waiting_for_human`/`human` -> `resolved`; the closed hand-off, or None.

        With `idle_since`, only when the conversation saw no activity since then (checked in
        the same atomic step).
        """

    async def current_handoff(self, conversation_id: str) -> Handoff | None:
        """The newest hand-off of the conversation, open or closed."""

    async def unclaimed_handoffs(self, requested_before: datetime) -> list[Handoff]:
        """Open, unclaimed, not yet reminded hand-offs requested before the given time."""

    async def mark_reminded(self, handoff_id: int, now: datetime) -> bool:
        """Record that the reminder went out; False if it already had (another process)."""

    async def quiet_conversations(
        self, state: ConversationState, updated_before: datetime
    ) -> list[Conversation]:
        """Conversations in `state` with no activity since `updated_before`."""

    async def add_feedback(
        self, conversation_id: str, message_id: str, user_id: str, positive: bool, now: datetime
    ) -> None: ...

    async def feedback_of(self, conversation_id: str) -> dict[str, bool]:
        """message id -> whether its latest feedback was positive (the studio's transcript)."""

    async def add_usage(self, conversation_id: str, usage: Usage) -> None:
        """Add `usage` to the conversation's running token totals."""

    async def usage(self, conversation_id: str) -> Usage:
        """The conversation's token totals (zeros when nothing was recorded)."""

    # -- limits and privacy (migration 3) --------------------------------------------------

    async def record_usage(self, entry: UsageEntry) -> None:
        """Append one model call's tokens to the usage ledger, on the entry's UTC day."""

    async def usage_on(
        self, day: date, *, user_id: str | None = None, channel: str | None = None
    ) -> Usage:
        """Ledger totals of one UTC day, for one user and/or one channel (all when neither)."""

    async def delete_turns_before(self, cutoff: datetime) -> int:
        """Retention: delete turns, processed-event ids and retrieval outcomes older than
        `cutoff`, and blank the summary and detail of hand-offs requested before it. Returns
        how many turns went."""

    async def forget_conversation(self, conversation_id: str) -> Forgotten:
        """Delete the conversation with its turns, hand-offs, feedback and processed-event
        ids; its usage-ledger rows stay for cost reports with the user id blanked."""

    async def forget_user(self, user_id: str) -> Forgotten:
        """Forget every conversation in which `user_id` wrote as a user (as
        `forget_conversation`), then any other turn and feedback of theirs, and blank their id
        in the usage ledger."""

    # -- the operator's report (migration 4) -----------------------------------------------

    async def record_retrieval(self, conversation_id: str, outcome: RetrievalOutcome) -> None:
        """Remember how well the knowledge matched the question in `outcome.message_id`.

        A second outcome for the same message (a resumed turn) replaces the first. StoreError
        if no such conversation.
        """

    async def activity(
        self, since: datetime, until: datetime, *, unmatched_limit: int = 2000
    ) -> Activity:
        """What happened in [since, until), from one consistent snapshot (see `Activity`).

        Conversations count by their start, hand-offs by their request, feedback, retrieval
        outcomes and the usage ledger by their own time. Unmatched questions are the newest
        `unmatched_limit` whose message text is still kept.
        """

    async def most_asked_entries(self, persona: str, since: datetime, limit: int) -> list[str]:
        """The ids of the entries that confidently matched most questions to `persona` since
        `since`, most first (ties by id): the suggested prompts of a new chat."""

    async def save_intake(self, details: IntakeDetails) -> None:
        """Keep the intake form's answers of `details.conversation_id`, replacing any earlier
        ones (migration 8). StoreError if no such conversation."""

    async def intake_of(self, conversation_id: str) -> tuple[IntakeAnswer, ...]:
        """The conversation's intake answers in the form's order (empty: none)."""

    # -- the live grounding check (migration 5) --------------------------------------------

    async def mark_ungrounded(self, conversation_id: str, facts: Sequence[str]) -> None:
        """Keep with the conversation's newest reply the facts no retrieved snippet held."""

    async def ungrounded_answers(
        self, since: datetime, until: datetime, *, limit: int = 50
    ) -> list[UngroundedAnswer]:
        """Replies of [since, until) marked ungrounded whose text is still kept, newest first."""

    # -- help-desk tickets and the desk outbox (migration 7, bots/store/desk_store.py) -------

    async def enqueue_desk_job(
        self, conversation_id: str, desk: str, kind: str, payload: str, now: datetime
    ) -> None:
        """Queue one desk call, due at once."""

    async def due_desk_jobs(self, now: datetime, limit: int = 50) -> list[DeskJob]:
        """Desk calls not done whose time has come, oldest first."""

    async def lease_desk_job(self, job: DeskJob, until: datetime) -> bool:
        """Take `job` until `until`; True for one caller only, across processes."""

    async def finish_desk_job(self, job_id: int, now: datetime, error: str | None = None) -> None:
        """Mark the call done (`error`: refused for good, and why)."""

    async def retry_desk_job(
        self, job_id: int, attempts: int, due_at: datetime, error: str
    ) -> None:
        """Try the call again at `due_at`."""

    async def pending_desk_jobs(self, conversation_id: str) -> int:
        """How many of the conversation's desk calls are not done yet."""

    async def link_desk_ticket(
        self, conversation_id: str, desk: str, ticket_id: str, now: datetime
    ) -> None:
        """Link ticket `ticket_id` of `desk` to the conversation (status open)."""

    async def set_desk_ticket_status(
        self, desk: str, ticket_id: str, status: str, now: datetime
    ) -> bool:
        """Set the ticket's status; False when it already had it or is unknown."""

    async def mark_desk_replied(self, desk: str, ticket_id: str, reply: int) -> None:
        """Agent reply `reply` was posted in the thread: never post it or an older one again."""

    async def desk_ticket(self, desk: str, ticket_id: str) -> DeskTicket | None: ...

    async def desk_tickets_of(self, conversation_id: str) -> list[DeskTicket]:
        """The conversation's tickets, oldest first."""

    async def open_desk_tickets(self) -> list[DeskTicket]:
        """Every ticket still open, oldest first."""

    # -- which entries answered (migration 9) ----------------------------------------------

    async def record_entry_uses(
        self, conversation_id: str, entry_ids: Sequence[str], at: datetime
    ) -> None:
        """Count one answer of the conversation's persona for each entry it cited (once
        each). Nothing is written for an unknown conversation or no ids."""

    async def entry_uses(self, since: datetime, until: datetime) -> list[EntryUse]:
        """Per persona and entry, the answers of [since, until) grounded in it (used ones
        only: the caller knows which entries exist), by persona then entry id."""


def open_store(url: str) -> Store:
    """The store a `DATABASE_URL` names: `sqlite:///path` (default) or `postgresql://...`."""
    if url.startswith("sqlite:///"):
        from bots.store.sqlite import SQLiteStore

        path = url.removeprefix("sqlite:///")
        return SQLiteStore(":memory:" if path in ("", ":memory:") else Path(path))
    if url.startswith(("postgres://", "postgresql://")):
        from bots.store.postgres import PostgresStore

        return PostgresStore(url)
    raise ConfigError(f"DATABASE_URL must start with sqlite:/// or postgresql://, got {url[:24]!r}")
