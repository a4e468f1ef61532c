"""The scale-out conversation store: PostgreSQL through asyncpg, shared by many bot processes."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Final, TypeAlias
from urllib.parse import parse_qs, unquote, urlsplit

import asyncpg

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
from bots.store import postgres_privacy as privacy
from bots.store import postgres_report as report
from bots.store.activity import Activity, RetrievalOutcome
from bots.store.postgres_holds import DATABASE_ERRORS, ConversationHolds
from bots.store.postgres_schema import (
    APPEND_TURN,
    CONVERSATION_COLUMNS,
    CREATE_SCHEMA_VERSION,
    HANDOFF_COLUMNS,
    MIGRATIONS,
    RECORD_INCOMING,
    SCHEMA_VERSION_EXISTS,
    SELECT_SCHEMA_VERSION,
    TURN_COLUMNS,
    UNANSWERED_TURNS,
)

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


class PostgresStore:
    """The `Store` protocol on a PostgreSQL database, for several processes at once.

    A pool of asyncpg connections (at least one, at most ten by default); each call takes a
    connection for as long as it runs. Everything that must happen once across processes is
    decided by the database: a processed event id is a primary key (`record_incoming` inserts
    it with ON CONFLICT DO NOTHING), and each hand-off state change is one conditional
    UPDATE in a transaction, which PostgreSQL re-checks against the newest row once a
    concurrent writer commits. Times are `timestamptz`, read back as UTC.

    The URL is a libpq-style `postgresql://user:password@host:port/dbname`; other query
    parameters become server settings, e.g. `?search_path=bots` to keep the tables in a
    schema of their own.
    """

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
        async with self._connection("read the schema version") as connection:
            return await _schema_version(connection)

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
                    for statement in MIGRATIONS[number - 1]:
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
        known = len(MIGRATIONS)
        if version > known:
            raise StoreError(
                f"The PostgreSQL database {_public_location(self.url)} was written by a newer "
                f"version of the bot (schema version {version}; this version knows up to "
                f"{known}). Upgrade the bot, or point DATABASE_URL at another database."
            )

    # -- connection discipline ----------------------------------------------------------

    @asynccontextmanager
    async def _connection(self, action: str) -> AsyncIterator[Connection]:
        """A pooled connection for one call; database failures become StoreError."""
        pool = self._pool
        if pool is None:
            raise StoreError("the conversation store is not open (call open() first)")
        try:
            async with pool.acquire() as connection:
                yield connection
        except _DATABASE_ERRORS as exc:
            raise StoreError(f"could not {action}: {_reason(exc, self.url)}") from exc

    @asynccontextmanager
    async def _transaction(self, action: str) -> AsyncIterator[Connection]:
        """A connection inside a transaction: committed on success, rolled back otherwise."""
        async with self._connection(action) as connection, connection.transaction():
            yield connection

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

    # -- conversations ------------------------------------------------------------------

    async def ensure_conversation(
        self, key: ThreadKey, persona: str, now: datetime
    ) -> Conversation:
        """The conversation for `key`; created (state `bot`, `persona`) only if it is new.

        An existing conversation keeps its persona and state. Concurrent calls (from any
        process) for one new key create it once and all return the same row: the losers'
        inserts wait for the winner's commit and then do nothing.
        """
        conversation_id = key.as_id()
        stamp = _aware(now)
        async with self._connection("create the conversation") as connection:
            found = await _select_conversation(connection, "WHERE id = $1", conversation_id)
            if found is not None:
                return found
            await connection.execute(
                f"INSERT INTO conversations ({CONVERSATION_COLUMNS})"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, 0, NULL)"
                " ON CONFLICT (id) DO NOTHING",
                conversation_id,
                key.platform,
                key.workspace,
                key.channel,
                key.thread,
                persona,
                ConversationState.BOT.value,
                stamp,
            )
            created = await _select_conversation(connection, "WHERE id = $1", conversation_id)
        if created is None:  # pragma: no cover - the row was just written
            raise StoreError(f"conversation {conversation_id} vanished while being created")
        return created

    async def get_conversation(self, key: ThreadKey) -> Conversation | None:
        async with self._connection("read the conversation") as connection:
            return await _select_conversation(connection, "WHERE id = $1", key.as_id())

    async def get_conversation_by_id(self, conversation_id: str) -> Conversation | None:
        async with self._connection("read the conversation") as connection:
            return await _select_conversation(connection, "WHERE id = $1", conversation_id)

    async def latest_conversation(
        self, platform: str, workspace: str, channel: str
    ) -> Conversation | None:
        """The most recently updated conversation in one channel (the console's --resume)."""
        async with self._connection("find the latest conversation") as connection:
            return await _select_conversation(
                connection,
                "WHERE platform = $1 AND workspace = $2 AND channel = $3"
                " ORDER BY updated_at DESC, seq DESC LIMIT 1",
                platform,
                workspace,
                channel,
            )

    async def recent_conversations(self, limit: int) -> list[Conversation]:
        """The `limit` most recently updated conversations, newest first (the studio's list)."""
        async with self._connection("list recent conversations") as connection:
            rows = await connection.fetch(
                f"SELECT {CONVERSATION_COLUMNS} FROM conversations"
                " ORDER BY updated_at DESC, seq DESC LIMIT $1",
                limit,
            )
        return [_conversation_from_row(row) for row in rows]

    async def set_state(
        self, conversation_id: str, state: ConversationState, now: datetime
    ) -> None:
        """Set the hand-off state; `updated_at` moves to `now` (never backwards)."""
        stamp = _aware(now)
        async with self._connection("change the conversation's state") as connection:
            status = await connection.execute(
                "UPDATE conversations SET state = $1, updated_at = greatest(updated_at, $2)"
                " WHERE id = $3",
                ConversationState(state).value,
                stamp,
                conversation_id,
            )
        if _row_count(status) == 0:
            raise StoreError(f"there is no conversation {conversation_id!r}")

    async def set_counters(
        self, conversation_id: str, *, failed_turns: int, offer_reason: str | None
    ) -> None:
        """Remember unanswered turns in a row, and whether a person was just offered."""
        async with self._connection("update the conversation") as connection:
            await connection.execute(
                "UPDATE conversations SET failed_turns = $1, offer_reason = $2 WHERE id = $3",
                failed_turns,
                offer_reason,
                conversation_id,
            )

    async def quiet_conversations(
        self, state: ConversationState, updated_before: datetime
    ) -> list[Conversation]:
        """Conversations in `state` with no activity since `updated_before`."""
        before = _aware(updated_before)
        async with self._connection("find quiet conversations") as connection:
            rows = await connection.fetch(
                f"SELECT {CONVERSATION_COLUMNS} FROM conversations"
                " WHERE state = $1 AND updated_at < $2 ORDER BY updated_at, seq",
                ConversationState(state).value,
                before,
            )
        return [_conversation_from_row(row) for row in rows]

    # -- turns ----------------------------------------------------------------------------

    async def record_incoming(self, conversation_id: str, event_id: str, turn: Turn) -> bool:
        """Atomically mark `event_id` processed and append `turn`.

        Returns False, writing nothing, when `event_id` was already processed, by this
        process or any other. One statement does it all (see `RECORD_INCOMING`), so it is
        one transaction; `processed_at` is the turn's time (the store reads no clock).
        """
        values = _turn_values(conversation_id, turn)
        async with self._connection("record the incoming message") as connection:
            marked = await connection.fetchval(RECORD_INCOMING, event_id, *values)
        return bool(marked)

    async def append_turn(self, conversation_id: str, turn: Turn) -> None:
        """Append `turn` (e.g. the bot's reply); `updated_at` moves to the turn's time."""
        values = _turn_values(conversation_id, turn)
        async with self._connection("record the message") as connection:
            await connection.execute(APPEND_TURN, *values)

    async def unanswered_turns(
        self, since: datetime, before: datetime
    ) -> list[tuple[Conversation, Turn]]:
        """Conversations the bot owns whose newest turn is a user message from [since, before).

        `updated_at` is never older than the newest turn, so it narrows the scan first.
        """
        async with self._connection("find unanswered messages") as connection:
            rows = await connection.fetch(UNANSWERED_TURNS, _aware(since), _aware(before))
        return [(_conversation_from_row(row), _unanswered_turn(row)) for row in rows]

    async def recent_turns(self, conversation_id: str, limit: int) -> list[Turn]:
        """The newest `limit` turns, oldest first (an empty list when `limit` <= 0)."""
        if limit <= 0:
            return []
        async with self._connection("read the conversation's messages") as connection:
            rows = await connection.fetch(
                f"SELECT {TURN_COLUMNS} FROM ("
                f"  SELECT id, {TURN_COLUMNS} FROM turns WHERE conversation_id = $1"
                "   ORDER BY id DESC LIMIT $2"
                ") AS newest ORDER BY id",
                conversation_id,
                limit,
            )
        return [_turn_from_row(row) for row in rows]

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
        stamp = _aware(now)
        lines = list(summary)
        async with self._transaction("hand the conversation over") as connection:
            moved = await _transition(
                connection,
                conversation_id,
                ConversationState.WAITING_FOR_HUMAN,
                (ConversationState.BOT, ConversationState.RESOLVED),
                stamp,
                reset_counters=True,
            )
            if not moved:
                return None
            handoff_id = await connection.fetchval(
                "INSERT INTO handoffs (conversation_id, reason, detail, summary, requested_at)"
                " VALUES ($1, $2, $3, $4, $5) RETURNING id",
                conversation_id,
                reason,
                detail,
                lines,
                stamp,
            )
        return Handoff(int(handoff_id), conversation_id, reason, detail, tuple(lines), now)

    async def claim_handoff(self, conversation_id: str, staff_id: str, now: datetime) -> bool:
        """`waiting_for_human` -> `human`; False when the thread was not waiting."""
        stamp = _aware(now)
        async with self._transaction("claim the conversation") as connection:
            waiting = (ConversationState.WAITING_FOR_HUMAN,)
            moved = await _transition(
                connection, conversation_id, ConversationState.HUMAN, waiting, stamp
            )
            if not moved:
                return False
            await connection.execute(
                "UPDATE handoffs SET claimed_by = $1, claimed_at = $2"
                " WHERE conversation_id = $3 AND resolved_at IS NULL",
                staff_id,
                stamp,
                conversation_id,
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

        With `idle_since`, only if nothing happened in the conversation since then (checked
        by the same UPDATE): a staff message that lands just before an automatic hand-back
        keeps the thread with people.
        """
        stamp = _aware(now)
        idle_before = _aware(idle_since) if idle_since is not None else None
        async with self._transaction("hand the conversation back") as connection:
            moved = await _transition(
                connection,
                conversation_id,
                ConversationState.RESOLVED,
                (ConversationState.WAITING_FOR_HUMAN, ConversationState.HUMAN),
                stamp,
                idle_before=idle_before,
            )
            if not moved:
                return None
            await connection.execute(
                "UPDATE handoffs SET resolved_by = $1, resolved_at = $2"
                " WHERE conversation_id = $3 AND resolved_at IS NULL",
                staff_id,
                stamp,
                conversation_id,
            )
            return await _latest_handoff(connection, conversation_id)

    async def current_handoff(self, conversation_id: str) -> Handoff | None:
        """The newest hand-off of the conversation (open or closed), if any."""
        async with self._connection("read the hand-off") as connection:
            return await _latest_handoff(connection, conversation_id)

    async def unclaimed_handoffs(self, requested_before: datetime) -> list[Handoff]:
        """Waiting hand-offs older than `requested_before` that got no reminder yet."""
        before = _aware(requested_before)
        columns = ", ".join("h." + column.strip() for column in HANDOFF_COLUMNS.split(","))
        async with self._connection("find unclaimed hand-offs") as connection:
            rows = await connection.fetch(
                f"SELECT {columns} FROM handoffs h JOIN conversations c"
                " ON c.id = h.conversation_id"
                " WHERE h.resolved_at IS NULL AND h.reminded_at IS NULL"
                " AND h.requested_at < $1 AND c.state = $2 ORDER BY h.id",
                before,
                ConversationState.WAITING_FOR_HUMAN.value,
            )
        return [_handoff_from_row(row) for row in rows]

    async def mark_reminded(self, handoff_id: int, now: datetime) -> bool:
        """Record the reminder; False if another process already sent it."""
        stamp = _aware(now)
        async with self._connection("record the reminder") as connection:
            status = await connection.execute(
                "UPDATE handoffs SET reminded_at = $1 WHERE id = $2 AND reminded_at IS NULL",
                stamp,
                handoff_id,
            )
        return _row_count(status) == 1

    async def add_feedback(
        self, conversation_id: str, message_id: str, user_id: str, positive: bool, now: datetime
    ) -> None:
        stamp = _aware(now)
        async with self._connection("record feedback") as connection:
            await connection.execute(
                "INSERT INTO feedback (conversation_id, message_id, user_id, positive, created_at)"
                " VALUES ($1, $2, $3, $4, $5)",
                conversation_id,
                message_id,
                user_id,
                positive,
                stamp,
            )

    async def feedback_of(self, conversation_id: str) -> dict[str, bool]:
        """message id -> whether its latest feedback was positive (the studio's transcript)."""
        async with self._connection("read feedback") as connection:
            rows = await connection.fetch(
                "SELECT message_id, positive FROM feedback WHERE conversation_id = $1 ORDER BY id",
                conversation_id,
            )
        return {str(row["message_id"]): bool(row["positive"]) for row in rows}

    # -- usage ----------------------------------------------------------------------------

    async def add_usage(self, conversation_id: str, usage: Usage) -> None:
        """Add `usage` to the conversation's running totals (one atomic upsert)."""
        async with self._connection("record token usage") as connection:
            await connection.execute(
                "INSERT INTO usage AS u (conversation_id, prompt_tokens, completion_tokens)"
                " VALUES ($1, $2, $3) ON CONFLICT (conversation_id) DO UPDATE SET"
                " prompt_tokens = u.prompt_tokens + excluded.prompt_tokens,"
                " completion_tokens = u.completion_tokens + excluded.completion_tokens",
                conversation_id,
                usage.prompt_tokens,
                usage.completion_tokens,
            )

    async def usage(self, conversation_id: str) -> Usage:
        """The conversation's token totals (zero when nothing was recorded)."""
        async with self._connection("read token usage") as connection:
            row = await connection.fetchrow(
                "SELECT prompt_tokens, completion_tokens FROM usage WHERE conversation_id = $1",
                conversation_id,
            )
        if row is None:
            return Usage()
        return Usage(prompt_tokens=int(row[0]), completion_tokens=int(row[1]))

    # -- limits and privacy (bots/store/postgres_privacy.py has the SQL) --------------------

    async def record_usage(self, entry: UsageEntry) -> None:
        async with self._connection("record token usage") as connection:
            await privacy.record_usage(connection, entry)

    async def usage_on(
        self, day: date, *, user_id: str | None = None, channel: str | None = None
    ) -> Usage:
        async with self._connection("read the day's token usage") as connection:
            return await privacy.usage_on(connection, day, user_id, channel)

    async def delete_turns_before(self, cutoff: datetime) -> int:
        async with self._transaction("delete old messages") as connection:
            return await privacy.delete_turns_before(connection, cutoff)

    async def forget_conversation(self, conversation_id: str) -> Forgotten:
        async with self._transaction("forget the conversation") as connection:
            return await privacy.forget_conversations(connection, [conversation_id])

    async def forget_user(self, user_id: str) -> Forgotten:
        async with self._transaction("forget the user") as connection:
            return await privacy.forget_user(connection, user_id)

    # -- the operator's report (bots/store/postgres_report.py has the SQL) ------------------

    async def record_retrieval(self, conversation_id: str, outcome: RetrievalOutcome) -> None:
        async with self._connection("record how well the knowledge matched") as connection:
            await report.record_retrieval(connection, conversation_id, outcome)

    async def activity(
        self, since: datetime, until: datetime, *, unmatched_limit: int = 2000
    ) -> Activity:
        async with self._connection("read the report's figures") as connection:
            return await report.activity(connection, since, until, unmatched_limit)


# -- helpers --------------------------------------------------------------------------------


async def _schema_version(connection: Connection) -> int:
    """The highest applied migration; 0 for a database the bot never used."""
    if not await connection.fetchval(SCHEMA_VERSION_EXISTS):
        return 0
    return int(await connection.fetchval(SELECT_SCHEMA_VERSION))


async def _select_conversation(
    connection: Connection, where: str, *parameters: Any
) -> Conversation | None:
    row = await connection.fetchrow(
        f"SELECT {CONVERSATION_COLUMNS} FROM conversations {where}", *parameters
    )
    return _conversation_from_row(row) if row is not None else None


def _conversation_from_row(row: asyncpg.Record) -> Conversation:
    return Conversation(
        id=row["id"],
        key=ThreadKey(row["platform"], row["workspace"], row["channel"], row["thread"]),
        persona=row["persona"],
        state=ConversationState(row["state"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        failed_turns=row["failed_turns"],
        offer_reason=row["offer_reason"],
    )


async def _transition(
    connection: Connection,
    conversation_id: str,
    to: ConversationState,
    from_states: Sequence[ConversationState],
    now: datetime,
    *,
    reset_counters: bool = False,
    idle_before: datetime | None = None,
) -> bool:
    """Move the conversation to `to` if it is in one of `from_states` (and, with
    `idle_before`, quiet since then); one conditional UPDATE, so racing callers move it once.

    Under READ COMMITTED a concurrent UPDATE of the same row waits for the first to commit,
    then evaluates the WHERE clause again on the row as the first left it.
    """
    counters = ", failed_turns = 0, offer_reason = NULL" if reset_counters else ""
    idle = " AND updated_at < $5" if idle_before is not None else ""
    status = await connection.execute(
        f"UPDATE conversations SET state = $1, updated_at = greatest(updated_at, $2){counters}"
        f" WHERE id = $3 AND state = ANY($4::text[]){idle}",
        to.value,
        now,
        conversation_id,
        [state.value for state in from_states],
        *((idle_before,) if idle_before is not None else ()),
    )
    return _row_count(status) == 1


async def _latest_handoff(connection: Connection, conversation_id: str) -> Handoff | None:
    row = await connection.fetchrow(
        f"SELECT {HANDOFF_COLUMNS} FROM handoffs WHERE conversation_id = $1"
        " ORDER BY id DESC LIMIT 1",
        conversation_id,
    )
    return _handoff_from_row(row) if row is not None else None


def _handoff_from_row(row: asyncpg.Record) -> Handoff:
    return Handoff(
        id=row["id"],
        conversation_id=row["conversation_id"],
        reason=row["reason"],
        detail=row["detail"],
        summary=tuple(row["summary"]),
        requested_at=row["requested_at"],
        claimed_by=row["claimed_by"],
        claimed_at=row["claimed_at"],
        resolved_by=row["resolved_by"],
        resolved_at=row["resolved_at"],
        reminded_at=row["reminded_at"],
    )


def _turn_values(conversation_id: str, turn: Turn) -> tuple[Any, ...]:
    return (
        conversation_id,
        Role(turn.role).value,
        turn.text,
        turn.author_id,
        turn.message_id,
        _aware(turn.created_at),
        turn.token_count,
        list(turn.cited_ids),
    )


def _turn_from_row(row: asyncpg.Record) -> Turn:
    return Turn(
        role=Role(row["role"]),
        text=row["text"],
        author_id=row["author_id"],
        message_id=row["message_id"],
        created_at=row["created_at"],
        token_count=row["token_count"],
        cited_ids=tuple(row["cited_ids"]),
    )


def _unanswered_turn(row: asyncpg.Record) -> Turn:
    """The turn half of an UNANSWERED_TURNS row (its time has a name of its own)."""
    return replace(_turn_from_row(row), created_at=row["turn_created_at"])


def _aware(moment: datetime) -> datetime:
    """`moment` itself, refusing a naive datetime (asyncpg would silently take it as UTC)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"the store needs timezone-aware datetimes, got naive {moment!r}")
    return moment


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
