"""The store's schema, written once for both databases: its migrations, in order.

Each migration is a tuple of single SQL statements, applied in one transaction that also
records the migration's number (1-based): `PRAGMA user_version` on SQLite, a row in
`schema_version` on PostgreSQL. Never edit a released migration: append a new one, e.g.
`("ALTER TABLE turns ADD COLUMN language text",)`. Braced names are the dialect's words for
types and clauses (`Dialect.ddl` in bots/store/dialect.py: `{time}` is SQLite's text and
PostgreSQL's timestamptz); a statement only one database needs is wrapped in `sqlite(...)`
or `postgres(...)`. Unqualified names, so that on PostgreSQL the tables land in the first
schema of the connection's `search_path` (a URL may choose it: `?search_path=bots`).

The first two migrations differ by history: PostgreSQL's first migration made what SQLite's
first two did, and its second is empty, so that a version number means the same tables in
both. (The numbering follows simonw/llm's migrations.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from bots.errors import StoreError
from bots.store.dialect import Dialect


@dataclass(frozen=True, slots=True)
class Only:
    """A statement for one database alone."""

    dialect: str
    sql: str


Statement = str | Only


def sqlite(*statements: str) -> tuple[Only, ...]:
    return tuple(Only("sqlite", sql) for sql in statements)


def postgres(*statements: str) -> tuple[Only, ...]:
    return tuple(Only("postgres", sql) for sql in statements)


def statements(migration: tuple[Statement, ...], dialect: Dialect) -> tuple[str, ...]:
    """The migration's statements for `dialect`, its words filled in."""
    kept = (s for s in migration if not isinstance(s, Only) or s.dialect == dialect.name)
    return tuple(
        (s.sql if isinstance(s, Only) else s).format_map(dialect.ddl).strip() for s in kept
    )


def refuse_newer(version: int, database: str, instead: str) -> None:
    """StoreError when `database` is at a version newer than this code knows, written by a
    newer release: this one would misread it. `instead`: what else DATABASE_URL can name."""
    known = len(MIGRATIONS)
    if version > known:
        raise StoreError(
            f"{database} was written by a newer version of the bot (schema version {version};"
            f" this version knows up to {known}). Upgrade the bot, or point DATABASE_URL at"
            f" {instead}."
        )


# Migration 2 of SQLite; part of migration 1 on PostgreSQL.
HANDOFFS_AND_FEEDBACK: Final = (
    "ALTER TABLE conversations ADD COLUMN failed_turns integer NOT NULL DEFAULT 0",
    "ALTER TABLE conversations ADD COLUMN offer_reason text",
    """
    CREATE TABLE handoffs (
        id              {serial},
        conversation_id text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        reason          text NOT NULL,
        detail          text NOT NULL,
        summary         {names} NOT NULL DEFAULT {no_names},
        requested_at    {time} NOT NULL,
        claimed_by      text,
        claimed_at      {time},
        resolved_by     text,
        resolved_at     {time},
        reminded_at     {time}
    )
    """,
    "CREATE INDEX handoffs_by_conversation ON handoffs (conversation_id, id)",
    "CREATE INDEX handoffs_open ON handoffs (requested_at) WHERE resolved_at IS NULL",
    """
    CREATE TABLE feedback (
        id              {serial},
        conversation_id text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        message_id      text NOT NULL,
        user_id         text NOT NULL,
        positive        {flag} NOT NULL,
        created_at      {time} NOT NULL
    )
    """,
)

MIGRATIONS: Final[tuple[tuple[Statement, ...], ...]] = (
    # 1: the initial schema.
    (
        """
        CREATE TABLE conversations (
            id          text PRIMARY KEY,
            {sequence}
            platform    text NOT NULL,
            workspace   text NOT NULL,
            channel     text NOT NULL,
            thread      text NOT NULL,
            persona     text NOT NULL,
            state       text NOT NULL,
            created_at  {time} NOT NULL,
            updated_at  {time} NOT NULL
        )
        """,
        """
        CREATE INDEX conversations_by_channel
            ON conversations (platform, workspace, channel, {latest_first})
        """,
        *postgres("CREATE INDEX conversations_by_state ON conversations (state, updated_at)"),
        """
        CREATE TABLE turns (
            id              {serial},
            conversation_id text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            role            text NOT NULL,
            text            text NOT NULL,
            author_id       text NOT NULL,
            message_id      text NOT NULL,
            created_at      {time} NOT NULL,
            token_count     integer NOT NULL,
            cited_ids       {names} NOT NULL DEFAULT {no_names}
        )
        """,
        "CREATE INDEX turns_by_conversation ON turns (conversation_id, id)",
        *sqlite(
            # Every recorded turn is activity: keep `updated_at` at the newest turn's time
            # without spending a second statement (and a transaction) per append. (PostgreSQL
            # does it in the statement that appends: bots/store/postgres.py.)
            """
            CREATE TRIGGER turns_touch_conversation AFTER INSERT ON turns
            BEGIN
                UPDATE conversations SET updated_at = NEW.created_at
                 WHERE id = NEW.conversation_id AND updated_at < NEW.created_at;
            END
            """
        ),
        # A platform event is answered once, however many processes receive it: the primary
        # key refuses a second row for one event id.
        """
        CREATE TABLE processed_events (
            event_id        text PRIMARY KEY,
            conversation_id text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            processed_at    {time} NOT NULL
        ){compact}
        """,
        *postgres(
            "CREATE INDEX processed_events_by_conversation ON processed_events (conversation_id)"
        ),
        *sqlite(
            # `record_incoming` in one statement, so in one transaction and one round trip:
            # inserting a row into this view runs the trigger below, which marks the event
            # processed and appends the turn. A repeated event id violates the primary key of
            # processed_events, which aborts the whole statement: nothing at all is written.
            """
            CREATE VIEW incoming_messages (
                event_id, conversation_id, role, text, author_id, message_id,
                created_at, token_count, cited_ids
            ) AS SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0
            """,
            """
            CREATE TRIGGER incoming_messages_insert INSTEAD OF INSERT ON incoming_messages
            BEGIN
                INSERT INTO processed_events (event_id, conversation_id, processed_at)
                     VALUES (NEW.event_id, NEW.conversation_id, NEW.created_at);
                INSERT INTO turns (
                    conversation_id, role, text, author_id, message_id,
                    created_at, token_count, cited_ids
                ) VALUES (
                    NEW.conversation_id, NEW.role, NEW.text, NEW.author_id, NEW.message_id,
                    NEW.created_at, NEW.token_count, NEW.cited_ids
                );
            END
            """,
        ),
        """
        CREATE TABLE usage (
            conversation_id   text PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
            prompt_tokens     {total} NOT NULL DEFAULT 0,
            completion_tokens {total} NOT NULL DEFAULT 0
        ){compact}
        """,
        *postgres(*HANDOFFS_AND_FEEDBACK),
        *postgres("CREATE INDEX feedback_by_conversation ON feedback (conversation_id)"),
    ),
    # 2: the hand-off lifecycle and feedback (PostgreSQL: already in 1).
    sqlite(*HANDOFFS_AND_FEEDBACK),
    # 3: the usage ledger (budgets, cost reports) and indexes for limits and retention.
    (
        # One row per model call, never updated: concurrent writers only insert, and
        # `bots forget` can drop the user's id from a row without merging rows. No foreign
        # key: the text-free rows outlive deleted conversations, for cost reports.
        """
        CREATE TABLE usage_ledger (
            id                {serial},
            day               {day} NOT NULL,
            user_id           text NOT NULL,
            channel           text NOT NULL,
            conversation_id   text NOT NULL,
            model             text NOT NULL,
            prompt_tokens     integer NOT NULL,
            completion_tokens integer NOT NULL,
            recorded_at       {time} NOT NULL
        )
        """,
        "CREATE INDEX usage_ledger_by_user ON usage_ledger (day, user_id)",
        "CREATE INDEX usage_ledger_by_channel ON usage_ledger (day, channel)",
        "CREATE INDEX usage_ledger_by_conversation ON usage_ledger (conversation_id)",
        # No index on turns for retention, which scans them hourly: every index on turns is
        # one more page written per message (and SQLite's WAL test caught the growth).
    ),
    # 4: how well the knowledge matched each question, for the knowledge gaps of `bots report`.
    (
        # One row per question (a resumed turn updates its row). No copy of the text: the
        # report reads it from the question's turn, so once retention or `bots forget`
        # deletes the turn, no text is left here; retention deletes these rows too, and
        # forgetting a conversation cascades to them (the primary key serves the cascade).
        """
        CREATE TABLE retrievals (
            conversation_id text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            message_id      text NOT NULL,
            entry_id        text,
            confidence      {real} NOT NULL,
            confident       {flag} NOT NULL,
            recorded_at     {time} NOT NULL,
            PRIMARY KEY (conversation_id, message_id)
        ){compact}
        """,
    ),
    # 5: the deadline of the answer to each user message, and the platform message it streams
    # into. Kept on the user's turn and written by the statement that records it (SQLite's
    # view below, PostgreSQL's RECORD_INCOMING): a sweep in another process never sees the
    # message without its deadline.
    (
        "ALTER TABLE turns ADD COLUMN answer_due {time}",
        "ALTER TABLE turns ADD COLUMN reply_id text",
        *sqlite(
            "DROP TRIGGER incoming_messages_insert",
            "DROP VIEW incoming_messages",
            """
            CREATE VIEW incoming_messages (
                event_id, conversation_id, role, text, author_id, message_id,
                created_at, token_count, cited_ids, answer_due, reply_id
            ) AS SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0
            """,
            """
            CREATE TRIGGER incoming_messages_insert INSTEAD OF INSERT ON incoming_messages
            BEGIN
                INSERT INTO processed_events (event_id, conversation_id, processed_at)
                     VALUES (NEW.event_id, NEW.conversation_id, NEW.created_at);
                INSERT INTO turns (
                    conversation_id, role, text, author_id, message_id,
                    created_at, token_count, cited_ids, answer_due, reply_id
                ) VALUES (
                    NEW.conversation_id, NEW.role, NEW.text, NEW.author_id, NEW.message_id,
                    NEW.created_at, NEW.token_count, NEW.cited_ids, NEW.answer_due, NEW.reply_id
                );
            END
            """,
        ),
    ),
    # 6: the facts of a model answer that no retrieved snippet holds (the live grounding
    # check), kept with the answer's turn so `bots report` can list them. NULL: grounded.
    (
        "ALTER TABLE turns ADD COLUMN ungrounded {names}",
        # Partial: only ungrounded answers are written to it, not every message.
        "CREATE INDEX turns_ungrounded ON turns (created_at) WHERE ungrounded IS NOT NULL",
    ),
    # 7: help-desk tickets (Zendesk, Chatwoot) linked to conversations, and the outbox of
    # desk calls still to make (bots/desks/outbox.py): a desk that is down or answers 429
    # loses nothing, and a restart picks up where the last run stopped.
    (
        # Forgetting the conversation deletes the link (after `bots forget` has listed it).
        """
        CREATE TABLE desk_tickets (
            desk            text NOT NULL,
            ticket_id       text NOT NULL,
            conversation_id text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            status          text NOT NULL,
            last_reply      bigint,
            created_at      {time} NOT NULL,
            updated_at      {time} NOT NULL,
            PRIMARY KEY (desk, ticket_id)
        )
        """,
        "CREATE INDEX desk_tickets_by_conversation ON desk_tickets (conversation_id)",
        # No foreign key: a job to delete a forgotten conversation's ticket outlives it.
        """
        CREATE TABLE desk_outbox (
            id              {serial},
            conversation_id text NOT NULL,
            desk            text NOT NULL,
            kind            text NOT NULL,
            payload         text NOT NULL,
            attempts        integer NOT NULL DEFAULT 0,
            due_at          {time} NOT NULL,
            created_at      {time} NOT NULL,
            done_at         {time},
            last_error      text
        )
        """,
        "CREATE INDEX desk_outbox_due ON desk_outbox (due_at) WHERE done_at IS NULL",
    ),
    # 8: the intake form's answers (issue 21): one row per field, a resubmission replaces
    # them. Forgetting the conversation cascades; `bots forget --user` and retention delete
    # them too (bots/store/intake_queries.py).
    (
        """
        CREATE TABLE intake_answers (
            conversation_id text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            field_id        text NOT NULL,
            position        integer NOT NULL,
            label           text NOT NULL,
            value           text NOT NULL,
            user_id         text NOT NULL,
            submitted_at    {time} NOT NULL,
            PRIMARY KEY (conversation_id, field_id)
        ){compact}
        """,
        "CREATE INDEX intake_answers_by_user ON intake_answers (user_id)",
    ),
    # 9: which knowledge entries answers were grounded in, for `bots report`'s use of each
    # entry. The turns keep `cited_ids` too, but retention deletes turns, and an entry unused
    # for longer than the retention period must not look the same as one never used. So one
    # row per cited entry per answer, with no text, user or conversation: nothing here is
    # personal, and neither retention nor `bots forget` needs to touch it.
    (
        """
        CREATE TABLE entry_uses (
            persona  text NOT NULL,
            entry_id text NOT NULL,
            used_at  {time} NOT NULL
        )
        """,
        "CREATE INDEX entry_uses_by_time ON entry_uses (used_at)",
    ),
)

CONVERSATION_COLUMNS: Final = (
    "id, platform, workspace, channel, thread, persona, state, created_at, updated_at,"
    " failed_turns, offer_reason"
)
HANDOFF_COLUMNS: Final = (
    "id, conversation_id, reason, detail, summary, requested_at, claimed_by, claimed_at,"
    " resolved_by, resolved_at, reminded_at"
)
TURN_COLUMNS: Final = (
    "role, text, author_id, message_id, created_at, token_count, cited_ids, answer_due, reply_id"
)
