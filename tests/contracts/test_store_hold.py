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
from tests.contracts.test_store_postgres import schema_url  # noqa: F401 - a fixture, used by name


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
    schema_url: str,  # noqa: F811 - the fixture imported above
) -> AsyncIterator[tuple[PostgresStore, PostgresStore]]:
    first, second = PostgresStore(schema_url), PostgresStore(schema_url)
    await first.open()
    await second.open()
    yield first, second
    await second.close()
    await first.close()


async def test_one_conversation_is_held_by_one_process_at_a_time(
    two_stores: tuple[PostgresStore, PostgresStore],
    schema_url: str,  # noqa: F811 - the fixture imported above
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
    schema_url: str,  # noqa: F811 - the fixture imported above
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


async def holder_pids(url: str, conversation_ids: list[str]) -> set[int]:
    """The server processes (one per session) holding the conversations' advisory locks."""
    keys = [_hold_key(c) & 0xFFFFFFFFFFFFFFFF for c in conversation_ids]
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT pid, classid, objid FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND objsubid = 1"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
    finally:
        await connection.close()
    wanted = {(key >> 32, key & 0xFFFFFFFF) for key in keys}
    return {row["pid"] for row in rows if (row["classid"], row["objid"]) in wanted}


async def test_one_process_holds_many_conversations_on_one_session(
    two_stores: tuple[PostgresStore, PostgresStore],
    schema_url: str,  # noqa: F811 - the fixture imported above
) -> None:
    # More conversations in progress at once than a connection per turn would allow.
    first, _ = two_stores
    ids = [f"slack/T/C/{n}" for n in range(200)]
    inside = 0
    all_in = asyncio.Event()
    leave = asyncio.Event()

    async def turn(conversation_id: str) -> None:
        nonlocal inside
        async with first.serialised(conversation_id):
            inside += 1
            if inside == len(ids):
                all_in.set()
            await leave.wait()

    turns = [asyncio.create_task(turn(c)) for c in ids]
    try:
        await asyncio.wait_for(all_in.wait(), 20)
        assert len(await holder_pids(schema_url, ids)) == 1
    finally:
        leave.set()
        await asyncio.wait_for(asyncio.gather(*turns), 20)
    assert await holder_pids(schema_url, ids) == set()


async def test_a_second_holder_in_one_process_waits_its_turn(
    two_stores: tuple[PostgresStore, PostgresStore],
    schema_url: str,  # noqa: F811 - the fixture imported above
) -> None:
    # Advisory locks are re-entrant within a session: the shared one must not be re-entered.
    first, _ = two_stores
    order: list[str] = []

    async def again() -> None:
        async with first.serialised("c"):
            order.append("second holder")

    async with first.serialised("c"):
        waiting = asyncio.create_task(again())
        await until_waiting(schema_url, "c")
        order.append("first holder")
    await asyncio.wait_for(waiting, 10)
    assert order == ["first holder", "second holder"]


async def test_a_process_coming_back_queues_behind_the_other(
    two_stores: tuple[PostgresStore, PostgresStore],
    schema_url: str,  # noqa: F811 - the fixture imported above
) -> None:
    # The first process lets go while the second waits: its next try must not jump the queue.
    first, second = two_stores
    order: list[str] = []
    second_inside = asyncio.Event()
    second_may_leave = asyncio.Event()

    async def second_turn() -> None:
        async with second.serialised("c"):
            order.append("second")
            second_inside.set()
            await second_may_leave.wait()

    async def first_again() -> None:
        async with first.serialised("c"):
            order.append("first again")

    async with first.serialised("c"):
        waiting = asyncio.create_task(second_turn())
        await until_waiting(schema_url, "c")
        order.append("first")
    await asyncio.wait_for(second_inside.wait(), 10)
    back = asyncio.create_task(first_again())
    await until_waiting(schema_url, "c")
    second_may_leave.set()
    await asyncio.wait_for(asyncio.gather(waiting, back), 10)
    assert order == ["first", "second", "first again"]


async def test_a_lost_shared_session_frees_its_holds_and_is_replaced(
    two_stores: tuple[PostgresStore, PostgresStore],
    schema_url: str,  # noqa: F811 - the fixture imported above
) -> None:
    first, second = two_stores
    async with first.serialised("c"):
        (pid,) = await holder_pids(schema_url, ["c"])
        admin = await asyncpg.connect(schema_url)
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        finally:
            await admin.close()
        # The server freed the lock with the session: the other process gets in.
        async with asyncio.timeout(10), second.serialised("c"):
            pass
    # Letting go on the dead session is no error, and the next turn gets a new session.
    async with asyncio.timeout(10), first.serialised("c"):
        assert (await holder_pids(schema_url, ["c"])) - {pid}


async def test_a_closed_store_refuses_to_hold(schema_url: str) -> None:  # noqa: F811 - the fixture imported above
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
