"""Databases written by an earlier release upgrade in place with `bots db upgrade`.

The fixtures in tests/data/store were written by the code of commit 7f7a53c (schema version
4, before the two stores became one; tests/data/store/make_old_databases.py says how): a
SQLite file, and a `pg_dump` of a PostgreSQL schema. Each is upgraded by the real command,
then read and written through today's store, and its schema must be the one a fresh
database gets.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bots.models import ConversationState, Role, ThreadKey, Turn, Usage
from bots.store import Store, open_store
from bots.store.postgres import PostgresStore
from bots.store.schema import MIGRATIONS
from bots.store.sqlite import SQLiteStore
from tests.contracts.test_store_postgres import schema_url  # noqa: F401 - a fixture
from tests.support.cli_runner import clean_env, run_bots
from tests.support.paths import REPO_ROOT

FIXTURES = REPO_ROOT / "tests" / "data" / "store"
OLD_SQLITE = FIXTURES / "v4.sqlite3"
OLD_POSTGRES = FIXTURES / "v4.postgres.sql"
ANSWERED = ThreadKey("slack", "T1", "C1", "100.1")
HANDED = ThreadKey("discord", "G1", "D1", "200")
WAITING = ThreadKey("slack", "T1", "C2", "300.1")


def upgrade(url: str) -> None:
    done = run_bots(["db", "upgrade"], clean_env(DATABASE_URL=url))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"database is at schema version {len(MIGRATIONS)}"


async def assert_the_old_rows_live_on(store: Store) -> None:
    """What make_old_databases.py wrote reads back, and the store goes on writing."""
    await store.open()
    try:
        answered = await store.get_conversation(ANSWERED)
        handed = await store.get_conversation(HANDED)
        waiting = await store.get_conversation(WAITING)
        assert answered is not None
        assert handed is not None
        assert waiting is not None
        assert [t.text for t in await store.recent_turns(answered.id, 10)] == [
            "When do you open?",
            "At nine [hours].",
        ]
        assert (await store.recent_turns(answered.id, 10))[1].cited_ids == ("hours",)
        assert await store.usage(answered.id) == Usage(900, 20)
        assert handed.state is ConversationState.RESOLVED
        closed = await store.current_handoff(handed.id)
        assert closed is not None
        assert closed.summary == ("wants a person",)
        assert (closed.claimed_by, closed.resolved_by) == ("S1", "S1")
        assert waiting.state is ConversationState.WAITING_FOR_HUMAN
        since = answered.created_at
        assert [h.conversation_id for h in await store.unclaimed_handoffs(since.replace(2030))] == [
            waiting.id
        ]
        report = await store.activity(since, since.replace(2030))
        assert report.conversations.total == 3
        assert (report.thumbs_up, report.thumbs_down, report.questions) == (1, 1, 2)
        assert [q.text for q in report.unmatched] == ["I want a person please"]
        assert await store.usage_on(since.date(), user_id="U1") == Usage(900, 20)

        # A redelivered old event is still answered once; new ones are recorded.
        again = Turn(Role.USER, "When do you open?", "U1", "100.1", since, 5)
        assert not await store.record_incoming(answered.id, "Ev1", again)
        later = Turn(Role.USER, "And on Sunday?", "U1", "100.3", since.replace(2027), 3)
        assert await store.record_incoming(answered.id, "Ev4", later)
        assert await store.claim_handoff(waiting.id, "S2", since.replace(2027))
        forgotten = await store.forget_user("U2")
        assert (forgotten.conversations, forgotten.handoffs) == (1, 1)
    finally:
        await store.close()


# -- SQLite ------------------------------------------------------------------------------


def _sqlite_schema(path: Path) -> dict[str, Any]:
    """Every table's columns, every index's columns, and the triggers and views, by name."""
    with sqlite3.connect(path) as db:
        objects = db.execute("SELECT type, name, tbl_name FROM sqlite_master").fetchall()
        described: dict[str, Any] = {}
        for kind, name, table in objects:
            if kind == "table":
                columns = db.execute(f"PRAGMA table_info({name})").fetchall()
                described[name] = [(c[1], c[2].lower(), c[3], c[4], c[5]) for c in columns]
            elif kind == "index":
                info = db.execute(f"PRAGMA index_info({name})").fetchall()
                described[name] = (table, [c[2] for c in info])
            else:
                described[name] = (kind, table)
    return described


async def test_a_sqlite_file_of_schema_version_4_upgrades_in_place(tmp_path: Path) -> None:
    path = tmp_path / "bots.sqlite3"
    shutil.copy(OLD_SQLITE, path)
    await asyncio.to_thread(upgrade, f"sqlite:///{path}")
    await assert_the_old_rows_live_on(SQLiteStore(path))


async def test_the_upgraded_sqlite_schema_is_a_fresh_one(tmp_path: Path) -> None:
    upgraded, fresh = tmp_path / "upgraded.sqlite3", tmp_path / "fresh.sqlite3"
    shutil.copy(OLD_SQLITE, upgraded)
    for path in (upgraded, fresh):
        store = open_store(f"sqlite:///{path}")
        await store.open()
        await store.close()
    assert _sqlite_schema(upgraded) == _sqlite_schema(fresh)


# -- PostgreSQL --------------------------------------------------------------------------


async def _load_old_schema(url: str) -> None:
    """The captured schema and rows of the old release, in the test's own schema."""
    connection = await asyncpg.connect(url)
    try:
        schema = await connection.fetchval("SELECT current_schema()")
        await connection.execute(OLD_POSTGRES.read_text().replace("__SCHEMA__", schema))
    finally:
        await connection.close()


async def _postgres_schema(url: str) -> dict[str, Any]:
    connection = await asyncpg.connect(url)
    try:
        schema = await connection.fetchval("SELECT current_schema()")
        columns = await connection.fetch(
            "SELECT table_name, column_name, data_type, is_nullable, column_default,"
            " is_identity FROM information_schema.columns WHERE table_schema = $1",
            schema,
        )
        indexes = await connection.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1", schema
        )
        constraints = await connection.fetch(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE connamespace = $1::regnamespace",
            schema,
        )
    finally:
        await connection.close()
    return {
        "columns": sorted(tuple(row) for row in columns if row["table_name"] != "schema_version"),
        "indexes": sorted((row[0], row[1].replace(f"{schema}.", "")) for row in indexes),
        "constraints": sorted(tuple(row) for row in constraints),
    }


async def test_a_postgres_schema_of_version_4_upgrades_in_place(
    schema_url: str,  # noqa: F811 - the fixture
) -> None:
    await _load_old_schema(schema_url)
    await asyncio.to_thread(upgrade, schema_url)
    await assert_the_old_rows_live_on(PostgresStore(schema_url))


async def test_the_upgraded_postgres_schema_is_a_fresh_one(
    schema_url: str,  # noqa: F811 - the fixture
) -> None:
    await _load_old_schema(schema_url)
    old_store = PostgresStore(schema_url)
    await old_store.open()
    await old_store.close()
    upgraded = await _postgres_schema(schema_url)

    connection = await asyncpg.connect(schema_url)
    try:
        schema = await connection.fetchval("SELECT current_schema()")
        fresh_schema = f"{schema}_fresh"
        await connection.execute(f"CREATE SCHEMA {fresh_schema}")
    finally:
        await connection.close()
    fresh_url = schema_url.replace(f"search_path={schema}", f"search_path={fresh_schema}")
    try:
        store = PostgresStore(fresh_url)
        await store.open()
        await store.close()
        fresh = await _postgres_schema(fresh_url)
    finally:
        connection = await asyncpg.connect(schema_url)
        try:
            await connection.execute(f"DROP SCHEMA {fresh_schema} CASCADE")
        finally:
            await connection.close()
    assert upgraded == fresh


def test_the_fixtures_are_there() -> None:
    """A missing fixture must fail loudly, not skip (the upgrade tests above need both)."""
    if not OLD_SQLITE.is_file() or not OLD_POSTGRES.is_file():
        pytest.fail("tests/data/store/v4.* are missing: see make_old_databases.py")
