"""The PostgreSQL store's schema: its migrations, in order, and the SQL the store runs."""

from __future__ import annotations

from typing import Final

# Each migration is a list of single SQL statements, applied in order in one transaction
# that also records the migration's number (1-based) in `schema_version`. Never edit a
# released migration: append a new one. Unqualified names, so the tables land in the first
# schema of the connection's `search_path` (a URL may choose it: `?search_path=bots`).
MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    # 1: the initial schema (the same tables as the SQLite store's migrations 1 and 2).
    (
        """
        CREATE TABLE conversations (
            id           text PRIMARY KEY,
            seq          bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
            platform     text NOT NULL,
            workspace    text NOT NULL,
            channel      text NOT NULL,
            thread       text NOT NULL,
            persona      text NOT NULL,
            state        text NOT NULL,
            created_at   timestamptz NOT NULL,
            updated_at   timestamptz NOT NULL,
            failed_turns integer NOT NULL DEFAULT 0,
            offer_reason text
        )
        """,
        """
        CREATE INDEX conversations_by_channel
            ON conversations (platform, workspace, channel, updated_at DESC, seq DESC)
        """,
        "CREATE INDEX conversations_by_state ON conversations (state, updated_at)",
        """
        CREATE TABLE turns (
            id              bigserial PRIMARY KEY,
            conversation_id text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            role            text NOT NULL,
            text            text NOT NULL,
            author_id       text NOT NULL,
            message_id      text NOT NULL,
            created_at      timestamptz NOT NULL,
            token_count     integer NOT NULL,
            cited_ids       text[] NOT NULL DEFAULT '{}'
        )
        """,
        "CREATE INDEX turns_by_conversation ON turns (conversation_id, id)",
        # A platform event is answered once, however many processes receive it: the
        # primary key makes a second insert of one event id a no-op (ON CONFLICT DO NOTHING).
        """
        CREATE TABLE processed_events (
            event_id        text PRIMARY KEY,
            conversation_id text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            processed_at    timestamptz NOT NULL
        )
        """,
        "CREATE INDEX processed_events_by_conversation ON processed_events (conversation_id)",
        """
        CREATE TABLE usage (
            conversation_id   text PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
            prompt_tokens     bigint NOT NULL DEFAULT 0,
            completion_tokens bigint NOT NULL DEFAULT 0
        )
        """,
        """
        CREATE TABLE handoffs (
            id              bigserial PRIMARY KEY,
            conversation_id text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            reason          text NOT NULL,
            detail          text NOT NULL,
            summary         text[] NOT NULL DEFAULT '{}',
            requested_at    timestamptz NOT NULL,
            claimed_by      text,
            claimed_at      timestamptz,
            resolved_by     text,
            resolved_at     timestamptz,
            reminded_at     timestamptz
        )
        """,
        "CREATE INDEX handoffs_by_conversation ON handoffs (conversation_id, id)",
        "CREATE INDEX handoffs_open ON handoffs (requested_at) WHERE resolved_at IS NULL",
        """
        CREATE TABLE feedback (
            id              bigserial PRIMARY KEY,
            conversation_id text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            message_id      text NOT NULL,
            user_id         text NOT NULL,
            positive        boolean NOT NULL,
            created_at      timestamptz NOT NULL
        )
        """,
        "CREATE INDEX feedback_by_conversation ON feedback (conversation_id)",
    ),
    # 2: nothing. SQLite's migration 2 is part of 1 here; this empty step keeps the numbers
    # aligned, so that "schema version 3" means the same tables in both stores.
    (),
    # 3: the usage ledger (budgets, cost reports) and indexes for limits and retention.
    (
        # One row per model call, never updated: concurrent writers only insert, and
        # `bots forget` can drop the user's id from a row without merging rows. No foreign
        # key: the text-free rows outlive deleted conversations, for cost reports.
        """
        CREATE TABLE usage_ledger (
            id                bigserial PRIMARY KEY,
            day               date NOT NULL,
            user_id           text NOT NULL,
            channel           text NOT NULL,
            conversation_id   text NOT NULL,
            model             text NOT NULL,
            prompt_tokens     integer NOT NULL,
            completion_tokens integer NOT NULL,
            recorded_at       timestamptz NOT NULL
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
            confidence      double precision NOT NULL,
            confident       boolean NOT NULL,
            recorded_at     timestamptz NOT NULL,
            PRIMARY KEY (conversation_id, message_id)
        )
        """,
    ),
    # 5: the facts of a model answer that no retrieved snippet holds (the live grounding
    # check), kept with the answer's turn so `bots report` can list them. NULL: grounded.
    (
        "ALTER TABLE turns ADD COLUMN ungrounded text[]",
        # Partial: only ungrounded answers are written to it, not every message.
        "CREATE INDEX turns_ungrounded ON turns (created_at) WHERE ungrounded IS NOT NULL",
    ),
)

# Applied versions, one row per migration; the schema's version is the highest.
CREATE_SCHEMA_VERSION: Final = """
    CREATE TABLE schema_version (
        version    integer PRIMARY KEY,
        applied_at timestamptz NOT NULL DEFAULT now()
    )
"""
SELECT_SCHEMA_VERSION: Final = "SELECT coalesce(max(version), 0) FROM schema_version"
# Read from the catalog with the statement's own snapshot, not with `to_regclass`, whose
# cached lookup can miss a table another process created while this one waited for the lock.
SCHEMA_VERSION_EXISTS: Final = (
    "SELECT EXISTS (SELECT FROM pg_catalog.pg_tables"
    " WHERE schemaname = current_schema() AND tablename = 'schema_version')"
)

CONVERSATION_COLUMNS: Final = (
    "id, platform, workspace, channel, thread, persona, state, created_at, updated_at,"
    " failed_turns, offer_reason"
)
HANDOFF_COLUMNS: Final = (
    "id, conversation_id, reason, detail, summary, requested_at, claimed_by, claimed_at,"
    " resolved_by, resolved_at, reminded_at"
)
TURN_COLUMNS: Final = "role, text, author_id, message_id, created_at, token_count, cited_ids"

# `record_incoming` in one statement, so in one transaction and one round trip: mark the
# event processed unless it already was, append the turn only if it was just marked, and
# move the conversation's `updated_at` forward to the turn's time. The result is the number
# of events marked: 0 for a redelivery, which then wrote nothing. A concurrent insert of
# the same event id waits for the first transaction and then does nothing.
RECORD_INCOMING: Final = """
    WITH event AS (
        INSERT INTO processed_events (event_id, conversation_id, processed_at)
        VALUES ($1, $2, $7)
        ON CONFLICT (event_id) DO NOTHING
        RETURNING conversation_id
    ), turn AS (
        INSERT INTO turns (conversation_id, role, text, author_id, message_id,
                           created_at, token_count, cited_ids)
        SELECT conversation_id, $3::text, $4::text, $5::text, $6::text,
               $7::timestamptz, $8::integer, $9::text[]
          FROM event
        RETURNING conversation_id, created_at
    ), touched AS (
        UPDATE conversations c SET updated_at = turn.created_at
          FROM turn
         WHERE c.id = turn.conversation_id AND c.updated_at < turn.created_at
    )
    SELECT count(*) FROM event
"""

# Append a turn and move `updated_at` forward to its time (never backwards), in one statement.
APPEND_TURN: Final = """
    WITH turn AS (
        INSERT INTO turns (conversation_id, role, text, author_id, message_id,
                           created_at, token_count, cited_ids)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        RETURNING conversation_id, created_at
    )
    UPDATE conversations c SET updated_at = turn.created_at
      FROM turn
     WHERE c.id = turn.conversation_id AND c.updated_at < turn.created_at
"""

# Conversations the bot owns whose newest turn is a user message from [$1, $2): turns a
# process died in the middle of (see `Store.unanswered_turns`). The conversation's columns
# keep their names; the turn's come from the lateral join under their own names.
UNANSWERED_TURNS: Final = """
    SELECT c.id, c.platform, c.workspace, c.channel, c.thread, c.persona, c.state,
           c.created_at, c.updated_at, c.failed_turns, c.offer_reason,
           t.role, t.text, t.author_id, t.message_id, t.created_at AS turn_created_at,
           t.token_count, t.cited_ids
      FROM conversations c
      CROSS JOIN LATERAL (
          SELECT role, text, author_id, message_id, created_at, token_count, cited_ids
            FROM turns WHERE conversation_id = c.id ORDER BY id DESC LIMIT 1
      ) t
     WHERE c.state IN ('bot', 'resolved') AND c.updated_at >= $1 AND t.role = 'user'
       AND t.created_at >= $1 AND t.created_at < $2
     ORDER BY t.created_at, c.seq
"""
