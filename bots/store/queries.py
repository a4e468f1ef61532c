"""The conversation store's queries, written once for SQLite and PostgreSQL (`SQLStore`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime
from typing import Any, ClassVar

from bots.errors import StoreError
from bots.models import (
    Conversation,
    ConversationState,
    Forgotten,
    Handoff,
    IntakeAnswer,
    IntakeDetails,
    Role,
    ThreadKey,
    Turn,
    Usage,
    UsageEntry,
)
from bots.store import handoff_queries as handoffs
from bots.store import intake_queries as intake
from bots.store import privacy_queries as privacy
from bots.store import report_queries as report
from bots.store import rows
from bots.store.activity import Activity, EntryUse, RetrievalOutcome, UngroundedAnswer
from bots.store.desk_store import DeskStore
from bots.store.dialect import Dialect, Session
from bots.store.handoff_queries import CLAIM, HAND_BACK, HAND_OVER, OWNED_BY_THE_BOT
from bots.store.schema import CONVERSATION_COLUMNS, HANDOFF_COLUMNS, TURN_COLUMNS


def _prefixed(alias: str, columns: str) -> str:
    return ", ".join(f"{alias}.{column.strip()}" for column in columns.split(","))


class SQLStore(DeskStore, ABC):
    """The `Store` protocol's queries over a `Session`; a backend supplies the rest.

    A backend (bots/store/sqlite.py, postgres.py) opens and closes the database, applies the
    migrations, holds conversations (`serialised`), records incoming events and appended
    turns in the one statement its database does best, and lends sessions: for a read, for
    a write, for a transaction (the checks and writes inside happen as one step, even
    against other processes) and for a snapshot (reads that see one consistent state).
    Database failures inside a session come out as StoreError.
    """

    dialect: ClassVar[Dialect]

    @abstractmethod
    def _session(
        self, action: str, *, writes: bool = False
    ) -> AbstractAsyncContextManager[Session]:
        """A session for one call; `action` says what failed in the StoreError."""

    @abstractmethod
    def _transaction(self, action: str) -> AbstractAsyncContextManager[Session]: ...

    @abstractmethod
    def _snapshot(self, action: str) -> AbstractAsyncContextManager[Session]: ...

    # -- conversations ------------------------------------------------------------------

    async def ensure_conversation(
        self, key: ThreadKey, persona: str, now: datetime
    ) -> Conversation:
        """The conversation for `key`; created (state `bot`, `persona`) only if it is new.

        An existing conversation keeps its persona and state. Concurrent calls (from any
        process) for one new key create it once and all return the same row: the losers'
        inserts do nothing.
        """
        conversation_id = key.as_id()
        async with self._session("create the conversation", writes=True) as session:
            found = await self._conversation_where(session, "id = ?", conversation_id)
            if found is not None:
                return found
            await session.execute(
                f"INSERT INTO conversations ({CONVERSATION_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, NULL) ON CONFLICT (id) DO NOTHING",
                conversation_id,
                key.platform,
                key.workspace,
                key.channel,
                key.thread,
                persona,
                ConversationState.BOT.value,
                now,
                now,
            )
            created = await self._conversation_where(session, "id = ?", conversation_id)
        if created is None:  # pragma: no cover - the row was just written
            raise StoreError(f"conversation {conversation_id} vanished while being created")
        return created

    async def get_conversation(self, key: ThreadKey) -> Conversation | None:
        return await self.get_conversation_by_id(key.as_id())

    async def get_conversation_by_id(self, conversation_id: str) -> Conversation | None:
        async with self._session("read the conversation") as session:
            return await self._conversation_where(session, "id = ?", conversation_id)

    async def latest_conversation(
        self, platform: str, workspace: str, channel: str
    ) -> Conversation | None:
        """The most recently updated conversation in one channel (the console's --resume)."""
        async with self._session("find the latest conversation") as session:
            return await self._conversation_where(
                session,
                "platform = ? AND workspace = ? AND channel = ?"
                f" ORDER BY updated_at DESC, {self.dialect.insertion_order} DESC LIMIT 1",
                platform,
                workspace,
                channel,
            )

    async def set_state(
        self, conversation_id: str, state: ConversationState, now: datetime
    ) -> None:
        """Set the hand-off state; `updated_at` moves to `now` (never backwards)."""
        async with self._session("change the conversation's state", writes=True) as session:
            changed = await session.execute(
                f"UPDATE conversations SET state = ?,"
                f" updated_at = {self.dialect.greatest}(updated_at, ?) WHERE id = ?",
                ConversationState(state).value,
                now,
                conversation_id,
            )
        if changed == 0:
            raise StoreError(f"there is no conversation {conversation_id!r}")

    async def set_counters(
        self, conversation_id: str, *, failed_turns: int, offer_reason: str | None
    ) -> None:
        """Remember unanswered turns in a row, and whether a person was just offered."""
        async with self._session("update the conversation", writes=True) as session:
            await session.execute(
                "UPDATE conversations SET failed_turns = ?, offer_reason = ? WHERE id = ?",
                failed_turns,
                offer_reason,
                conversation_id,
            )

    async def quiet_conversations(
        self, state: ConversationState, updated_before: datetime
    ) -> list[Conversation]:
        """Conversations in `state` with no activity since `updated_before`."""
        async with self._session("find quiet conversations") as session:
            found = await session.fetch(
                f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE state = ?"
                f" AND updated_at < ? ORDER BY updated_at, {self.dialect.insertion_order}",
                ConversationState(state).value,
                updated_before,
            )
        return [rows.conversation(row, self.dialect) for row in found]

    async def recent_conversations(self, limit: int) -> list[Conversation]:
        """The `limit` most recently updated conversations, newest first (the studio's list)."""
        async with self._session("list recent conversations") as session:
            found = await session.fetch(
                f"SELECT {CONVERSATION_COLUMNS} FROM conversations"
                f" ORDER BY updated_at DESC, {self.dialect.insertion_order} DESC LIMIT ?",
                limit,
            )
        return [rows.conversation(row, self.dialect) for row in found]

    async def feedback_of(self, conversation_id: str) -> dict[str, bool]:
        """message id -> whether its latest feedback was positive (the studio's transcript)."""
        async with self._session("read feedback") as session:
            found = await session.fetch(
                "SELECT message_id, positive FROM feedback WHERE conversation_id = ? ORDER BY id",
                conversation_id,
            )
        return {str(row[0]): bool(row[1]) for row in found}

    # -- turns ----------------------------------------------------------------------------

    @abstractmethod
    async def record_incoming(self, conversation_id: str, event_id: str, turn: Turn) -> bool:
        """Atomically mark `event_id` processed and append `turn` (False, writing nothing,
        when it was processed already); `processed_at` is the turn's time."""

    @abstractmethod
    async def append_turn(self, conversation_id: str, turn: Turn) -> None:
        """Append `turn`; the conversation's `updated_at` moves to its time (never back)."""

    async def unanswered_turns(
        self, since: datetime, before: datetime, *, due_by: datetime | None = None
    ) -> list[tuple[Conversation, Turn]]:
        """Conversations the bot owns whose newest turn is a user message from [since, before)
        (and, with `due_by`, whose answer was due by then, or has no recorded deadline).

        `updated_at` is never older than the newest turn, so it narrows the scan first.
        """
        due = " AND (t.answer_due IS NULL OR t.answer_due <= ?)" if due_by is not None else ""
        async with self._session("find unanswered messages") as session:
            found = await session.fetch(
                f"SELECT {_prefixed('c', CONVERSATION_COLUMNS)}, {_prefixed('t', TURN_COLUMNS)}"
                " FROM conversations c"
                " JOIN turns t ON t.id = (SELECT max(id) FROM turns WHERE conversation_id = c.id)"
                " WHERE c.state IN (?, ?) AND c.updated_at >= ? AND t.role = ?"
                f" AND t.created_at >= ? AND t.created_at < ?{due} ORDER BY t.created_at, t.id",
                *(state.value for state in OWNED_BY_THE_BOT),
                since,
                Role.USER.value,
                since,
                before,
                *(() if due_by is None else (due_by,)),
            )
        return [
            (rows.conversation(row, self.dialect), rows.turn(row, self.dialect, start=11))
            for row in found
        ]

    async def record_reply_started(
        self, conversation_id: str, message_id: str, reply_id: str
    ) -> None:
        """Remember the platform message the answer to `message_id` streams into."""
        async with self._session("remember the streamed reply", writes=True) as session:
            await session.execute(
                "UPDATE turns SET reply_id = ? WHERE id ="
                " (SELECT max(id) FROM turns WHERE conversation_id = ? AND message_id = ?"
                "  AND role = ?)",
                reply_id,
                conversation_id,
                message_id,
                Role.USER.value,
            )

    async def mark_ungrounded(self, conversation_id: str, facts: Sequence[str]) -> None:
        """Keep with the conversation's newest reply the facts no retrieved snippet held."""
        # The newest reply is the one the engine has just recorded: it holds the
        # conversation for the whole turn.
        async with self._session("mark an answer ungrounded", writes=True) as session:
            await session.execute(
                "UPDATE turns SET ungrounded = ? WHERE id ="
                " (SELECT max(id) FROM turns WHERE conversation_id = ? AND role = ?)",
                tuple(facts),
                conversation_id,
                Role.ASSISTANT.value,
            )

    async def ungrounded_answers(
        self, since: datetime, until: datetime, *, limit: int = 50
    ) -> list[UngroundedAnswer]:
        """Replies of [since, until) marked ungrounded whose text is still kept, newest first."""
        async with self._session("read the ungrounded answers") as session:
            found = await session.fetch(
                "SELECT t.conversation_id, c.persona, t.text, t.ungrounded, t.created_at"
                " FROM turns t JOIN conversations c ON c.id = t.conversation_id"
                " WHERE t.ungrounded IS NOT NULL AND t.created_at >= ? AND t.created_at < ?"
                " ORDER BY t.created_at DESC, t.id DESC LIMIT ?",
                since,
                until,
                limit,
            )
        return [
            UngroundedAnswer(
                conversation_id=row[0],
                persona=row[1],
                text=row[2],
                facts=self.dialect.read_names(row[3]),
                at=self.dialect.read_time(row[4]),
            )
            for row in found
        ]

    async def recent_turns(self, conversation_id: str, limit: int) -> list[Turn]:
        """The newest `limit` turns, oldest first (an empty list when `limit` <= 0)."""
        if limit <= 0:
            return []
        async with self._session("read the conversation's messages") as session:
            found = await session.fetch(
                f"SELECT {TURN_COLUMNS} FROM ("
                f"  SELECT id, {TURN_COLUMNS} FROM turns WHERE conversation_id = ?"
                "   ORDER BY id DESC LIMIT ?"
                ") AS newest ORDER BY id",
                conversation_id,
                limit,
            )
        return [rows.turn(row, self.dialect) for row in found]

    # -- hand-offs ------------------------------------------------------------------------

    async def open_handoff(
        self,
        conversation_id: str,
        reason: str,
        detail: str,
        summary: Sequence[str],
        now: datetime,
    ) -> Handoff | None:
        """Move a conversation the bot owns to `waiting_for_human` and record the hand-off.

        Returns None, changing nothing, when people already have it: two triggers (or two
        processes) racing hand the thread over once.
        """
        lines = tuple(summary)
        async with self._transaction("hand the conversation over") as session:
            if not await handoffs.transition(
                session, self.dialect, conversation_id, HAND_OVER, now
            ):
                return None
            handoff_id = await session.fetchval(
                "INSERT INTO handoffs (conversation_id, reason, detail, summary, requested_at)"
                " VALUES (?, ?, ?, ?, ?) RETURNING id",
                conversation_id,
                reason,
                detail,
                lines,
                now,
            )
        return Handoff(int(handoff_id), conversation_id, reason, detail, lines, now)

    async def claim_handoff(self, conversation_id: str, staff_id: str, now: datetime) -> bool:
        """`waiting_for_human` -> `human`; False when the thread was not waiting."""
        async with self._transaction("claim the conversation") as session:
            if not await handoffs.transition(session, self.dialect, conversation_id, CLAIM, now):
                return False
            await handoffs.stamp_open_handoff(session, "claimed", conversation_id, staff_id, now)
        return True

    async def resolve_handoff(
        self,
        conversation_id: str,
        staff_id: str | None,
        now: datetime,
        *,
        idle_since: datetime | None = None,
    ) -> Handoff | None:
        """`waiting_for_human`/`human` -> `resolved`; the closed hand-off, or None if none.

        With `idle_since`, only if nothing happened in the conversation since then (checked
        by the same UPDATE): a staff message that lands just before an automatic hand-back
        keeps the thread with people.
        """
        async with self._transaction("hand the conversation back") as session:
            moved = await handoffs.transition(
                session, self.dialect, conversation_id, HAND_BACK, now, idle_before=idle_since
            )
            if not moved:
                return None
            await handoffs.stamp_open_handoff(session, "resolved", conversation_id, staff_id, now)
            return await handoffs.latest_handoff(session, self.dialect, conversation_id)

    async def current_handoff(self, conversation_id: str) -> Handoff | None:
        """The newest hand-off of the conversation (open or closed), if any."""
        async with self._session("read the hand-off") as session:
            return await handoffs.latest_handoff(session, self.dialect, conversation_id)

    async def unclaimed_handoffs(self, requested_before: datetime) -> list[Handoff]:
        """Waiting hand-offs older than `requested_before` that got no reminder yet."""
        async with self._session("find unclaimed hand-offs") as session:
            found = await session.fetch(
                f"SELECT {_prefixed('h', HANDOFF_COLUMNS)} FROM handoffs h"
                " JOIN conversations c ON c.id = h.conversation_id"
                " WHERE h.resolved_at IS NULL AND h.reminded_at IS NULL"
                " AND h.requested_at < ? AND c.state = ? ORDER BY h.id",
                requested_before,
                ConversationState.WAITING_FOR_HUMAN.value,
            )
        return [rows.handoff(row, self.dialect) for row in found]

    async def mark_reminded(self, handoff_id: int, now: datetime) -> bool:
        """Record the reminder; False if another process already sent it."""
        async with self._session("record the reminder", writes=True) as session:
            changed = await session.execute(
                "UPDATE handoffs SET reminded_at = ? WHERE id = ? AND reminded_at IS NULL",
                now,
                handoff_id,
            )
        return changed == 1

    async def add_feedback(
        self, conversation_id: str, message_id: str, user_id: str, positive: bool, now: datetime
    ) -> None:
        async with self._session("record feedback", writes=True) as session:
            await session.execute(
                "INSERT INTO feedback (conversation_id, message_id, user_id, positive, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                conversation_id,
                message_id,
                user_id,
                bool(positive),
                now,
            )

    # -- usage ----------------------------------------------------------------------------

    async def add_usage(self, conversation_id: str, usage: Usage) -> None:
        """Add `usage` to the conversation's running totals (one atomic upsert)."""
        async with self._session("record token usage", writes=True) as session:
            await session.execute(
                "INSERT INTO usage AS u (conversation_id, prompt_tokens, completion_tokens)"
                " VALUES (?, ?, ?) ON CONFLICT (conversation_id) DO UPDATE SET"
                " prompt_tokens = u.prompt_tokens + excluded.prompt_tokens,"
                " completion_tokens = u.completion_tokens + excluded.completion_tokens",
                conversation_id,
                usage.prompt_tokens,
                usage.completion_tokens,
            )

    async def usage(self, conversation_id: str) -> Usage:
        """The conversation's token totals (zero when nothing was recorded)."""
        async with self._session("read token usage") as session:
            row = await session.fetchrow(
                "SELECT prompt_tokens, completion_tokens FROM usage WHERE conversation_id = ?",
                conversation_id,
            )
        if row is None:
            return Usage()
        return Usage(prompt_tokens=int(row[0]), completion_tokens=int(row[1]))

    # -- limits and privacy (bots/store/privacy_queries.py has the SQL) -------------------

    async def record_usage(self, entry: UsageEntry) -> None:
        async with self._session("record token usage", writes=True) as session:
            await privacy.record_usage(session, entry)

    async def usage_on(
        self, day: date, *, user_id: str | None = None, channel: str | None = None
    ) -> Usage:
        async with self._session("read the day's token usage") as session:
            return await privacy.usage_on(session, day, user_id, channel)

    async def delete_turns_before(self, cutoff: datetime) -> int:
        async with self._transaction("delete old messages") as session:
            return await privacy.delete_turns_before(session, cutoff)

    async def forget_conversation(self, conversation_id: str) -> Forgotten:
        async with self._transaction("forget the conversation") as session:
            return await privacy.forget_conversations(session, self.dialect, [conversation_id])

    async def forget_user(self, user_id: str) -> Forgotten:
        async with self._transaction("forget the user") as session:
            return await privacy.forget_user(session, self.dialect, user_id)

    # -- the operator's report (bots/store/report_queries.py has the SQL) -----------------

    async def record_retrieval(self, conversation_id: str, outcome: RetrievalOutcome) -> None:
        async with self._session("record how well the knowledge matched", writes=True) as session:
            await report.record_retrieval(session, conversation_id, outcome)

    async def record_entry_uses(
        self, conversation_id: str, entry_ids: Sequence[str], at: datetime
    ) -> None:
        if not entry_ids:
            return
        async with self._session("record which entries answered", writes=True) as session:
            await report.record_entry_uses(session, conversation_id, tuple(entry_ids), at)

    async def entry_uses(self, since: datetime, until: datetime) -> list[EntryUse]:
        async with self._session("read how often each entry answered") as session:
            return await report.entry_uses(session, self.dialect, since, until)

    async def activity(
        self, since: datetime, until: datetime, *, unmatched_limit: int = 2000
    ) -> Activity:
        """Read the period in one snapshot, so that every figure comes from one state."""
        async with self._snapshot("read the report's figures") as session:
            return await report.activity(session, self.dialect, since, until, unmatched_limit)

    async def most_asked_entries(self, persona: str, since: datetime, limit: int) -> list[str]:
        async with self._session("read the most asked questions") as session:
            return await report.most_asked_entries(session, persona, since, limit)

    async def save_intake(self, details: IntakeDetails) -> None:
        async with self._session("save the intake form's answers", writes=True) as session:
            await intake.save_intake(
                session,
                details.conversation_id,
                details.user_id,
                details.answers,
                details.submitted_at,
            )

    async def intake_of(self, conversation_id: str) -> tuple[IntakeAnswer, ...]:
        async with self._session("read the intake form's answers") as session:
            return await intake.intake_of(session, conversation_id)

    # -- helpers --------------------------------------------------------------------------

    async def _conversation_where(
        self, session: Session, where: str, *parameters: Any
    ) -> Conversation | None:
        row = await session.fetchrow(
            f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE {where}", *parameters
        )
        return rows.conversation(row, self.dialect) if row is not None else None
