"""The scale-out conversation store: PostgreSQL through asyncpg, shared by many bot processes."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, ClassVar, Final, TypeAlias
from urllib.parse import parse_qs, unquote, urlsplit

import asyncpg

from bots.errors import StoreError
from bots.models import Turn
from bots.store.dialect import POSTGRES, Dialect, Row, postgres_values
from bots.store.postgres_holds import DATABASE_ERRORS, ConversationHolds
from bots.store.queries import SQLStore
from bots.store.rows import turn_values
from bots.store.schema import MIGRATIONS, refuse_newer, statements

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

MIN_CONNECTIONS: Final = 1
MAX_CONNECTIONS: Final = 10
CONNECT_TIMEOUT_SECONDS: Final = 10.0
# The key of the transaction-scoped advisory lock that lets one process at a time migrate
# (advisory locks are per database: every schema in it shares the key, which is harmless).
MIGRATION_LOCK_KEY: Final = int.from_bytes(b"botsmigr", "big")

# Turns hold their conversation on one shared session (bots/store/postgres_holds.py); only a
# turn that must wait for another process takes a connection of its own, from a pool of its
# own (so waiting turns never starve the queries of the turn in front). This bounds the
# turns of one process waiting on other processes at once, not the turns in progress.
MAX_WAITING_TURNS: Final = 30

Connection: TypeAlias = "PoolConnectionProxy[asyncpg.Record]"
# What a failing database or connection raises; the store turns each into StoreError.
_DATABASE_ERRORS: Final = DATABASE_ERRORS


class PostgresStore(SQLStore):
    """The `Store` protocol on a PostgreSQL database, for several processes at once.

    A pool of asyncpg connections (at least one, at most ten by default); each call takes a
    connection for as long as it runs. Everything that must happen once across processes is
    decided by the database: a processed event id is a primary key (`record_incoming` inserts
    it with ON CONFLICT DO NOTHING), and each hand-off state change is one conditional
    UPDATE in a transaction, which PostgreSQL re-checks against the newest row once a
    concurrent writer commits. Times are `timestamptz`, read back as UTC.

    The URL is a libpq-style `postgresql://user:password@host:port/dbname`; other query
    parameters become server settings, e.g. `?search_path=bots` to keep the tables in a
    schema of their own. The queries are the shared ones (bots/store/queries.py).
    """

    dialect: ClassVar[Dialect] = POSTGRES

    @property
    def shared(self) -> bool:
        return True  # many bot processes may answer from one database

    def __init__(
        self,
        url: str,
        *,
        min_connections: int = MIN_CONNECTIONS,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.url: Final = url
        self._min = min_connections
        self._max = max(min_connections, max_connections)
        self._pool: asyncpg.Pool[asyncpg.Record] | None = None
        self._holds: ConversationHolds | None = None
        self._waiting: asyncpg.Pool[asyncpg.Record] | None = None
        self._opening = asyncio.Lock()

    def __repr__(self) -> str:
        return f"PostgresStore({_public_location(self.url)!r})"

    # -- lifecycle ----------------------------------------------------------------------

    async def open(self) -> None:
        """Connect, and bring the schema up to date (refusing a schema newer than this code)."""
        async with self._opening:
            if self._pool is not None:
                return
            pool = await self._connect()
            try:
                async with pool.acquire() as connection:
                    await self._migrate(connection)
                waiting = await self._connect(min_size=0, max_size=MAX_WAITING_TURNS)
            except BaseException:
                pool.terminate()
                raise
            self._pool, self._waiting = pool, waiting
            self._holds = ConversationHolds(self._connect_one, waiting)

    async def _connect_one(self) -> asyncpg.Connection[asyncpg.Record]:
        """A connection outside the pools (the shared session of the conversation holds)."""
        try:
            connection: asyncpg.Connection[asyncpg.Record] = await asyncpg.connect(
                self.url, timeout=CONNECT_TIMEOUT_SECONDS, command_timeout=CONNECT_TIMEOUT_SECONDS
            )
        except ValueError as exc:  # pragma: no cover - the pools took the same URL already
            raise StoreError(f"bad DATABASE_URL: {_reason(exc, self.url)}") from None
        return connection

    async def _connect(
        self, *, min_size: int | None = None, max_size: int | None = None
    ) -> asyncpg.Pool[asyncpg.Record]:
        try:
            return await asyncpg.create_pool(
                self.url,
                min_size=self._min if min_size is None else min_size,
                max_size=self._max if max_size is None else max_size,
                timeout=CONNECT_TIMEOUT_SECONDS,
            )
        except (*_DATABASE_ERRORS, ValueError) as exc:
            # `from None`: the original exception may quote the URL, password and all.
            raise StoreError(
                f"cannot connect to the PostgreSQL database {_public_location(self.url)}: "
                f"{_reason(exc, self.url)}"
            ) from None

    async def close(self) -> None:
        """Wait for calls in progress, then close every connection. Safe to call twice."""
        async with self._opening:
            pool, self._pool = self._pool, None
            holds, self._holds = self._holds, None
            waiting, self._waiting = self._waiting, None
            if holds is not None:
                await holds.close()
            if waiting is not None:
                await waiting.close()
            if pool is not None:
                await pool.close()

    async def schema_version(self) -> int:
        """The schema version the database is at (the number of migrations applied)."""
        async with self._session("read the schema version") as session:
            return await _schema_version(session.connection)

    async def _migrate(self, connection: Connection) -> None:
        """Apply the migrations this database lacks, in one transaction.

        A transaction-scoped advisory lock makes processes that start together take turns;
        the version is read again under the lock, so each migration is applied once.
        """
        known = len(MIGRATIONS)
        try:
            if await _schema_version(connection) == known:
                return  # the usual start: nothing to write, no lock to wait for
            async with connection.transaction():
                await connection.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK_KEY)
                if not await connection.fetchval(SCHEMA_VERSION_EXISTS):
                    await connection.execute(CREATE_SCHEMA_VERSION)
                current = await _schema_version(connection)
                self._refuse_newer(current)
                for number in range(current + 1, known + 1):
                    for statement in statements(MIGRATIONS[number - 1], POSTGRES):
                        await connection.execute(statement)
                    await connection.execute(
                        "INSERT INTO schema_version (version) VALUES ($1)", number
                    )
        except _DATABASE_ERRORS as exc:
            raise StoreError(
                f"cannot bring the PostgreSQL database {_public_location(self.url)} "
                f"up to date: {_reason(exc, self.url)}"
            ) from exc

    def _refuse_newer(self, version: int) -> None:
        where = f"The PostgreSQL database {_public_location(self.url)}"
        refuse_newer(version, where, "another database")

    # -- connection discipline ----------------------------------------------------------

    @asynccontextmanager
    async def _session(self, action: str, *, writes: bool = False) -> AsyncIterator[_Session]:
        """A pooled connection for one call; database failures become StoreError."""
        pool = self._pool
        if pool is None:
            raise StoreError("the conversation store is not open (call open() first)")
        try:
            async with pool.acquire() as connection:
                yield _Session(connection)
        except _DATABASE_ERRORS as exc:
            raise StoreError(f"could not {action}: {_reason(exc, self.url)}") from exc

    @asynccontextmanager
    async def _transaction(self, action: str) -> AsyncIterator[_Session]:
        """A connection inside a transaction: committed on success, rolled back otherwise."""
        async with self._session(action) as session, session.connection.transaction():
            yield session

    @asynccontextmanager
    async def _snapshot(self, action: str) -> AsyncIterator[_Session]:
        """A read-only REPEATABLE READ transaction: one snapshot for every read inside."""
        async with (
            self._session(action) as session,
            session.connection.transaction(isolation="repeatable_read", readonly=True),
        ):
            yield session

    @asynccontextmanager
    async def serialised(self, conversation_id: str) -> AsyncIterator[None]:
        """Hold the conversation against every process on this database for one turn.

        A session-level advisory lock keyed by a 64-bit hash of the id, taken on a session
        the process shares between its turns, or queued on a connection of its own when
        another process has the conversation (bots/store/postgres_holds.py): waiters go in
        arrival order, and a process that dies frees its holds (its connections close). A
        hash collision would only make two conversations take turns, never mix them up.
        """
        holds = self._holds
        if holds is None:
            raise StoreError("the conversation store is not open (call open() first)")
        entered = False
        try:
            async with holds.hold(_hold_key(conversation_id)):
                entered = True
                yield
        except _DATABASE_ERRORS as exc:
            if entered:
                raise  # the turn's own failure, not the hold's
            raise StoreError(f"could not hold the conversation: {_reason(exc, self.url)}") from exc

    # -- what PostgreSQL does its own way ------------------------------------------------

    async def record_incoming(self, conversation_id: str, event_id: str, turn: Turn) -> bool:
        """Atomically mark `event_id` processed and append `turn`.

        Returns False, writing nothing, when `event_id` was already processed, by this
        process or any other. One statement does it all (see `RECORD_INCOMING`), so it is
        one transaction; `processed_at` is the turn's time (the store reads no clock).
        """
        values = turn_values(conversation_id, turn)
        async with self._session("record the incoming message") as session:
            marked = await session.fetchval(RECORD_INCOMING, event_id, *values)
        return bool(marked)

    async def append_turn(self, conversation_id: str, turn: Turn) -> None:
        """Append `turn` (e.g. the bot's reply); `updated_at` moves to the turn's time."""
        async with self._session("record the message") as session:
            await session.execute(APPEND_TURN, *turn_values(conversation_id, turn))


# Applied versions, one row per migration; the schema's version is the highest.
CREATE_SCHEMA_VERSION: Final = """
    CREATE TABLE schema_version (
        version    integer PRIMARY KEY,
        applied_at timestamptz NOT NULL DEFAULT now()
    )
"""
SELECT_SCHEMA_VERSION: Final = "SELECT coalesce(max(version), 0) FROM schema_version"
# Read from the catalog with the statement's own snapshot, not with `to_regclass`, whose
# cached lookup can miss a table another process created while this one waited for the lock.
SCHEMA_VERSION_EXISTS: Final = (
    "SELECT EXISTS (SELECT FROM pg_catalog.pg_tables"
    " WHERE schemaname = current_schema() AND tablename = 'schema_version')"
)

# `record_incoming` in one statement, so in one transaction and one round trip: mark the
# event processed unless it already was, append the turn only if it was just marked, and
# move the conversation's `updated_at` forward to the turn's time. The result is the number
# of events marked: 0 for a redelivery, which then wrote nothing. A concurrent insert of
# the same event id waits for the first transaction and then does nothing. (Numbered
# placeholders: the turn's time is used twice.)
RECORD_INCOMING: Final = """
    WITH event AS (
        INSERT INTO processed_events (event_id, conversation_id, processed_at)
        VALUES ($1, $2, $7)
        ON CONFLICT (event_id) DO NOTHING
        RETURNING conversation_id
    ), turn AS (
        INSERT INTO turns (conversation_id, role, text, author_id, message_id,
                           created_at, token_count, cited_ids, answer_due, reply_id)
        SELECT conversation_id, $3::text, $4::text, $5::text, $6::text,
               $7::timestamptz, $8::integer, $9::text[], $10::timestamptz, $11::text
          FROM event
        RETURNING conversation_id, created_at
    ), touched AS (
        UPDATE conversations c SET updated_at = turn.created_at
          FROM turn
         WHERE c.id = turn.conversation_id AND c.updated_at < turn.created_at
    )
    SELECT count(*) FROM event
"""

# Append a turn and move `updated_at` forward to its time (never backwards), in one statement.
APPEND_TURN: Final = """
    WITH turn AS (
        INSERT INTO turns (conversation_id, role, text, author_id, message_id,
                           created_at, token_count, cited_ids, answer_due, reply_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        RETURNING conversation_id, created_at
    )
    UPDATE conversations c SET updated_at = turn.created_at
      FROM turn
     WHERE c.id = turn.conversation_id AND c.updated_at < turn.created_at
"""


# -- helpers --------------------------------------------------------------------------------


async def _schema_version(connection: Connection) -> int:
    """The highest applied migration; 0 for a database the bot never used."""
    if not await connection.fetchval(SCHEMA_VERSION_EXISTS):
        return 0
    return int(await connection.fetchval(SELECT_SCHEMA_VERSION))


class _Session:
    """The store's `Session` on one asyncpg connection: `?` placeholders become `$1, $2...`."""

    __slots__ = ("connection",)

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    async def execute(self, sql: str, *args: Any) -> int:
        status = await self.connection.execute(_numbered(sql), *postgres_values(args))
        return _row_count(status)

    async def fetch(self, sql: str, *args: Any) -> Sequence[Row]:
        return await self.connection.fetch(_numbered(sql), *postgres_values(args))

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        return await self.connection.fetchrow(_numbered(sql), *postgres_values(args))

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self.connection.fetchval(_numbered(sql), *postgres_values(args))


@functools.lru_cache(maxsize=512)
def _numbered(sql: str) -> str:
    """`sql` with its `?` placeholders numbered as PostgreSQL wants them (none of the store's
    SQL has a `?` anywhere else)."""
    count = iter(range(1, sql.count("?") + 1))
    return re.sub(r"\?", lambda _: f"${next(count)}", sql)


def _row_count(status: str) -> int:
    """The row count of a command status such as "UPDATE 1" or "INSERT 0 1"."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


def _reason(exc: BaseException, url: str) -> str:
    """The exception's message on one line, any password of `url` masked (the exception's
    type when it has no message)."""
    text = " ".join(_scrub(str(exc), url).split())
    if isinstance(exc, TimeoutError) and not text:
        return f"no answer within {CONNECT_TIMEOUT_SECONDS:g} seconds"
    return text or type(exc).__name__


def _secrets(url: str) -> list[str]:
    """The password(s) a URL carries, as written and decoded, longest first."""
    found: list[str] = []
    try:
        parts = urlsplit(url)
        if parts.password:
            found += [parts.password, unquote(parts.password)]
        for name in ("password", "sslpassword"):
            for value in parse_qs(parts.query).get(name, []):
                found.append(value)
    except ValueError:
        pass
    return sorted({secret for secret in found if secret}, key=len, reverse=True)


def _scrub(text: str, url: str) -> str:
    """`text` with any password from `url` masked."""
    for secret in _secrets(url):
        text = text.replace(secret, "***")
    return text


def _public_location(url: str) -> str:
    """The URL without password or query: `postgresql://user@host:port/dbname`."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
        user = f"{unquote(parts.username)}@" if parts.username else ""
    except ValueError:
        return "named by DATABASE_URL"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{user}{host}{port}{parts.path}"


def _hold_key(conversation_id: str) -> int:
    """A signed 64-bit advisory lock key for a conversation id (stable across processes)."""
    digest = hashlib.blake2b(conversation_id.encode(), digest_size=8, person=b"bots-turn").digest()
    return int.from_bytes(digest, "big", signed=True)
