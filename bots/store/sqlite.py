"""The default conversation store: one SQLite file (WAL), its schema and its migrations."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final

import aiosqlite

from bots.errors import StoreError
from bots.models import (
    Conversation,
    ConversationState,
    Forgotten,
    Handoff,
    Role,
    ThreadKey,
    Turn,
    Usage,
    UsageEntry,
)
from bots.store import sqlite_privacy as privacy
from bots.store import sqlite_report as report
from bots.store.activity import Activity, RetrievalOutcome
from bots.store.sqlite_schema import (
    CONVERSATION_COLUMNS,
    HANDOFF_COLUMNS,
    INSERT_INCOMING,
    INSERT_TURN,
    MIGRATIONS,
    TURN_COLUMNS,
)

MEMORY: Final = ":memory:"
BUSY_TIMEOUT_MS: Final = 5_000
# SQLite's auto-checkpoint runs inside whichever commit crosses its threshold (1,000 pages by
# default), and its fsync made ~1% of turns several milliseconds slower. So a second
# connection copies the WAL back in the background every few hundred writes (PASSIVE: it
# never blocks a writer), and the writer's own auto-checkpoint, set much higher, only finishes
# the small remainder so that the WAL can restart from its beginning under sustained load.
CHECKPOINT_EVERY_WRITES: Final = 300
WRITER_AUTOCHECKPOINT_PAGES: Final = 4_000
WAL_SIZE_LIMIT_BYTES: Final = 64 * 1024 * 1024


class SQLiteStore:
    """The `Store` protocol on one SQLite database: a file, or ":memory:" for throwaway runs.

    One aiosqlite connection (its own thread, so the event loop never blocks), WAL journal,
    `synchronous=NORMAL` (a commit survives a crash of the process; a power cut may lose
    the last commits, never corrupt the file), foreign keys on, a busy timeout for other
    processes sharing the file. An `asyncio.Lock` gives one coroutine at a time the
    connection, so a transaction can never interleave with another coroutine's statements.
    """

    def __init__(self, path: Path | str, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
        """`busy_timeout_ms`: how long a write waits for another process's lock."""
        self.path: Final[Path | str] = path if str(path) == MEMORY else Path(path)
        self._busy_timeout_ms = busy_timeout_ms
        self._db: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._checkpointer: aiosqlite.Connection | None = None
        self._checkpoint_task: asyncio.Task[None] | None = None
        self._writes_since_checkpoint = 0

    # -- lifecycle ----------------------------------------------------------------------

    async def open(self) -> None:
        """Connect, and bring the schema up to date (refusing a schema newer than this code)."""
        async with self._lock:
            if self._db is None:
                self._db = await self._connect()
                if isinstance(self.path, Path):
                    self._checkpointer = await self._connect_checkpointer(self.path)

    async def _connect_checkpointer(self, path: Path) -> aiosqlite.Connection | None:
        """The background checkpoint's own connection; without it the writer checkpoints."""
        try:
            return await aiosqlite.connect(path, isolation_level=None, timeout=0.1)
        except sqlite3.Error:
            return None

    async def _connect(self) -> aiosqlite.Connection:
        if isinstance(self.path, Path):
            try:
                await asyncio.to_thread(self.path.parent.mkdir, parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"cannot create the folder for the database {self.path}: {exc}"
                ) from exc
        try:
            db = await aiosqlite.connect(
                self.path, isolation_level=None, timeout=self._busy_timeout_ms / 1000
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the database {self.path}: {exc}") from exc
        try:
            await self._configure(db)
            await self._migrate(db)
        except BaseException:
            await db.close()
            raise
        return db

    async def close(self) -> None:
        """Wait for calls in progress, then close the connection. Safe to call twice."""
        if self._checkpoint_task is not None:
            await asyncio.gather(self._checkpoint_task, return_exceptions=True)
        async with self._lock:
            db, self._db = self._db, None
            checkpointer, self._checkpointer = self._checkpointer, None
            if checkpointer is not None:
                await checkpointer.close()
            if db is not None:
                await db.close()  # the last connection to close checkpoints the WAL fully

    async def schema_version(self) -> int:
        """The schema version the open database is at (the number of migrations applied)."""
        async with self._connection("read the schema version") as db:
            return await _user_version(db)

    async def _configure(self, db: aiosqlite.Connection) -> None:
        try:
            await db.execute("PRAGMA journal_mode = WAL")
            await db.execute("PRAGMA synchronous = NORMAL")
            await db.execute(f"PRAGMA wal_autocheckpoint = {WRITER_AUTOCHECKPOINT_PAGES}")
            await db.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT_BYTES}")
            await db.execute("PRAGMA foreign_keys = ON")
            await db.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{self.path} cannot be used as the bot's database "
                f"(is it a SQLite file, and is it readable and writable?): {exc}"
            ) from exc

    async def _migrate(self, db: aiosqlite.Connection) -> None:
        """Apply the migrations this database lacks, each in its own transaction."""
        try:
            current = await _user_version(db)
            self._refuse_newer(current)
            for number in range(current + 1, len(MIGRATIONS) + 1):
                await db.execute("BEGIN IMMEDIATE")
                try:
                    # Read again inside the write lock: another process may have migrated.
                    current = await _user_version(db)
                    self._refuse_newer(current)
                    if current < number:
                        for statement in MIGRATIONS[number - 1]:
                            await db.execute(statement)
                        await db.execute(f"PRAGMA user_version = {number}")
                    await db.execute("COMMIT")
                except BaseException:
                    with suppress(sqlite3.Error):
                        await db.execute("ROLLBACK")
                    raise
        except sqlite3.Error as exc:
            raise StoreError(f"cannot bring the database {self.path} up to date: {exc}") from exc

    def _refuse_newer(self, version: int) -> None:
        known = len(MIGRATIONS)
        if version > known:
            raise StoreError(
                f"The database {self.path} was written by a newer version of the bot "
                f"(schema version {version}; this version knows up to {known}). "
                "Upgrade the bot, or point DATABASE_URL at another database file."
            )

    # -- connection discipline ----------------------------------------------------------

    @asynccontextmanager
    async def _connection(self, action: str) -> AsyncIterator[aiosqlite.Connection]:
        """The connection, held by this coroutine alone; SQLite errors become StoreError.

        Every call goes through here, so a multi-statement transaction (BEGIN IMMEDIATE
        ... COMMIT, as `_migrate` does) written inside it cannot interleave with another
        coroutine's statements. Cancellation is safe: statements run in order on the
        connection's thread, so a ROLLBACK issued on the way out runs after any statement
        the cancelled await had queued.
        """
        async with self._lock:
            if self._db is None:
                raise StoreError("the conversation store is not open (call open() first)")
            if (
                self._background_checkpoint_done()
                or self._writes_since_checkpoint >= CHECKPOINT_EVERY_WRITES
            ):
                await self._catch_up(self._db)
            try:
                yield self._db
            except sqlite3.Error as exc:
                raise StoreError(f"could not {action}: {exc}") from exc

    def _wrote(self) -> None:
        """Count a write; every so often, start a checkpoint that no turn waits for."""
        self._writes_since_checkpoint += 1
        idle = self._checkpoint_task is None or self._checkpoint_task.done()
        if self._checkpointer is None or not idle:
            return
        if self._writes_since_checkpoint >= CHECKPOINT_EVERY_WRITES:
            self._writes_since_checkpoint = 0
            self._checkpoint_task = asyncio.create_task(self._checkpoint(self._checkpointer))

    def _background_checkpoint_done(self) -> bool:
        return self._checkpoint_task is not None and self._checkpoint_task.done()

    async def _catch_up(self, db: aiosqlite.Connection) -> None:
        """Finish a background checkpoint on the writer's connection, with no write in
        between, so the WAL is copied back whole and the next write restarts it from its
        beginning. Run once after each background round: that round only copies the frames
        that were there when it started, and writes go on meanwhile, so on its own the WAL
        rarely restarts and grows to the writer's threshold (measured: past it, under load).
        Also run when the next round is due and this one has not finished (a starved CPU).
        The copy is the few frames written during the round: one short pause per 300 writes."""
        if self._checkpoint_task is not None:
            await asyncio.gather(self._checkpoint_task, return_exceptions=True)
            self._checkpoint_task = None
        self._writes_since_checkpoint = 0
        await self._checkpoint(db)

    @staticmethod
    async def _checkpoint(connection: aiosqlite.Connection) -> None:
        # PASSIVE never blocks writers; what it cannot copy now, the next round copies.
        # The cursor is closed at once: an unfinished statement holds a read snapshot on its
        # connection, and while one does the WAL can never restart from its beginning (it
        # grew without bound whenever garbage collection came late to an unclosed cursor).
        with suppress(sqlite3.Error, ValueError):
            async with connection.execute("PRAGMA wal_checkpoint(PASSIVE)"):
                pass

    # -- conversations ------------------------------------------------------------------

    async def ensure_conversation(
        self, key: ThreadKey, persona: str, now: datetime
    ) -> Conversation:
        """The conversation for `key`; created (state `bot`, `persona`) only if it is new.

        An existing conversation keeps its persona and state. Concurrent calls for one new
        key create it once and all return the same row.
        """
        conversation_id = key.as_id()
        async with self._connection("create the conversation") as db:
            found = await _select_conversation(db, "WHERE id = ?", (conversation_id,))
            if found is not None:
                return found
            stamp = _to_text(now)
            await db.execute(
                f"INSERT INTO conversations ({CONVERSATION_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, NULL) ON CONFLICT (id) DO NOTHING",
                (
                    conversation_id,
                    key.platform,
                    key.workspace,
                    key.channel,
                    key.thread,
                    persona,
                    ConversationState.BOT.value,
                    stamp,
                    stamp,
                ),
            )
            created = await _select_conversation(db, "WHERE id = ?", (conversation_id,))
        if created is None:  # pragma: no cover - the row was just written
            raise StoreError(f"conversation {conversation_id} vanished while being created")
        return created

    @asynccontextmanager
    async def serialised(self, conversation_id: str) -> AsyncIterator[None]:
        """Nothing to hold: one process per SQLite file, and the engine orders its own turns."""
        yield

    async def get_conversation(self, key: ThreadKey) -> Conversation | None:
        async with self._connection("read the conversation") as db:
            return await _select_conversation(db, "WHERE id = ?", (key.as_id(),))

    async def latest_conversation(
        self, platform: str, workspace: str, channel: str
    ) -> Conversation | None:
        """The most recently updated conversation in one channel (the console's --resume)."""
        async with self._connection("find the latest conversation") as db:
            return await _select_conversation(
                db,
                "WHERE platform = ? AND workspace = ? AND channel = ?"
                " ORDER BY updated_at DESC, rowid DESC LIMIT 1",
                (platform, workspace, channel),
            )

    async def recent_conversations(self, limit: int) -> list[Conversation]:
        """The `limit` most recently updated conversations, newest first (the studio's list)."""
        async with self._connection("list recent conversations") as db:
            rows = await db.execute_fetchall(
                f"SELECT {CONVERSATION_COLUMNS} FROM conversations"
                " ORDER BY updated_at DESC, rowid DESC LIMIT ?",
                (limit,),
            )
        return [_conversation_from_row(row) for row in rows]

    async def set_state(
        self, conversation_id: str, state: ConversationState, now: datetime
    ) -> None:
        """Set the hand-off state; `updated_at` moves to `now` (never backwards)."""
        async with self._connection("change the conversation's state") as db:
            cursor = await db.execute(
                "UPDATE conversations SET state = ?, updated_at = max(updated_at, ?) WHERE id = ?",
                (ConversationState(state).value, _to_text(now), conversation_id),
            )
            if cursor.rowcount == 0:
                raise StoreError(f"there is no conversation {conversation_id!r}")

    # -- turns ----------------------------------------------------------------------------

    async def record_incoming(self, conversation_id: str, event_id: str, turn: Turn) -> bool:
        """Atomically mark `event_id` processed and append `turn`.

        Returns False, writing nothing, when `event_id` was already processed. One SQL
        statement (an insert into the `incoming_messages` view, see the schema) does it
        all, so it is atomic without an explicit transaction. The conversation's
        `updated_at` moves to the turn's time; `processed_at` is the turn's time too (the
        store reads no clock of its own).
        """
        values = (event_id, *_turn_values(conversation_id, turn))
        async with self._connection("record the incoming message") as db:
            try:
                await db.execute(INSERT_INCOMING, values)
            except sqlite3.IntegrityError as exc:
                if exc.sqlite_errorname == "SQLITE_CONSTRAINT_PRIMARYKEY":
                    return False  # processed_events already holds event_id
                raise
            self._wrote()
        return True

    async def append_turn(self, conversation_id: str, turn: Turn) -> None:
        """Append `turn` (e.g. the bot's reply); `updated_at` moves to the turn's time."""
        values = _turn_values(conversation_id, turn)
        async with self._connection("record the message") as db:
            await db.execute(INSERT_TURN, values)
            self._wrote()

    async def unanswered_turns(
        self, since: datetime, before: datetime
    ) -> list[tuple[Conversation, Turn]]:
        """Conversations the bot owns whose newest turn is a user message from [since, before).

        `updated_at` is never older than the newest turn, so it narrows the scan first.
        """
        conversation_columns = ", ".join("c." + c.strip() for c in CONVERSATION_COLUMNS.split(","))
        turn_columns = ", ".join("t." + c.strip() for c in TURN_COLUMNS.split(","))
        async with self._connection("find unanswered messages") as db:
            rows = await db.execute_fetchall(
                f"SELECT {conversation_columns}, {turn_columns} FROM conversations c"
                " JOIN turns t ON t.id ="
                "  (SELECT max(id) FROM turns WHERE conversation_id = c.id)"
                " WHERE c.state IN (?, ?) AND c.updated_at >= ? AND t.role = ?"
                " AND t.created_at >= ? AND t.created_at < ? ORDER BY t.created_at, t.id",
                (
                    ConversationState.BOT.value,
                    ConversationState.RESOLVED.value,
                    _to_text(since),
                    Role.USER.value,
                    _to_text(since),
                    _to_text(before),
                ),
            )
        return [(_conversation_from_row(row[:11]), _turn_from_row(row[11:])) for row in rows]

    async def recent_turns(self, conversation_id: str, limit: int) -> list[Turn]:
        """The newest `limit` turns, oldest first (an empty list when `limit` <= 0)."""
        if limit <= 0:
            return []
        async with self._connection("read the conversation's messages") as db:
            rows = await db.execute_fetchall(
                f"SELECT {TURN_COLUMNS} FROM ("
                f"  SELECT id, {TURN_COLUMNS} FROM turns WHERE conversation_id = ?"
                "   ORDER BY id DESC LIMIT ?"
                ") ORDER BY id",
                (conversation_id, limit),
            )
        return [_turn_from_row(row) for row in rows]

    # -- hand-offs ------------------------------------------------------------------------

    @asynccontextmanager
    async def _transaction(self, action: str) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE ... COMMIT: the checks and writes inside happen as one step, even
        against other processes sharing the file."""
        async with self._connection(action) as db:
            await db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                with suppress(sqlite3.Error):
                    await db.execute("ROLLBACK")
                raise
            await db.execute("COMMIT")
            self._wrote()

    async def set_counters(
        self, conversation_id: str, *, failed_turns: int, offer_reason: str | None
    ) -> None:
        """Remember unanswered turns in a row, and whether a person was just offered."""
        async with self._connection("update the conversation") as db:
            await db.execute(
                "UPDATE conversations SET failed_turns = ?, offer_reason = ? WHERE id = ?",
                (failed_turns, offer_reason, conversation_id),
            )
            self._wrote()

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
        stamp = _to_text(now)
        async with self._transaction("hand the conversation over") as db:
            moved = await _transition(
                db,
                conversation_id,
                ConversationState.WAITING_FOR_HUMAN,
                (ConversationState.BOT, ConversationState.RESOLVED),
                stamp,
                reset_counters=True,
            )
            if not moved:
                return None
            cursor = await db.execute(
                "INSERT INTO handoffs (conversation_id, reason, detail, summary, requested_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (conversation_id, reason, detail, json.dumps(list(summary)), stamp),
            )
            handoff_id = cursor.lastrowid
        assert handoff_id is not None
        return Handoff(handoff_id, conversation_id, reason, detail, tuple(summary), now)

    async def claim_handoff(self, conversation_id: str, staff_id: str, now: datetime) -> bool:
        """`waiting_for_human` -> `human`; False when the thread was not waiting."""
        stamp = _to_text(now)
        async with self._transaction("claim the conversation") as db:
            waiting = (ConversationState.WAITING_FOR_HUMAN,)
            if not await _transition(db, conversation_id, ConversationState.HUMAN, waiting, stamp):
                return False
            await db.execute(
                "UPDATE handoffs SET claimed_by = ?, claimed_at = ?"
                " WHERE conversation_id = ? AND resolved_at IS NULL",
                (staff_id, stamp, conversation_id),
            )
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

        With `idle_since`, only if nothing happened in the conversation since then: a staff
        message that lands just before an automatic hand-back keeps the thread with people.
        """
        stamp = _to_text(now)
        async with self._transaction("hand the conversation back") as db:
            moved = await _transition(
                db,
                conversation_id,
                ConversationState.RESOLVED,
                (ConversationState.WAITING_FOR_HUMAN, ConversationState.HUMAN),
                stamp,
                idle_before=_to_text(idle_since) if idle_since is not None else None,
            )
            if not moved:
                return None
            await db.execute(
                "UPDATE handoffs SET resolved_by = ?, resolved_at = ?"
                " WHERE conversation_id = ? AND resolved_at IS NULL",
                (staff_id, stamp, conversation_id),
            )
            return await _latest_handoff(db, conversation_id)

    async def current_handoff(self, conversation_id: str) -> Handoff | None:
        """The newest hand-off of the conversation (open or closed), if any."""
        async with self._connection("read the hand-off") as db:
            return await _latest_handoff(db, conversation_id)

    async def unclaimed_handoffs(self, requested_before: datetime) -> list[Handoff]:
        """Waiting hand-offs older than `requested_before` that got no reminder yet."""
        async with self._connection("find unclaimed hand-offs") as db:
            rows = await db.execute_fetchall(
                f"SELECT {', '.join('h.' + c.strip() for c in HANDOFF_COLUMNS.split(','))}"
                " FROM handoffs h JOIN conversations c ON c.id = h.conversation_id"
                " WHERE h.resolved_at IS NULL AND h.reminded_at IS NULL"
                " AND h.requested_at < ? AND c.state = ? ORDER BY h.id",
                (_to_text(requested_before), ConversationState.WAITING_FOR_HUMAN.value),
            )
        return [_handoff_from_row(row) for row in rows]

    async def mark_reminded(self, handoff_id: int, now: datetime) -> bool:
        """Record the reminder; False if another process already sent it."""
        async with self._connection("record the reminder") as db:
            cursor = await db.execute(
                "UPDATE handoffs SET reminded_at = ? WHERE id = ? AND reminded_at IS NULL",
                (_to_text(now), handoff_id),
            )
            self._wrote()
            return cursor.rowcount == 1

    async def quiet_conversations(
        self, state: ConversationState, updated_before: datetime
    ) -> list[Conversation]:
        """Conversations in `state` with no activity since `updated_before`."""
        async with self._connection("find quiet conversations") as db:
            rows = await db.execute_fetchall(
                f"SELECT {CONVERSATION_COLUMNS} FROM conversations"
                " WHERE state = ? AND updated_at < ? ORDER BY updated_at",
                (ConversationState(state).value, _to_text(updated_before)),
            )
        return [_conversation_from_row(row) for row in rows]

    async def get_conversation_by_id(self, conversation_id: str) -> Conversation | None:
        async with self._connection("read the conversation") as db:
            return await _select_conversation(db, "WHERE id = ?", (conversation_id,))

    async def add_feedback(
        self, conversation_id: str, message_id: str, user_id: str, positive: bool, now: datetime
    ) -> None:
        async with self._connection("record feedback") as db:
            await db.execute(
                "INSERT INTO feedback (conversation_id, message_id, user_id, positive, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (conversation_id, message_id, user_id, int(positive), _to_text(now)),
            )
            self._wrote()

    async def feedback_of(self, conversation_id: str) -> dict[str, bool]:
        """message id -> whether its latest feedback was positive (the studio's transcript)."""
        async with self._connection("read feedback") as db:
            rows = await db.execute_fetchall(
                "SELECT message_id, positive FROM feedback WHERE conversation_id = ? ORDER BY id",
                (conversation_id,),
            )
        return {str(row[0]): bool(row[1]) for row in rows}

    # -- usage ----------------------------------------------------------------------------

    async def add_usage(self, conversation_id: str, usage: Usage) -> None:
        """Add `usage` to the conversation's running totals."""
        async with self._connection("record token usage") as db:
            await db.execute(
                "INSERT INTO usage (conversation_id, prompt_tokens, completion_tokens)"
                " VALUES (?, ?, ?) ON CONFLICT (conversation_id) DO UPDATE SET"
                " prompt_tokens = prompt_tokens + excluded.prompt_tokens,"
                " completion_tokens = completion_tokens + excluded.completion_tokens",
                (conversation_id, usage.prompt_tokens, usage.completion_tokens),
            )
            self._wrote()

    async def usage(self, conversation_id: str) -> Usage:
        """The conversation's token totals (zero when nothing was recorded)."""
        async with self._connection("read token usage") as db:
            rows = list(
                await db.execute_fetchall(
                    "SELECT prompt_tokens, completion_tokens FROM usage WHERE conversation_id = ?",
                    (conversation_id,),
                )
            )
        if not rows:
            return Usage()
        return Usage(prompt_tokens=rows[0][0], completion_tokens=rows[0][1])

    # -- limits and privacy (bots/store/sqlite_privacy.py has the SQL) ----------------------

    async def record_usage(self, entry: UsageEntry) -> None:
        async with self._connection("record token usage") as db:
            await privacy.record_usage(db, entry)
            self._wrote()

    async def usage_on(
        self, day: date, *, user_id: str | None = None, channel: str | None = None
    ) -> Usage:
        async with self._connection("read the day's token usage") as db:
            return await privacy.usage_on(db, day, user_id, channel)

    async def delete_turns_before(self, cutoff: datetime) -> int:
        async with self._transaction("delete old messages") as db:
            return await privacy.delete_turns_before(db, cutoff)

    async def forget_conversation(self, conversation_id: str) -> Forgotten:
        async with self._transaction("forget the conversation") as db:
            return await privacy.forget_conversations(db, [conversation_id])

    async def forget_user(self, user_id: str) -> Forgotten:
        async with self._transaction("forget the user") as db:
            return await privacy.forget_user(db, user_id)

    # -- the operator's report (bots/store/sqlite_report.py has the SQL) ------------------

    async def record_retrieval(self, conversation_id: str, outcome: RetrievalOutcome) -> None:
        async with self._connection("record how well the knowledge matched") as db:
            await report.record_retrieval(db, conversation_id, outcome)
            self._wrote()

    async def activity(
        self, since: datetime, until: datetime, *, unmatched_limit: int = 2000
    ) -> Activity:
        async with self._connection("read the report's figures") as db:
            return await report.activity(db, since, until, unmatched_limit)


# -- helpers --------------------------------------------------------------------------------


async def _user_version(db: aiosqlite.Connection) -> int:
    rows = list(await db.execute_fetchall("PRAGMA user_version"))
    return int(rows[0][0])


async def _select_conversation(
    db: aiosqlite.Connection, where: str, parameters: Sequence[Any]
) -> Conversation | None:
    rows = list(
        await db.execute_fetchall(
            f"SELECT {CONVERSATION_COLUMNS} FROM conversations {where}", parameters
        )
    )
    return _conversation_from_row(rows[0]) if rows else None


def _conversation_from_row(row: Sequence[Any]) -> Conversation:
    cid, platform, workspace, channel, thread, persona, state, created, updated = row[:9]
    return Conversation(
        id=cid,
        key=ThreadKey(platform, workspace, channel, thread),
        persona=persona,
        state=ConversationState(state),
        created_at=_from_text(created),
        updated_at=_from_text(updated),
        failed_turns=row[9],
        offer_reason=row[10],
    )


async def _transition(
    db: aiosqlite.Connection,
    conversation_id: str,
    to: ConversationState,
    from_states: Sequence[ConversationState],
    stamp: str,
    *,
    reset_counters: bool = False,
    idle_before: str | None = None,
) -> bool:
    """Move the conversation to `to` if it is in one of `from_states` (and, with
    `idle_before`, quiet since then); one conditional UPDATE, so racing callers move it once."""
    counters = ", failed_turns = 0, offer_reason = NULL" if reset_counters else ""
    marks = ", ".join("?" for _ in from_states)
    idle = " AND updated_at < ?" if idle_before is not None else ""
    cursor = await db.execute(
        f"UPDATE conversations SET state = ?, updated_at = max(updated_at, ?){counters}"
        f" WHERE id = ? AND state IN ({marks}){idle}",
        (
            to.value,
            stamp,
            conversation_id,
            *(state.value for state in from_states),
            *((idle_before,) if idle_before is not None else ()),
        ),
    )
    return cursor.rowcount == 1


async def _latest_handoff(db: aiosqlite.Connection, conversation_id: str) -> Handoff | None:
    rows = list(
        await db.execute_fetchall(
            f"SELECT {HANDOFF_COLUMNS} FROM handoffs WHERE conversation_id = ?"
            " ORDER BY id DESC LIMIT 1",
            (conversation_id,),
        )
    )
    return _handoff_from_row(rows[0]) if rows else None


def _handoff_from_row(row: Sequence[Any]) -> Handoff:
    hid, cid, reason, detail, summary, requested = row[:6]
    claimed_by, claimed_at, resolved_by, resolved_at, reminded_at = row[6:]
    return Handoff(
        id=hid,
        conversation_id=cid,
        reason=reason,
        detail=detail,
        summary=tuple(json.loads(summary)),
        requested_at=_from_text(requested),
        claimed_by=claimed_by,
        claimed_at=_maybe_time(claimed_at),
        resolved_by=resolved_by,
        resolved_at=_maybe_time(resolved_at),
        reminded_at=_maybe_time(reminded_at),
    )


def _maybe_time(text: str | None) -> datetime | None:
    return None if text is None else _from_text(text)


def _turn_values(conversation_id: str, turn: Turn) -> tuple[Any, ...]:
    return (
        conversation_id,
        Role(turn.role).value,
        turn.text,
        turn.author_id,
        turn.message_id,
        _to_text(turn.created_at),
        turn.token_count,
        json.dumps(list(turn.cited_ids)),
    )


def _turn_from_row(row: Iterable[Any]) -> Turn:
    role, text, author_id, message_id, created, token_count, cited = row
    return Turn(
        role=Role(role),
        text=text,
        author_id=author_id,
        message_id=message_id,
        created_at=_from_text(created),
        token_count=token_count,
        cited_ids=() if cited == "[]" else tuple(json.loads(cited)),
    )


def _to_text(moment: datetime) -> str:
    """Fixed-width ISO-8601 in UTC, so text order is time order (the SQL compares text)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"the store needs timezone-aware datetimes, got naive {moment!r}")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _from_text(text: str) -> datetime:
    return datetime.fromisoformat(text)
