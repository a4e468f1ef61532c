"""The PostgreSQL store: the shared store contract, plus what only a shared server promises.

Each test gets a schema of its own in the `test` database (created before, dropped after,
chosen through the URL's `search_path` setting), so tests never see each other's rows. Set
BOTS_TEST_POSTGRES_URL to use another server. Without a server the tests skip, except
under CI=true, where they fail: CI must never skip them silently.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from bots.errors import StoreError
from bots.models import ConversationState, Usage
from bots.store import open_store
from bots.store.postgres import PostgresStore
from bots.store.schema import MIGRATIONS

# The contract is a helper module, not a test module: ask pytest to rewrite its asserts.
pytest.register_assert_rewrite(
    "tests.contracts.store_contract",
    "tests.contracts.store_privacy_contract",
    "tests.contracts.store_report_contract",
    "tests.contracts.store_entry_use_contract",
    "tests.contracts.store_desk_contract",
    "tests.contracts.store_entry_contract",
)
from tests.contracts.store_contract import KEY, T0, StoreContract, at, make_turn  # noqa: E402 - after register_assert_rewrite
from tests.contracts.store_desk_contract import DeskStoreContract  # noqa: E402 - after register_assert_rewrite
from tests.contracts.store_entry_contract import EntryPointsStoreContract  # noqa: E402 - after register_assert_rewrite
from tests.contracts.store_entry_use_contract import EntryUseStoreContract  # noqa: E402 - after register_assert_rewrite
from tests.contracts.store_grounding_contract import GroundingStoreContract  # noqa: E402 - after register_assert_rewrite
from tests.contracts.store_privacy_contract import PrivacyStoreContract  # noqa: E402 - after register_assert_rewrite
from tests.contracts.store_report_contract import ReportStoreContract  # noqa: E402 - after register_assert_rewrite

SERVER_URL = os.environ.get("BOTS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
PROBE_TIMEOUT_SECONDS = 3.0
_server_problem: list[str] = []  # filled once by the first probe: "" when the server answered


async def _require_server() -> None:
    """Skip (or, under CI=true, fail) the test when the PostgreSQL server does not answer."""
    if not _server_problem:
        try:
            connection = await asyncpg.connect(SERVER_URL, timeout=PROBE_TIMEOUT_SECONDS)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            _server_problem.append(f"{type(exc).__name__}: {exc}")
        else:
            await connection.close()
            _server_problem.append("")
    problem = _server_problem[0]
    if problem:
        where = urlsplit(SERVER_URL)
        reason = f"no PostgreSQL server at {where.hostname}:{where.port}: {problem}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: this must not be skipped)")
        pytest.skip(reason)


def _with_search_path(url: str, schema: str) -> str:
    parts = urlsplit(url)
    query = f"{parts.query}&search_path={schema}" if parts.query else f"search_path={schema}"
    return urlunsplit(parts._replace(query=query))


@pytest.fixture
async def schema_url() -> AsyncIterator[str]:
    """A URL whose tables live in a new, empty schema; the schema is dropped afterwards."""
    await _require_server()
    schema = f"bots_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(SERVER_URL, timeout=PROBE_TIMEOUT_SECONDS)
    try:
        await admin.execute(f"CREATE SCHEMA {schema}")
        yield _with_search_path(SERVER_URL, schema)
    finally:
        await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await admin.close()


@pytest.fixture
async def store(schema_url: str) -> AsyncIterator[PostgresStore]:
    opened = PostgresStore(schema_url)
    await opened.open()
    yield opened
    await opened.close()


class TestPostgresStoreContract(
    StoreContract,
    PrivacyStoreContract,
    ReportStoreContract,
    GroundingStoreContract,
    DeskStoreContract,
    EntryPointsStoreContract,
    EntryUseStoreContract,
):
    """Every contract case, each in a fresh schema."""


# -- PostgreSQL only --------------------------------------------------------------------


async def _tables(url: str) -> set[str]:
    connection = await asyncpg.connect(url, timeout=PROBE_TIMEOUT_SECONDS)
    try:
        rows = await connection.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
    finally:
        await connection.close()
    return {row["table_name"] for row in rows}


async def test_restart_loses_nothing(schema_url: str) -> None:
    first = PostgresStore(schema_url)
    await first.open()
    conversation = await first.ensure_conversation(KEY, "restaurant", T0)
    assert await first.record_incoming(conversation.id, "Ev1", make_turn("hi", seconds=1))
    await first.append_turn(conversation.id, make_turn("hello!", seconds=2))
    await first.add_usage(conversation.id, Usage(100, 20))
    await first.set_state(conversation.id, ConversationState.HUMAN, at(3))
    await first.close()

    second = PostgresStore(schema_url)
    await second.open()
    try:
        restored = await second.get_conversation(KEY)
        assert restored is not None
        assert restored.state is ConversationState.HUMAN
        assert restored.persona == "restaurant"
        assert restored.updated_at == at(3)
        assert [t.text for t in await second.recent_turns(conversation.id, 10)] == [
            "hi",
            "hello!",
        ]
        assert await second.usage(conversation.id) == Usage(100, 20)
        # The processed-event record survived too: a redelivery after restart is ignored.
        assert not await second.record_incoming(conversation.id, "Ev1", make_turn("hi"))
    finally:
        await second.close()


async def test_times_come_back_in_utc(store: PostgresStore) -> None:
    conversation = await store.ensure_conversation(KEY, "restaurant", T0)
    await store.append_turn(conversation.id, make_turn())
    stored = await store.get_conversation(KEY)
    turns = await store.recent_turns(conversation.id, 1)
    assert stored is not None
    assert stored.created_at.utcoffset() == UTC.utcoffset(None)
    assert turns[0].created_at.utcoffset() == UTC.utcoffset(None)


async def test_schema_version_and_reopening_does_not_migrate_again(schema_url: str) -> None:
    for _ in range(2):
        store = PostgresStore(schema_url)
        await store.open()
        try:
            assert await store.schema_version() == len(MIGRATIONS)
        finally:
            await store.close()
    connection = await asyncpg.connect(schema_url)
    try:
        versions = await connection.fetch("SELECT version FROM schema_version ORDER BY version")
    finally:
        await connection.close()
    assert [row["version"] for row in versions] == list(range(1, len(MIGRATIONS) + 1))
    assert {"conversations", "turns", "processed_events", "handoffs"} <= await _tables(schema_url)


async def test_processes_starting_together_migrate_once(schema_url: str) -> None:
    stores = [PostgresStore(schema_url) for _ in range(4)]
    await asyncio.gather(*(s.open() for s in stores))
    try:
        assert [await s.schema_version() for s in stores] == [len(MIGRATIONS)] * 4
    finally:
        await asyncio.gather(*(s.close() for s in stores))


async def test_newer_schema_is_refused(schema_url: str) -> None:
    newer = len(MIGRATIONS) + 1
    connection = await asyncpg.connect(schema_url)
    try:
        await connection.execute("CREATE TABLE schema_version (version integer PRIMARY KEY)")
        await connection.execute("INSERT INTO schema_version VALUES ($1)", newer)
    finally:
        await connection.close()

    store = PostgresStore(schema_url)
    with pytest.raises(StoreError, match="newer version of the bot") as caught:
        await store.open()
    assert f"schema version {newer}" in str(caught.value)
    assert await _tables(schema_url) == {"schema_version"}  # left exactly as it was
    with pytest.raises(StoreError, match="not open"):
        await store.get_conversation(KEY)


async def test_two_stores_record_an_event_once(schema_url: str) -> None:
    """Two pools (as two bot processes would have) racing on one event id: one wins."""
    one, two = PostgresStore(schema_url), PostgresStore(schema_url)
    await one.open()
    await two.open()
    try:
        conversation = await one.ensure_conversation(KEY, "restaurant", T0)
        results = await asyncio.gather(
            *(
                store.record_incoming(conversation.id, "Ev-shared", make_turn(f"copy {i}"))
                for i in range(10)
                for store in (one, two)
            )
        )
        assert len(results) == 20
        assert results.count(True) == 1
        assert len(await two.recent_turns(conversation.id, 100)) == 1
        assert len(await one.recent_turns(conversation.id, 100)) == 1
    finally:
        await one.close()
        await two.close()


async def test_two_stores_hand_a_conversation_over_once(schema_url: str) -> None:
    one, two = PostgresStore(schema_url), PostgresStore(schema_url)
    await one.open()
    await two.open()
    try:
        conversation = await one.ensure_conversation(KEY, "restaurant", T0)
        opened = await asyncio.gather(
            *(
                store.open_handoff(conversation.id, "r", "", [], at(i))
                for i in range(5)
                for store in (one, two)
            )
        )
        assert len([h for h in opened if h is not None]) == 1
        claims = await asyncio.gather(
            *(
                store.claim_handoff(conversation.id, f"staff-{i}", at(10))
                for i in range(5)
                for store in (one, two)
            )
        )
        assert claims.count(True) == 1
        resolved = await asyncio.gather(
            *(store.resolve_handoff(conversation.id, "s", at(20)) for store in (one, two) * 5)
        )
        assert len([h for h in resolved if h is not None]) == 1
    finally:
        await one.close()
        await two.close()


async def test_updated_at_never_moves_backwards(store: PostgresStore) -> None:
    conversation = await store.ensure_conversation(KEY, "restaurant", T0)
    await store.append_turn(conversation.id, make_turn(seconds=50))
    await store.append_turn(conversation.id, make_turn(seconds=10))
    assert await store.record_incoming(conversation.id, "Ev1", make_turn(seconds=20))
    await store.set_state(conversation.id, ConversationState.HUMAN, at(30))
    stored = await store.get_conversation(KEY)
    assert stored is not None
    assert stored.updated_at == at(50)


def _server_url_with_password(database: str) -> str:
    """The test server's URL with a password added and another database named."""
    parts = urlsplit(SERVER_URL)
    netloc = f"{parts.username or 'postgres'}:hunter2-pg-secret@{parts.hostname}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc, path=f"/{database}"))


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("postgresql://postgres:hunter2-pg-secret@127.0.0.1:1/test", id="refused"),
        pytest.param(None, id="no-such-database"),  # the test server, another database
        pytest.param("postgres://postgres@127.0.0.1:1/test?password=hunter2-pg-secret", id="query"),
        pytest.param("postgresql://postgres:hunter2-pg-secret@127.0.0.1:x/test", id="bad-port"),
    ],
)
async def test_a_connection_failure_never_shows_the_password(url: str | None) -> None:
    if url is None:
        await _require_server()
        url = _server_url_with_password("no_such_database_here")
    store = open_store(url)
    with pytest.raises(StoreError) as caught:
        await store.open()
    message = str(caught.value)
    assert "hunter2" not in message
    assert "hunter2" not in repr(store)
    assert "\n" not in message
    assert message.startswith("cannot connect to the PostgreSQL database")
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_open_store_picks_postgres_for_both_schemes() -> None:
    assert isinstance(open_store("postgresql://u@h/db"), PostgresStore)
    assert isinstance(open_store("postgres://u@h/db"), PostgresStore)


async def test_calls_before_open_or_after_close_fail_plainly(schema_url: str) -> None:
    store = PostgresStore(schema_url)
    with pytest.raises(StoreError, match="not open"):
        await store.get_conversation(KEY)
    await store.open()
    await store.close()
    await store.close()  # twice is fine
    with pytest.raises(StoreError, match="not open"):
        await store.usage(KEY.as_id())


async def test_naive_datetimes_are_rejected(store: PostgresStore) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.ensure_conversation(KEY, "restaurant", datetime(2024, 5, 1, 12))
