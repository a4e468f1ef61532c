"""`bots forget`: the real command line against a SQLite file and a PostgreSQL schema."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from bots.app.forget_commands import describe
from bots.models import Forgotten, Role, ThreadKey, Turn, Usage, UsageEntry
from bots.store import Store, open_store
from tests.contracts.test_store_postgres import SERVER_URL, _require_server, _with_search_path
from tests.support.cli_runner import clean_env, run_bots

T0 = datetime(2024, 5, 1, 12, tzinfo=UTC)
MINE = ThreadKey("slack", "T1", "C1", "100.1")
THEIRS = ThreadKey("slack", "T1", "C1", "200.2")


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A SQLite file, or a schema of its own on the PostgreSQL server (dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bots.sqlite3'}"
        return
    await _require_server()
    schema = f"bots_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(SERVER_URL, timeout=3)
    try:
        await admin.execute(f"CREATE SCHEMA {schema}")
        yield _with_search_path(SERVER_URL, schema)
    finally:
        await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await admin.close()


async def seeded(url: str) -> Store:
    store = open_store(url)
    await store.open()
    mine = await store.ensure_conversation(MINE, "restaurant", T0)
    theirs = await store.ensure_conversation(THEIRS, "restaurant", T0)
    turn = Turn(Role.USER, "I am U42, mail me at a@b.co", "U42", "m1", T0, 9)
    await store.record_incoming(mine.id, "e1", turn)
    await store.append_turn(mine.id, Turn(Role.ASSISTANT, "Sure", "bot", "", T0, 2))
    await store.open_handoff(mine.id, "user_asked", "", ["U42 wants mail at a@b.co"], T0)
    other = Turn(Role.USER, "I am U7", "U7", "m2", T0, 4)
    await store.record_incoming(theirs.id, "e2", other)
    await store.record_usage(UsageEntry(T0, "U42", "slack/T1/C1/", mine.id, "m", Usage(5, 1)))
    return store


def forget(url: str, *args: str) -> str:
    result = run_bots(["forget", *args], clean_env(DATABASE_URL=url), timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


async def test_forget_user_deletes_their_conversations(database_url: str) -> None:
    store = await seeded(database_url)
    try:
        said = forget(database_url, "--user", "U42")
        assert said == (
            "Forgot user U42: deleted 1 conversation, 2 messages, 1 hand-off record, "
            "0 feedback marks and 1 processed-event id. 1 token usage record kept for cost "
            "reports no longer names the user."
        )
        assert await store.get_conversation(MINE) is None
        theirs = await store.get_conversation(THEIRS)
        assert theirs is not None
        assert [t.text for t in await store.recent_turns(theirs.id, 5)] == ["I am U7"]
        assert await store.usage_on(T0.date(), user_id="U42") == Usage()
        assert await store.usage_on(T0.date()) == Usage(5, 1)
        assert forget(database_url, "--user", "U42") == (
            "Nothing to forget: the database holds nothing about user U42."
        )
    finally:
        await store.close()


async def test_forget_conversation_deletes_it_alone(database_url: str) -> None:
    store = await seeded(database_url)
    try:
        said = forget(database_url, "--conversation", THEIRS.as_id())
        assert said.startswith(f"Forgot conversation {THEIRS.as_id()}: deleted 1 conversation,")
        assert "1 message," in said
        assert await store.get_conversation(THEIRS) is None
        assert await store.get_conversation(MINE) is not None
    finally:
        await store.close()


def test_forget_needs_one_of_conversation_or_user(tmp_path: Path) -> None:
    env = clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}")
    result = run_bots(["forget"], env, timeout=60)
    assert result.returncode == 2
    assert "one of the arguments --conversation --user is required" in result.stderr


def test_describe_counts_in_plain_words() -> None:
    text = describe(Forgotten(2, 1, 0, 3, 2, 0), "user U1")
    assert text == (
        "Forgot user U1: deleted 2 conversations, 1 message, 0 hand-off records, "
        "3 feedback marks and 2 processed-event ids."
    )
