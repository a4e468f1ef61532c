"""The default conversation store: one SQLite file (WAL), its connection and its own ways."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any, ClassVar, Final, Literal

import aiosqlite

from bots.errors import StoreError
from bots.models import Turn
from bots.store.dialect import SQLITE, Dialect, Row, sqlite_values
from bots.store.queries import SQLStore
from bots.store.rows import turn_values
from bots.store.schema import MIGRATIONS, TURN_COLUMNS, refuse_newer, statements

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


Synchronous = Literal["OFF", "NORMAL", "FULL"]


class SQLiteStore(SQLStore):
    """The `Store` protocol on one SQLite database: a file, or ":memory:" for throwaway runs.

    One aiosqlite connection (its own thread, so the event loop never blocks), WAL journal,
    `synchronous=NORMAL` (a commit survives a crash of the process; a power cut may lose
    the last commits, never corrupt the file), foreign keys on, a busy timeout for other
    processes sharing the file. An `asyncio.Lock` gives one coroutine at a time the
    connection, so a transaction can never interleave with another coroutine's statements.
    The queries are the shared ones (bots/store/queries.py).
    """

    dialect: ClassVar[Dialect] = SQLITE

    @property
    def shared(self) -> bool:
        return False  # one bot process per file: the engine orders its own turns

    def __init__(
        self,
        path: Path | str,
        *,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
        synchronous: Synchronous = "NORMAL",
    ) -> None:
        """`busy_timeout_ms`: how long a write waits for another process's lock.
        `synchronous`: SQLite's setting; only `benchmarks/sqlite_synchronous.py` changes it
        (what each costs and risks: docs/benchmarks.md)."""
        self.path: Final[Path | str] = path if str(path) == MEMORY else Path(path)
        self._busy_timeout_ms = busy_timeout_ms
        self._synchronous = synchronous
        self._held: _Session | None = None  # the one connection, once open
        self._lock = asyncio.Lock()
        self._checkpointer: aiosqlite.Connection | None = None
        self._checkpoint_task: asyncio.Task[None] | None = None
        self._writes_since_checkpoint = 0

    # -- lifecycle ----------------------------------------------------------------------

    async def open(self) -> None:
        """Connect, and bring the schema up to date (refusing a schema newer than this code)."""
        async with self._lock:
            if self._held is None:
                self._held = _Session(await self._connect())
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
            held, self._held = self._held, None
            checkpointer, self._checkpointer = self._checkpointer, None
            if checkpointer is not None:
                await checkpointer.close()
            if held is not None:
                await held.db.close()  # the last connection to close checkpoints the WAL fully

    async def schema_version(self) -> int:
        """The schema version the open database is at (the number of migrations applied)."""
        async with self._session("read the schema version") as session:
            return await _user_version(session.db)

    async def _configure(self, db: aiosqlite.Connection) -> None:
        try:
            await db.execute("PRAGMA journal_mode = WAL")
            await db.execute(f"PRAGMA synchronous = {self._synchronous}")
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
                        for statement in statements(MIGRATIONS[number - 1], SQLITE):
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
        refuse_newer(version, f"The database {self.path}", "another database file")

    # -- connection discipline ----------------------------------------------------------

    @asynccontextmanager
    async def _session(self, action: str, *, writes: bool = False) -> AsyncIterator[_Session]:
        """The connection, held by this coroutine alone; SQLite errors become StoreError.

        Every call goes through here, so a multi-statement transaction (BEGIN IMMEDIATE
        ... COMMIT, as `_transaction` does) written inside it cannot interleave with another
        coroutine's statements. Cancellation is safe: statements run in order on the
        connection's thread, so a ROLLBACK issued on the way out runs after any statement
        the cancelled await had queued. (One context manager, not two nested: this runs
        for every call of every turn.)
        """
        async with self._lock:
            session = self._held
            if session is None:
                raise StoreError("the conversation store is not open (call open() first)")
            if (
                self._background_checkpoint_done()
                or self._writes_since_checkpoint >= CHECKPOINT_EVERY_WRITES
            ):
                await self._catch_up(session.db)
            try:
                yield session
            except sqlite3.Error as exc:
                raise StoreError(f"could not {action}: {exc}") from exc
            if writes:
                self._wrote()

    @asynccontextmanager
    async def _transaction(self, action: str) -> AsyncIterator[_Session]:
        """BEGIN IMMEDIATE ... COMMIT: the checks and writes inside happen as one step, even
        against other processes sharing the file."""
        async with self._within("BEGIN IMMEDIATE", action) as session:
            yield session
        self._wrote()

    @asynccontextmanager
    async def _snapshot(self, action: str) -> AsyncIterator[_Session]:
        """A read transaction: every read inside sees the database as it was at the first."""
        async with self._within("BEGIN", action) as session:
            yield session

    @asynccontextmanager
    async def _within(self, begin: str, action: str) -> AsyncIterator[_Session]:
        async with self._session(action) as session:
            await session.db.execute(begin)
            try:
                yield session
            except BaseException:
                with suppress(sqlite3.Error):
                    await session.db.execute("ROLLBACK")
                raise
            await session.db.execute("COMMIT")

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

    # -- what SQLite does its own way ----------------------------------------------------

    @asynccontextmanager
    async def serialised(self, conversation_id: str) -> AsyncIterator[None]:
        """Nothing to hold: one process per SQLite file, and the engine orders its own turns."""
        yield

    async def record_incoming(self, conversation_id: str, event_id: str, turn: Turn) -> bool:
        """Atomically mark `event_id` processed and append `turn`.

        Returns False, writing nothing, when `event_id` was already processed. One SQL
        statement (an insert into the `incoming_messages` view, see the schema) does it
        all, so it is atomic without an explicit transaction. The conversation's
        `updated_at` moves to the turn's time; `processed_at` is the turn's time too (the
        store reads no clock of its own).
        """
        async with self._session("record the incoming message", writes=True) as session:
            try:
                await session.execute(
                    INSERT_INCOMING, event_id, *turn_values(conversation_id, turn)
                )
            except sqlite3.IntegrityError as exc:
                if exc.sqlite_errorname == "SQLITE_CONSTRAINT_PRIMARYKEY":
                    return False  # processed_events already holds event_id
                raise
        return True

    async def append_turn(self, conversation_id: str, turn: Turn) -> None:
        """Append `turn` (e.g. the bot's reply); a trigger moves `updated_at` to its time."""
        async with self._session("record the message", writes=True) as session:
            await session.execute(INSERT_TURN, *turn_values(conversation_id, turn))


INSERT_INCOMING: Final = (
    f"INSERT INTO incoming_messages (event_id, conversation_id, {TURN_COLUMNS})"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_TURN: Final = (
    f"INSERT INTO turns (conversation_id, {TURN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class _Session:
    """The store's `Session` on the one aiosqlite connection, held by the caller."""

    __slots__ = ("db",)

    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db

    async def execute(self, sql: str, *args: Any) -> int:
        cursor = await self.db.execute(sql, sqlite_values(args))
        return cursor.rowcount

    async def fetch(self, sql: str, *args: Any) -> Sequence[Row]:
        rows = await self.db.execute_fetchall(sql, sqlite_values(args))
        return rows if isinstance(rows, list) else list(rows)

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        rows = await self.fetch(sql, *args)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, *args: Any) -> Any:
        row = await self.fetchrow(sql, *args)
        return row[0] if row is not None else None


async def _user_version(db: aiosqlite.Connection) -> int:
    rows = list(await db.execute_fetchall("PRAGMA user_version"))
    return int(rows[0][0])
