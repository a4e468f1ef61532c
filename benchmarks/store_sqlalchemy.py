"""Benchmark: the store's hot queries, the project's store against a SQLAlchemy Core prototype.

Prints one JSON object on stdout (progress on stderr):

    pip install "sqlalchemy[asyncio]"   # not a dependency of the bot: only this comparison
    python benchmarks/store_sqlalchemy.py [--rounds 2000] \
        [--postgres postgresql://postgres@127.0.0.1:5432/test] [--only sqlite|postgres]

The three queries every turn runs (record the incoming event and its turn, append the
reply, read the history), one at a time, `--rounds` times each on a fresh database (a
SQLite file; a PostgreSQL schema of its own, dropped afterwards), through:

- `store`: the project's store (`SQLiteStore` / `PostgresStore`), as the engine calls it;
- `sqlalchemy_core`: the same three operations written once in SQLAlchemy Core (async
  engine over aiosqlite / asyncpg, Table objects, a TypeDecorator per column type that
  differs, the dialects' `insert().on_conflict_do_nothing()`), on the schema the store made.

This is the prototype issue 16 asked for to choose between SQLAlchemy and a hand-written
seam: per-call latency (p50/p99 microseconds) and calls per second, side by side, one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bots.models import Role, ThreadKey, Turn
from bots.store import Store
from bots.store.postgres import PostgresStore
from bots.store.sqlite import SQLiteStore

T0 = datetime(2024, 5, 1, 12, tzinfo=UTC)
HISTORY = 20


class Moment(sa.types.TypeDecorator[datetime]):
    """timestamptz on PostgreSQL; fixed-width UTC ISO text on SQLite (the store's format)."""

    impl = sa.Text
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.TIMESTAMP(timezone=True))
        return dialect.type_descriptor(sa.Text())

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> Any:
        if value is None or dialect.name == "postgresql":
            return value
        return value.astimezone(UTC).isoformat(timespec="microseconds")

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> datetime | None:
        if value is None or dialect.name == "postgresql":
            return value  # type: ignore[no-any-return]
        return datetime.fromisoformat(value)


class Names(sa.types.TypeDecorator[list[str]]):
    """text[] on PostgreSQL; a JSON list in text on SQLite."""

    impl = sa.Text
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.ARRAY(sa.Text()))
        return dialect.type_descriptor(sa.Text())

    def process_bind_param(self, value: list[str] | None, dialect: sa.Dialect) -> Any:
        return value if dialect.name == "postgresql" else json.dumps(value or [])

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> list[str]:
        return list(value) if dialect.name == "postgresql" else json.loads(value)


metadata = sa.MetaData()
conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("updated_at", Moment),
)
turns = sa.Table(
    "turns",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("conversation_id", sa.Text),
    sa.Column("role", sa.Text),
    sa.Column("text", sa.Text),
    sa.Column("author_id", sa.Text),
    sa.Column("message_id", sa.Text),
    sa.Column("created_at", Moment),
    sa.Column("token_count", sa.Integer),
    sa.Column("cited_ids", Names),
)
processed_events = sa.Table(
    "processed_events",
    metadata,
    sa.Column("event_id", sa.Text, primary_key=True),
    sa.Column("conversation_id", sa.Text),
    sa.Column("processed_at", Moment),
)


class CoreStore:
    """The three hot operations, written once for both databases in SQLAlchemy Core."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    async def record_incoming(self, conversation_id: str, event_id: str, turn: Turn) -> bool:
        async with self.engine.begin() as connection:
            marked = await connection.execute(
                self._insert(processed_events)
                .values(
                    event_id=event_id, conversation_id=conversation_id, processed_at=turn.created_at
                )
                .on_conflict_do_nothing()
            )
            if marked.rowcount != 1:
                return False
            await self._append(connection, conversation_id, turn)
        return True

    async def append_turn(self, conversation_id: str, turn: Turn) -> None:
        async with self.engine.begin() as connection:
            await self._append(connection, conversation_id, turn)

    async def _append(self, connection: Any, conversation_id: str, turn: Turn) -> None:
        await connection.execute(
            sa.insert(turns).values(
                conversation_id=conversation_id,
                role=turn.role.value,
                text=turn.text,
                author_id=turn.author_id,
                message_id=turn.message_id,
                created_at=turn.created_at,
                token_count=turn.token_count,
                cited_ids=list(turn.cited_ids),
            )
        )
        await connection.execute(
            sa.update(conversations)
            .where(conversations.c.id == conversation_id)
            .where(conversations.c.updated_at < turn.created_at)
            .values(updated_at=turn.created_at)
        )

    async def recent_turns(self, conversation_id: str, limit: int) -> list[Turn]:
        query = (
            sa.select(
                turns.c.role,
                turns.c.text,
                turns.c.author_id,
                turns.c.message_id,
                turns.c.created_at,
                turns.c.token_count,
                turns.c.cited_ids,
            )
            .where(turns.c.conversation_id == conversation_id)
            .order_by(turns.c.id.desc())
            .limit(limit)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [Turn(Role(r[0]), r[1], r[2], r[3], r[4], r[5], tuple(r[6])) for r in reversed(rows)]


def make_turn(n: int) -> Turn:
    return Turn(Role.USER, f"question {n} " + "x" * 80, "U1", f"m{n}", T0 + timedelta(seconds=n), 9)


def summary(timed_calls: list[tuple[float, float]]) -> dict[str, int]:
    timings = sorted(wall for wall, _ in timed_calls)
    return {
        "p50_us": round(statistics.median(timings)),
        "p99_us": round(timings[int(len(timings) * 0.99) - 1]),
        "calls_per_second": round(len(timings) / (sum(timings) / 1e6)),
        # The process's CPU (every thread: aiosqlite's too), which other load disturbs less.
        "cpu_us_per_call": round(sum(cpu for _, cpu in timed_calls) / len(timed_calls)),
    }


async def timed(call: Awaitable[object]) -> tuple[float, float]:
    """Wall-clock and CPU microseconds of one call."""
    started, cpu_started = time.perf_counter(), time.process_time()
    await call
    return (time.perf_counter() - started) * 1e6, (time.process_time() - cpu_started) * 1e6


async def compare(
    store: Store,
    engine_url: str,
    rounds: int,
    connect_args: dict[str, Any] | None = None,
    *,
    store_only: bool = False,
) -> dict[str, object]:
    """Each operation `rounds` times on each side, interleaved call by call, so that other
    load on the machine falls on both sides alike."""
    await store.open()
    engine = create_async_engine(engine_url, pool_size=10, connect_args=connect_args or {})
    if engine.dialect.name == "sqlite":
        # The store's own connection settings (bots/store/sqlite.py), or the comparison is unfair.
        @sa.event.listens_for(engine.sync_engine, "connect")
        def configure(connection: Any, _record: Any) -> None:
            for pragma in ("synchronous = NORMAL", "foreign_keys = ON", "busy_timeout = 5000"):
                connection.execute(f"PRAGMA {pragma}")

    core = CoreStore(engine)
    sides: dict[str, Store | CoreStore] = {"store": store, "sqlalchemy_core": core}
    if store_only:
        del sides["sqlalchemy_core"]
    ids = {}
    for name in sides:
        key = ThreadKey("bench", "w", "c", f"{name}-{uuid.uuid4().hex[:6]}")
        await store.ensure_conversation(key, "bench", T0)
        ids[name] = key.as_id()
    operations: dict[str, Callable[[Store | CoreStore, str, int], Awaitable[object]]] = {
        "record_incoming": lambda side, cid, n: side.record_incoming(
            cid, f"{cid}-{n}", make_turn(n)
        ),
        "append_turn": lambda side, cid, n: side.append_turn(cid, make_turn(n)),
        "recent_turns": lambda side, cid, n: side.recent_turns(cid, HISTORY),
    }
    figures: dict[str, object] = {}
    try:
        for operation, call in operations.items():
            print(f"  {operation}", file=sys.stderr)
            timings: dict[str, list[tuple[float, float]]] = {name: [] for name in sides}
            for n in range(rounds):
                for name, side in sides.items():
                    timings[name].append(await timed(call(side, ids[name], n)))
            figures[operation] = {name: summary(found) for name, found in timings.items()}
        return figures
    finally:
        await engine.dispose()
        await store.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BOTS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1/test"),
    )
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    parser.add_argument(
        "--store-only",
        action="store_true",
        help="the project's store alone (to compare two versions of it: side_by_side.py)",
    )
    args = parser.parse_args()
    report: dict[str, object] = {"rounds": args.rounds, "sqlalchemy": sa.__version__}
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bench.sqlite3"
            print("SQLite", file=sys.stderr)
            report["sqlite"] = await compare(
                SQLiteStore(path),
                f"sqlite+aiosqlite:///{path}",
                args.rounds,
                store_only=args.store_only,
            )
    if args.only in (None, "postgres"):
        import asyncpg

        admin = await asyncpg.connect(args.postgres)
        schema = f"bots_bench_{uuid.uuid4().hex[:12]}"
        await admin.execute(f"CREATE SCHEMA {schema}")
        try:
            print("PostgreSQL", file=sys.stderr)
            url = f"{args.postgres}?search_path={schema}"
            engine_url = args.postgres.replace("postgresql://", "postgresql+asyncpg://", 1)
            settings = {"server_settings": {"search_path": schema}}
            report["postgres"] = await compare(
                PostgresStore(url), engine_url, args.rounds, settings, store_only=args.store_only
            )
        finally:
            await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            await admin.close()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
