"""Cross-process conversation holds for the PostgreSQL store: advisory locks, many per session.

A session-level advisory lock per conversation keeps its turns in order across every
process on the database: PostgreSQL queues blocked requests in arrival order, grants the
lock to the first waiter the moment the holder lets go, and frees every lock of a session
whose connection closes (a dead process, a restart). One session can hold any number of
advisory locks, so a process needs no connection per conversation in progress:

- **Shared session (the usual case).** `pg_try_advisory_lock` on one connection shared by
  every turn of the process (asyncpg runs one operation at a time on a connection, hence an
  asyncio lock around each round trip). It succeeds whenever no other process holds or
  waits for the conversation: a try never jumps a queue, because a released lock passes to
  the first waiter at once.
- **A connection of its own (only when another process has the conversation).** A failed
  try falls back to a blocking `pg_advisory_lock` on a connection from a small pool, held
  for that turn: that request joins PostgreSQL's queue, so the order across processes is
  the order in which requests reach the database. (Between the failed try and the queued
  request, a round trip plus opening a connection if none is idle, the holder can let go
  and take the conversation again for a turn it got later; a turn always waited this way
  for the request to reach the database, this only makes that a little longer.)

Advisory locks are re-entrant within a session, so the shared session never takes a key it
already holds (a second holder in this process, or a hash collision): that one waits in the
queue like any other process would. Each lock is released on the connection that took it.
When the shared connection fails or a round trip on it is interrupted, it is closed, which
frees its locks (what a restart does anyway), and the next turn opens a new one. No library
does this (asyncpg pools lend a connection per caller), hence this module.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING, Final, TypeAlias

import asyncpg

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

SharedConnection: TypeAlias = "asyncpg.Connection[asyncpg.Record]"
WaitingConnection: TypeAlias = "PoolConnectionProxy[asyncpg.Record]"

log = logging.getLogger(__name__)

# What a failing database or connection raises (the store turns each into StoreError).
# InternalClientError: a pooled connection the server dropped mid-call (a restart) can be
# left in a state asyncpg refuses to use; seen in benchmarks/faults.py.
DATABASE_ERRORS: Final = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
    TimeoutError,
)


class ConversationHolds:
    """Advisory-lock holds on conversation keys (signed 64-bit ints), for one process.

    `connect` opens the shared session; `waiting` lends connections to turns that must
    queue behind another process. Database failures propagate (DATABASE_ERRORS).
    """

    def __init__(
        self,
        connect: Callable[[], Awaitable[SharedConnection]],
        waiting: asyncpg.Pool[asyncpg.Record],
    ) -> None:
        self._connect = connect
        self._waiting = waiting
        self._shared: SharedConnection | None = None
        self._taken: set[int] = set()  # keys the current shared session holds
        self._one_at_a_time = asyncio.Lock()  # asyncpg: one operation per connection
        self._releasing: set[asyncio.Task[None]] = set()

    @asynccontextmanager
    async def hold(self, key: int) -> AsyncIterator[None]:
        """Hold `key` for the body: on the shared session if free, else queued on a
        connection of its own (the caller waits until every earlier holder let go)."""
        shared = await self._take_shared(key)
        if shared is None:
            async with self._queued(key):
                yield
            return
        try:
            yield
        finally:
            # Shielded: a cancelled turn must still let go, or the conversation stays held.
            await asyncio.shield(self._spawn_release(shared, key))

    async def close(self) -> None:
        """Close the shared session (freeing its locks) after releases under way."""
        if self._releasing:
            await asyncio.gather(*self._releasing, return_exceptions=True)
        async with self._one_at_a_time:
            self._drop_shared()

    # -- the shared session ---------------------------------------------------------------

    async def _take_shared(self, key: int) -> SharedConnection | None:
        """The shared connection if it took `key` now; None if `key` is held or awaited."""
        attempt = asyncio.ensure_future(self._try_shared(key))
        try:
            return await asyncio.shield(attempt)
        except asyncio.CancelledError:
            # The try may still succeed after the caller gave up: then let the key go.
            attempt.add_done_callback(lambda done: self._release_abandoned(done, key))
            raise

    async def _try_shared(self, key: int) -> SharedConnection | None:
        async with self._one_at_a_time:
            if key in self._taken:
                return None  # re-entry would not wait: queue like another process
            try:
                return await self._try_on_shared(key)
            except DATABASE_ERRORS:
                # A connection the server dropped (a restart) fails its next call: open a
                # new one once; a second failure is the database's to report.
                self._drop_shared()
                try:
                    return await self._try_on_shared(key)
                except DATABASE_ERRORS:
                    self._drop_shared()
                    raise

    async def _try_on_shared(self, key: int) -> SharedConnection | None:
        connection = await self._shared_connection()
        if not await connection.fetchval("SELECT pg_try_advisory_lock($1)", key):
            return None
        self._taken.add(key)
        return connection

    async def _shared_connection(self) -> SharedConnection:
        if self._shared is not None and self._shared.is_closed():
            self._drop_shared()
        if self._shared is None:
            self._shared = await self._connect()
        return self._shared

    def _drop_shared(self) -> None:
        """Forget the shared connection, closing it: the server frees every lock it held."""
        connection, self._shared = self._shared, None
        self._taken.clear()
        if connection is not None:
            connection.terminate()

    def _spawn_release(self, connection: SharedConnection, key: int) -> asyncio.Task[None]:
        task = asyncio.ensure_future(self._release(connection, key))
        self._releasing.add(task)
        task.add_done_callback(self._releasing.discard)
        return task

    def _release_abandoned(self, tried: asyncio.Future[SharedConnection | None], key: int) -> None:
        if tried.cancelled() or tried.exception() is not None:
            return
        connection = tried.result()
        if connection is not None:
            self._spawn_release(connection, key)

    async def _release(self, connection: SharedConnection, key: int) -> None:
        async with self._one_at_a_time:
            if connection is not self._shared:
                return  # that session is closed: its locks went with it
            self._taken.discard(key)
            try:
                released = await connection.fetchval("SELECT pg_advisory_unlock($1)", key)
            except DATABASE_ERRORS:
                # Dropped by the server, or no answer in time: closing the session is the
                # one sure way to free the key. The turn itself went well: no error.
                self._drop_shared()
                return
            except asyncio.CancelledError:
                self._drop_shared()  # the outcome is unknown: the same sure way
                raise
            if not released:  # pragma: no cover - our bookkeeping and the server disagree
                log.warning("a conversation hold was already gone when released")

    # -- a connection of its own, queued behind another process ----------------------------

    @asynccontextmanager
    async def _queued(self, key: int) -> AsyncIterator[None]:
        connection: WaitingConnection = await self._waiting.acquire()
        try:
            await connection.execute("SELECT pg_advisory_lock($1)", key)
            yield
        finally:
            # Releasing resets the connection, which releases all its advisory locks
            # (asyncpg's documented `Connection.reset`): no separate unlock round trip. A
            # connection the server dropped cannot be reset: the pool then closes it,
            # which frees its locks just the same, so that error is no news.
            with suppress(*DATABASE_ERRORS):
                await self._waiting.release(connection)
