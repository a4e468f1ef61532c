"""The seam under the one store: what SQLite and PostgreSQL spell differently, and a session.

The queries (bots/store/queries.py, report_queries.py, privacy_queries.py) are written once,
with `?` placeholders, against a `Session`: one connection held by one call. Each backend
supplies its session (bots/store/sqlite.py, postgres.py), which turns Python values into what
its database stores (SQLite keeps times as fixed-width UTC text and lists as JSON text;
PostgreSQL has timestamptz and text[]), and a `Dialect`, for the few words of SQL that differ
and for reading those values back.

Written by hand rather than with SQLAlchemy Core: its prototype of the three queries of every
turn spent 3 to 8 times the CPU per call, and on SQLite over ten times the latency of a write,
measured side by side (benchmarks/store_sqlalchemy.py, docs/benchmarks.md); and what the two
databases really do differently here (the SQLite view whose trigger records an event and its
turn in one statement, the PostgreSQL data-modifying CTE, advisory locks, the schema's
version in `PRAGMA user_version` against a table) would have stayed hand-written SQL beside
it anyway.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final, Protocol


class Row(Protocol):
    """A row as either driver returns it: a tuple (aiosqlite) or a Record (asyncpg)."""

    def __getitem__(self, index: Any, /) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...


class Session(Protocol):
    """One connection held by one call; SQL with `?` placeholders, Python values in and out.

    Datetimes must be timezone-aware (ValueError otherwise); lists and tuples of strings,
    dates and booleans go in as they are. What comes out is the database's own form: read
    times and lists back through the `Dialect`.
    """

    async def execute(self, sql: str, *args: Any) -> int:
        """Run one statement; how many rows it inserted, changed or deleted."""

    async def fetch(self, sql: str, *args: Any) -> Sequence[Row]: ...

    async def fetchrow(self, sql: str, *args: Any) -> Row | None: ...

    async def fetchval(self, sql: str, *args: Any) -> Any:
        """The first column of the first row (None when there is no row)."""


@dataclass(frozen=True, slots=True)
class Dialect:
    """The words of SQL, and the stored forms of values, that differ between the databases."""

    name: str
    greatest: str
    """The two-argument maximum: SQLite's scalar `max`, PostgreSQL's `greatest`."""
    insertion_order: str
    """A column that grows with each new conversation: SQLite's `rowid`, PostgreSQL's `seq`."""
    any_text: str
    """`column {any_text}` is true when the column is one of a list of strings passed as one
    parameter (a JSON array on SQLite, a text[] on PostgreSQL)."""
    ddl: Mapping[str, str]
    """Names the schema's statements use for types and clauses (bots/store/schema.py)."""
    read_time: Callable[[Any], datetime]
    read_names: Callable[[Any], tuple[str, ...]]


def aware(moment: datetime) -> datetime:
    """`moment` itself, refusing a naive datetime (which time zone would it be in?)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"the store needs timezone-aware datetimes, got naive {moment!r}")
    return moment


def time_as_text(moment: datetime) -> str:
    """Fixed-width ISO-8601 in UTC, so that text order is time order (SQLite compares text)."""
    return aware(moment).astimezone(UTC).isoformat(timespec="microseconds")


def sqlite_value(value: Any) -> Any:
    """A parameter as SQLite stores it: times and days as text, lists as JSON text."""
    if isinstance(value, datetime):
        return time_as_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return json.dumps(list(value))
    return value


# Values both drivers take as they are: no adapting (this runs for every parameter).
_PLAIN: Final = frozenset({str, int, float, bool, type(None)})


def sqlite_values(values: Sequence[Any]) -> list[Any]:
    return [value if type(value) in _PLAIN else sqlite_value(value) for value in values]


def postgres_values(values: Sequence[Any]) -> list[Any]:
    return [value if type(value) in _PLAIN else postgres_value(value) for value in values]


def postgres_value(value: Any) -> Any:
    """A parameter as asyncpg takes it (which would silently read a naive time as UTC)."""
    if isinstance(value, datetime):
        return aware(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def _names_from_json(text: str) -> tuple[str, ...]:
    return () if text == "[]" else tuple(json.loads(text))


# The words of the schema (bots/store/schema.py) in each database: (SQLite, PostgreSQL).
DDL: Final = {
    "time": ("text", "timestamptz"),
    "day": ("text", "date"),
    "flag": ("integer", "boolean"),
    "real": ("real", "double precision"),
    "total": ("integer", "bigint"),
    "names": ("text", "text[]"),
    "no_names": ("'[]'", "'{}'"),
    "serial": ("integer PRIMARY KEY AUTOINCREMENT", "bigserial PRIMARY KEY"),
    "sequence": ("", "seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,"),
    "latest_first": ("updated_at", "updated_at DESC, seq DESC"),
    "compact": (" WITHOUT ROWID", ""),
}

SQLITE: Final = Dialect(
    name="sqlite",
    greatest="max",
    insertion_order="rowid",
    any_text="IN (SELECT value FROM json_each(?))",
    ddl={name: words[0] for name, words in DDL.items()},
    read_time=datetime.fromisoformat,
    read_names=_names_from_json,
)

POSTGRES: Final = Dialect(
    name="postgres",
    greatest="greatest",
    insertion_order="seq",
    any_text="= ANY(?::text[])",
    ddl={name: words[1] for name, words in DDL.items()},
    read_time=lambda moment: moment,
    read_names=tuple,
)
