"""The SQLite store: the shared store contract, plus what only a file-backed store promises."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from bots.errors import StoreError
from bots.models import ConversationState, Usage
from bots.store import open_store
from bots.store.schema import MIGRATIONS
from bots.store.sqlite import WRITER_AUTOCHECKPOINT_PAGES, SQLiteStore

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


@pytest.fixture(params=["file", "memory"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    where = tmp_path / "bots.sqlite3" if request.param == "file" else ":memory:"
    opened = SQLiteStore(where)
    await opened.open()
    yield opened
    await opened.close()


class TestSQLiteStoreContract(
    StoreContract,
    PrivacyStoreContract,
    ReportStoreContract,
    GroundingStoreContract,
    DeskStoreContract,
    EntryPointsStoreContract,
    EntryUseStoreContract,
):
    """Every contract case, on a temporary file and on ":memory:"."""


# -- SQLite only ------------------------------------------------------------------------


async def test_restart_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "bots.sqlite3"
    first = SQLiteStore(path)
    await first.open()
    conversation = await first.ensure_conversation(KEY, "restaurant", T0)
    assert await first.record_incoming(conversation.id, "Ev1", make_turn("hi", seconds=1))
    await first.append_turn(conversation.id, make_turn("hello!", seconds=2))
    await first.add_usage(conversation.id, Usage(100, 20))
    await first.set_state(conversation.id, ConversationState.HUMAN, at(3))
    await first.close()

    second = SQLiteStore(path)
    await second.open()
    try:
        restored = await second.get_conversation(KEY)
        assert restored is not None
        assert restored.state is ConversationState.HUMAN
        assert restored.persona == "restaurant"
        assert [t.text for t in await second.recent_turns(conversation.id, 10)] == [
            "hi",
            "hello!",
        ]
        assert await second.usage(conversation.id) == Usage(100, 20)
        # The processed-event record survived too: a redelivery after restart is ignored.
        assert not await second.record_incoming(conversation.id, "Ev1", make_turn("hi"))
    finally:
        await second.close()


async def test_wal_mode_and_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "bots.sqlite3"
    store = SQLiteStore(path)
    await store.open()
    try:
        assert await store.schema_version() == len(MIGRATIONS)
        with sqlite3.connect(path) as raw:
            assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert raw.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    finally:
        await store.close()


async def test_reopening_does_not_migrate_again(tmp_path: Path) -> None:
    path = tmp_path / "bots.sqlite3"
    for _ in range(2):
        store = SQLiteStore(path)
        await store.open()
        assert await store.schema_version() == len(MIGRATIONS)
        await store.close()


async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bots.sqlite3"
    newer = len(MIGRATIONS) + 1
    with sqlite3.connect(path) as raw:
        raw.execute(f"PRAGMA user_version = {newer}")

    store = SQLiteStore(path)
    with pytest.raises(StoreError, match="newer version of the bot"):
        await store.open()

    with sqlite3.connect(path) as raw:  # left exactly as it was
        assert raw.execute("PRAGMA user_version").fetchone()[0] == newer
        assert raw.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0


async def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("this is not a database, it is a shopping list\n" * 100)
    with pytest.raises(StoreError, match=r"notes\.txt"):
        await SQLiteStore(path).open()


async def test_missing_parent_folders_are_created(tmp_path: Path) -> None:
    path = tmp_path / "state" / "bots" / "bots.sqlite3"
    store = SQLiteStore(path)
    await store.open()
    await store.close()
    assert path.is_file()


async def test_open_store_url_gives_working_sqlite_store(tmp_path: Path) -> None:
    path = tmp_path / "bots.sqlite3"
    store = open_store("sqlite:///" + str(path))
    assert isinstance(store, SQLiteStore)
    await store.open()
    try:
        conversation = await store.ensure_conversation(KEY, "restaurant", T0)
        assert await store.record_incoming(conversation.id, "Ev1", make_turn())
    finally:
        await store.close()
    assert path.is_file()


async def test_memory_store_via_url() -> None:
    store = open_store("sqlite:///:memory:")
    await store.open()
    try:
        conversation = await store.ensure_conversation(KEY, "restaurant", T0)
        assert await store.get_conversation(KEY) == conversation
    finally:
        await store.close()


async def test_calls_before_open_or_after_close_fail_plainly(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "bots.sqlite3")
    with pytest.raises(StoreError, match="not open"):
        await store.get_conversation(KEY)
    await store.open()
    await store.close()
    await store.close()  # twice is fine
    with pytest.raises(StoreError, match="not open"):
        await store.usage(KEY.as_id())


async def test_naive_datetimes_are_rejected() -> None:
    store = SQLiteStore(":memory:")
    await store.open()
    try:
        with pytest.raises(ValueError, match="timezone-aware"):
            await store.ensure_conversation(KEY, "restaurant", datetime(2024, 5, 1, 12))
    finally:
        await store.close()


async def test_two_stores_on_one_file_record_an_event_once(tmp_path: Path) -> None:
    """Two connections (as two bot processes would have) share the file safely."""
    path = tmp_path / "bots.sqlite3"
    one, two = SQLiteStore(path), SQLiteStore(path)
    await one.open()
    await two.open()
    try:
        conversation = await one.ensure_conversation(KEY, "restaurant", T0)
        results = await asyncio.gather(
            *(
                store.record_incoming(conversation.id, "Ev-shared", make_turn(f"copy {i}"))
                for i in range(20)
                for store in (one, two)
            )
        )
        assert results.count(True) == 1
        assert len(await two.recent_turns(conversation.id, 100)) == 1
    finally:
        await one.close()
        await two.close()


async def test_the_wal_stays_bounded_under_sustained_writes(tmp_path: Path) -> None:
    path = tmp_path / "bots.sqlite3"
    store = SQLiteStore(path)
    await store.open()
    try:
        conversation = await store.ensure_conversation(KEY, "restaurant", T0)
        wal = path.with_name(path.name + "-wal")
        writes = 3_000
        for n in range(writes):
            turn = make_turn(f"turn {n} " + "x" * 200, seconds=n)
            await store.append_turn(conversation.id, turn)
        # Each write leaves several pages in the WAL (over 60 MB for these writes if it were
        # never checkpointed); the checkpoints keep it near the writer's threshold.
        assert wal.stat().st_size < (WRITER_AUTOCHECKPOINT_PAGES + 1_000) * 4096
    finally:
        await store.close()  # also on failure: an open store's thread keeps pytest from exiting
    assert len(await asyncio.to_thread(_count_turns, path)) == writes


def _count_turns(path: Path) -> list[tuple[int]]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT id FROM turns").fetchall()
