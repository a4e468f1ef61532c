"""Writes the store fixtures of tests/contracts/test_store_upgrade.py with the code of a release.

Run it from a checkout of the release whose databases the test must upgrade (the fixtures
here come from commit 7f7a53c, schema version 4):

    git worktree add --detach /tmp/store-old 7f7a53c
    cd /tmp/store-old && PYTHONPATH=. python /path/to/tests/data/store/make_old_databases.py \
        /path/to/tests/data/store postgresql://postgres@127.0.0.1:5432/test

It writes `v4.sqlite3` (a SQLite file) and `v4.postgres.sql` (`pg_dump` of a schema, with
its rows as INSERTs; the schema's name is replaced by `__SCHEMA__`), both holding the same
conversations: every table has rows.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from bots.models import Role, ThreadKey, Turn, Usage, UsageEntry
from bots.store import Store
from bots.store.activity import RetrievalOutcome
from bots.store.postgres import PostgresStore
from bots.store.sqlite import SQLiteStore

T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


async def fill(store: Store) -> None:
    await store.open()
    try:
        answered = await store.ensure_conversation(
            ThreadKey("slack", "T1", "C1", "100.1"), "cafe", T0
        )
        await store.record_incoming(
            answered.id, "Ev1", Turn(Role.USER, "When do you open?", "U1", "100.1", at(0), 5)
        )
        await store.append_turn(
            answered.id,
            Turn(Role.ASSISTANT, "At nine [hours].", "bot", "100.2", at(1), 4, ("hours",)),
        )
        await store.add_usage(answered.id, Usage(900, 20))
        await store.record_usage(
            UsageEntry(at(1), "U1", "slack:T1:C1", answered.id, "gpt-4o-mini", Usage(900, 20))
        )
        await store.record_retrieval(
            answered.id, RetrievalOutcome("100.1", "hours", 0.92, True, at(0))
        )
        await store.add_feedback(answered.id, "100.2", "U1", True, at(2))

        handed = await store.ensure_conversation(
            ThreadKey("discord", "G1", "D1", "200"), "cafe", at(10)
        )
        await store.record_incoming(
            handed.id, "Ev2", Turn(Role.USER, "I want a person please", "U2", "200", at(10), 5)
        )
        await store.record_retrieval(handed.id, RetrievalOutcome("200", None, 0.1, False, at(10)))
        await store.set_counters(handed.id, failed_turns=1, offer_reason="no_answer")
        await store.open_handoff(
            handed.id, "user_asked", "asked for a person", ["wants a person"], at(11)
        )
        await store.claim_handoff(handed.id, "S1", at(12))
        await store.append_turn(
            handed.id, Turn(Role.STAFF, "Hi, Sam here.", "S1", "201", at(13), 3)
        )
        await store.resolve_handoff(handed.id, "S1", at(20))
        await store.add_feedback(handed.id, "201", "U2", False, at(21))

        waiting = await store.ensure_conversation(
            ThreadKey("slack", "T1", "C2", "300.1"), "cafe", at(30)
        )
        await store.record_incoming(
            waiting.id, "Ev3", Turn(Role.USER, "Is the terrace open?", "U3", "300.1", at(30), 4)
        )
        await store.open_handoff(waiting.id, "no_answer", "", ["terrace?"], at(31))
    finally:
        await store.close()


def _pg_dump(server: str, schema: str) -> str:
    command = ["pg_dump", "--schema", schema, "--inserts", "--no-owner", "--no-privileges"]
    return subprocess.run([*command, server], check=True, capture_output=True, text=True).stdout


async def main(folder: Path, server: str) -> None:
    sqlite_file = folder / "v4.sqlite3"
    sqlite_file.unlink(missing_ok=True)
    await fill(SQLiteStore(sqlite_file))

    schema = f"bots_old_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f"CREATE SCHEMA {schema}")
        await fill(PostgresStore(f"{server}?search_path={schema}"))
        dump = await asyncio.to_thread(_pg_dump, server, schema)
    finally:
        await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await admin.close()
    kept = [
        line
        for line in dump.splitlines()
        # psql's own commands, and the schema itself: the test makes one of its own.
        if not line.startswith("\\") and not line.startswith(f"CREATE SCHEMA {schema}")
    ]
    (folder / "v4.postgres.sql").write_text("\n".join(kept).replace(schema, "__SCHEMA__") + "\n")


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2]))
