"""The default conversation store: one SQLite file (WAL), its schema and its migrations."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import aiosqlite

from bots.errors import StoreError
from bots.models import Conversation, ConversationState, Role, ThreadKey, Turn, Usage

MEMORY: Final = ":memory:"
BUSY_TIMEOUT_MS: Final = 5_000
# SQLite's auto-checkpoint runs inside whichever commit crosses its threshold (1,000 pages by
# default), and its fsync made ~1% of turns several milliseconds slower. So a second
# connection copies the WAL back in the background every few hundred writes (PASSIVE: it
# never blocks a writer), and the writer's own auto-checkpoint, set much higher, only finishes
# the small remainder so that the WAL can restart from its beginning under sustained load.
CHECKPOINT_EVERY_WRITES: Final = 500
WRITER_AUTOCHECKPOINT_PAGES: Final = 4_000
WAL_SIZE_LIMIT_BYTES: Final = 64 * 1024 * 1024

# Each migration is a list of single SQL statements, applied in order in one transaction
# that also sets `PRAGMA user_version` to the migration's number (1-based). Never edit a
# released migration: append a new one. (The pattern follows simonw/llm's migrations.)
MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    # 1: the initial schema.
    (
        """
        CREATE TABLE conversations (
            id          TEXT PRIMARY KEY,
            platform    TEXT NOT NULL,
            workspace   TEXT NOT NULL,
            channel     TEXT NOT NULL,
            thread      TEXT NOT NULL,
            persona     TEXT NOT NULL,
            state       TEXT NOT NULL,
            created_at  TEXT NOT NULL,
            updated_at  TEXT NOT NULL
        )
        """,
        """
        CREATE INDEX conversations_by_channel
            ON conversations (platform, workspace, channel, updated_at)
        """,
        """
        CREATE TABLE turns (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            role            TEXT NOT NULL,
            text            TEXT NOT NULL,
            author_id       TEXT NOT NULL,
            message_id      TEXT NOT NULL,
            created_at      TEXT NOT NULL,
            token_count     INTEGER NOT NULL,
            cited_ids       TEXT NOT NULL DEFAULT '[]'
        )
        """,
        "CREATE INDEX turns_by_conversation ON turns (conversation_id, id)",
        # Every recorded turn is activity: keep `updated_at` at the newest turn's time
        # without spending a second statement (and a transaction) per append.
        """
        CREATE TRIGGER turns_touch_conversation AFTER INSERT ON turns
        BEGIN
            UPDATE conversations SET updated_at = NEW.created_at
             WHERE id = NEW.conversation_id AND updated_at < NEW.created_at;
        END
        """,
        """
        CREATE TABLE processed_events (
            event_id        TEXT PRIMARY KEY,
            conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            processed_at    TEXT NOT NULL
        ) WITHOUT ROWID
        """,
        # `record_incoming` in one statement, so in one transaction and one round trip:
        # inserting a row into this view runs the trigger below, which marks the event
        # processed and appends the turn. A repeated event id violates the primary key of
        # processed_events, which aborts the whole statement: nothing at all is written.
        """
        CREATE VIEW incoming_messages (
            event_id, conversation_id, role, text, author_id, message_id,
            created_at, token_count, cited_ids
        ) AS SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0
        """,
        """
        CREATE TRIGGER incoming_messages_insert INSTEAD OF INSERT ON incoming_messages
        BEGIN
            INSERT INTO processed_events (event_id, conversation_id, processed_at)
                 VALUES (NEW.event_id, NEW.conversation_id, NEW.created_at);
            INSERT INTO turns (
                conversation_id, role, text, author_id, message_id,
                created_at, token_count, cited_ids
            ) VALUES (
                NEW.conversation_id, NEW.role, NEW.text, NEW.author_id, NEW.message_id,
                NEW.created_at, NEW.token_count, NEW.cited_ids
            );
        END
        """,
        """
        CREATE TABLE usage (
            conversation_id   TEXT PRIMARY KEY
                              REFERENCES conversations (id) ON DELETE CASCADE,
            prompt_tokens     INTEGER NOT NULL DEFAULT 0,
            completion_tokens INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID
        """,
    ),
)

_CONVERSATION_COLUMNS: Final = (
    "id, platform, workspace, channel, thread, persona, state, created_at, updated_at"
)
_TURN_COLUMNS: Final = "role, text, author_id, message_id, created_at, token_count, cited_ids"
_INSERT_INCOMING: Final = (
    f"INSERT INTO incoming_messages (event_id, conversation_id, {_TURN_COLUMNS})"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_TURN: Final = (
    f"INSERT INTO turns (conversation_id, {_TURN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


class SQLiteStore:
    """The `Store` protocol on one SQLite database: a file, or ":memory:" for throwaway runs.

    One aiosqlite connection (its own thread, so the event loop never blocks), WAL journal,
    `synchronous=NORMAL` (a commit survives a crash of the process; a power cut may lose
    the last commits, never corrupt the file), foreign keys on, a busy timeout for other
    processes sharing the file. An `asyncio.Lock` gives one coroutine at a time the
    connection, so a transaction can never interleave with another coroutine's statements.
    """

    def __init__(self, path: Path | str) -> None:
        self.path: Final[Path | str] = path if str(path) == MEMORY else Path(path)
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
                self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000
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
            await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
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

    @staticmethod
    async def _checkpoint(connection: aiosqlite.Connection) -> None:
        # PASSIVE never blocks writers; what it cannot copy now, the next round copies.
        with suppress(sqlite3.Error, ValueError):
            await connection.execute("PRAGMA wal_checkpoint(PASSIVE)")

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
                f"INSERT INTO conversations ({_CONVERSATION_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
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
                await db.execute(_INSERT_INCOMING, values)
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
            await db.execute(_INSERT_TURN, values)
            self._wrote()

    async def recent_turns(self, conversation_id: str, limit: int) -> list[Turn]:
        """The newest `limit` turns, oldest first (an empty list when `limit` <= 0)."""
        if limit <= 0:
            return []
        async with self._connection("read the conversation's messages") as db:
            rows = await db.execute_fetchall(
                f"SELECT {_TURN_COLUMNS} FROM ("
                f"  SELECT id, {_TURN_COLUMNS} FROM turns WHERE conversation_id = ?"
                "   ORDER BY id DESC LIMIT ?"
                ") ORDER BY id",
                (conversation_id, limit),
            )
        return [_turn_from_row(row) for row in rows]

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


# -- helpers --------------------------------------------------------------------------------


async def _user_version(db: aiosqlite.Connection) -> int:
    rows = list(await db.execute_fetchall("PRAGMA user_version"))
    return int(rows[0][0])


async def _select_conversation(
    db: aiosqlite.Connection, where: str, parameters: Sequence[Any]
) -> Conversation | None:
    rows = list(
        await db.execute_fetchall(
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations {where}", parameters
        )
    )
    return _conversation_from_row(rows[0]) if rows else None


def _conversation_from_row(row: Sequence[Any]) -> Conversation:
    cid, platform, workspace, channel, thread, persona, state, created, updated = row
    return Conversation(
        id=cid,
        key=ThreadKey(platform, workspace, channel, thread),
        persona=persona,
        state=ConversationState(state),
        created_at=_from_text(created),
        updated_at=_from_text(updated),
    )


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
