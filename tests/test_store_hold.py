"""`Store.serialised`: one conversation's turns take turns across processes sharing a database.

Two `PostgresStore` objects on one schema stand for two processes (each has its own
connections, as a process would). Skips without PostgreSQL, fails under CI=true.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from bots.errors import StoreError
from bots.store.postgres import PostgresStore, _hold_key
from bots.store.sqlite import SQLiteStore
from tests.test_store_postgres import schema_url  # noqa: F401  (a fixture)


async def waiting_holders(url: str, conversation_id: str) -> int:
    """Sessions waiting for the conversation's advisory lock (the hold of `serialised`)."""
    unsigned = _hold_key(conversation_id) & 0xFFFFFFFFFFFFFFFF
    connection = await asyncpg.connect(url)
    try:
        return int(
            await connection.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND classid = $1 AND objid = $2 AND objsubid = 1"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                unsigned >> 32,
                unsigned & 0xFFFFFFFF,
            )
        )
    finally:
        await connection.close()


async def until_waiting(
    url: str, conversation_id: str, count: int = 1, seconds: float = 20.0
) -> None:
    """Poll pg_locks (a database view has no notification to wait on) until `count` wait."""
    interval = 0.02
    for _ in range(int(seconds / interval)):
        if await waiting_holders(url, conversation_id) == count:
            return
        await asyncio.sleep(interval)
    raise TimeoutError(f"not {count} waiting for {conversation_id} within {seconds} s")


@pytest.fixture
async def two_stores(
    schema_url: str,  # noqa: F811  (the fixture imported above)
) -> AsyncIterator[tuple[PostgresStore, PostgresStore]]:
    first, second = PostgresStore(schema_url), PostgresStore(schema_url)
    await first.open()
    await second.open()
    yield first, second
    await second.close()
    await first.close()


async def test_one_conversation_is_held_by_one_process_at_a_time(
    two_stores: tuple[PostgresStore, PostgresStore],
    schema_url: str,  # noqa: F811
) -> None:
    first, second = two_stores
    order: list[str] = []

    async def second_turn() -> None:
        async with second.serialised("slack/T/C/1"):
            order.append("second process, conversation 1")

    async with first.serialised("slack/T/C/1"):
        waiting = asyncio.create_task(second_turn())
        await until_waiting(schema_url, "slack/T/C/1")
        async with second.serialised("slack/T/C/2"):  # another conversation is not held up
            order.append("second process, conversation 2")
        order.append("first process done")
    await asyncio.wait_for(waiting, 10)
    assert order == [
        "second process, conversation 2",
        "first process done",
        "second process, conversation 1",
    ]


async def test_waiters_go_in_arrival_order(
    two_stores: tuple[PostgresStore, PostgresStore],
    schema_url: str,  # noqa: F811
) -> None:
    first, second = two_stores
    third = PostgresStore(schema_url)
    await third.open()
    order: list[str] = []

    async def turn(store: PostgresStore, name: str) -> None:
        async with store.serialised("c"):
            order.append(name)

    try:
        async with first.serialised("c"):
            a = asyncio.create_task(turn(second, "second"))
            await until_waiting(schema_url, "c")
            b = asyncio.create_task(turn(third, "third"))
            await until_waiting(schema_url, "c", count=2)
            order.append("first")
        await asyncio.wait_for(asyncio.gather(a, b), 10)
    finally:
        await third.close()
    assert order == ["first", "second", "third"]


async def test_a_cancelled_turn_lets_go(
    two_stores: tuple[PostgresStore, PostgresStore],
) -> None:
    first, second = two_stores
    entered = asyncio.Event()

    async def stuck() -> None:
        async with first.serialised("c"):
            entered.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(stuck())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with asyncio.timeout(10), second.serialised("c"):
        pass


async def test_a_closed_store_refuses_to_hold(schema_url: str) -> None:  # noqa: F811
    store = PostgresStore(schema_url)
    with pytest.raises(StoreError, match="not open"):
        async with store.serialised("c"):
            pass


async def test_sqlite_holds_nothing(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "one.sqlite3")
    await store.open()
    try:
        async with store.serialised("c"), store.serialised("c"):
            pass  # one process per file: entering twice does not wait
    finally:
        await store.close()
