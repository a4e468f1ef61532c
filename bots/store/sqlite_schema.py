"""The SQLite store's schema: its migrations, in order, and the column lists the store uses."""

from __future__ import annotations

from typing import Final

# Each migration is a list of single SQL statements, applied in order in one transaction
# that also sets `PRAGMA user_version` to the migration's number (1-based). Never edit a
# released migration: append a new one. (The pattern follows simonw/llm's migrations.)
MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    # 1: the initial schema.
    (
        """
        CREATE TABLE conversations (
            id          TEXT PRIMARY KEY,
            platform    TEXT NOT NULL,
            workspace   TEXT NOT NULL,
            channel     TEXT NOT NULL,
            thread      TEXT NOT NULL,
            persona     TEXT NOT NULL,
            state       TEXT NOT NULL,
            created_at  TEXT NOT NULL,
            updated_at  TEXT NOT NULL
        )
        """,
        """
        CREATE INDEX conversations_by_channel
            ON conversations (platform, workspace, channel, updated_at)
        """,
        """
        CREATE TABLE turns (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            role            TEXT NOT NULL,
            text            TEXT NOT NULL,
            author_id       TEXT NOT NULL,
            message_id      TEXT NOT NULL,
            created_at      TEXT NOT NULL,
            token_count     INTEGER NOT NULL,
            cited_ids       TEXT NOT NULL DEFAULT '[]'
        )
        """,
        "CREATE INDEX turns_by_conversation ON turns (conversation_id, id)",
        # Every recorded turn is activity: keep `updated_at` at the newest turn's time
        # without spending a second statement (and a transaction) per append.
        """
        CREATE TRIGGER turns_touch_conversation AFTER INSERT ON turns
        BEGIN
            UPDATE conversations SET updated_at = NEW.created_at
             WHERE id = NEW.conversation_id AND updated_at < NEW.created_at;
        END
        """,
        """
        CREATE TABLE processed_events (
            event_id        TEXT PRIMARY KEY,
            conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            processed_at    TEXT NOT NULL
        ) WITHOUT ROWID
        """,
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
        """
        CREATE TABLE usage (
            conversation_id   TEXT PRIMARY KEY
                              REFERENCES conversations (id) ON DELETE CASCADE,
            prompt_tokens     INTEGER NOT NULL DEFAULT 0,
            completion_tokens INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID
        """,
    ),
    # 2: the hand-off lifecycle and feedback.
    (
        "ALTER TABLE conversations ADD COLUMN failed_turns INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE conversations ADD COLUMN offer_reason TEXT",
        """
        CREATE TABLE handoffs (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            reason          TEXT NOT NULL,
            detail          TEXT NOT NULL,
            summary         TEXT NOT NULL DEFAULT '[]',
            requested_at    TEXT NOT NULL,
            claimed_by      TEXT,
            claimed_at      TEXT,
            resolved_by     TEXT,
            resolved_at     TEXT,
            reminded_at     TEXT
        )
        """,
        "CREATE INDEX handoffs_by_conversation ON handoffs (conversation_id, id)",
        "CREATE INDEX handoffs_open ON handoffs (requested_at) WHERE resolved_at IS NULL",
        """
        CREATE TABLE feedback (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            message_id      TEXT NOT NULL,
            user_id         TEXT NOT NULL,
            positive        INTEGER NOT NULL,
            created_at      TEXT NOT NULL
        )
        """,
    ),
    # 3: the usage ledger (budgets, cost reports) and indexes for limits and retention.
    (
        # One row per model call, never updated: concurrent writers only insert, and
        # `bots forget` can drop the user's id from a row without merging rows. No foreign
        # key: the text-free rows outlive deleted conversations, for cost reports.
        """
        CREATE TABLE usage_ledger (
            id                INTEGER PRIMARY KEY AUTOINCREMENT,
            day               TEXT NOT NULL,
            user_id           TEXT NOT NULL,
            channel           TEXT NOT NULL,
            conversation_id   TEXT NOT NULL,
            model             TEXT NOT NULL,
            prompt_tokens     INTEGER NOT NULL,
            completion_tokens INTEGER NOT NULL,
            recorded_at       TEXT NOT NULL
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
        # forgetting a conversation cascades to them.
        """
        CREATE TABLE retrievals (
            conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            message_id      TEXT NOT NULL,
            entry_id        TEXT,
            confidence      REAL NOT NULL,
            confident       INTEGER NOT NULL,
            recorded_at     TEXT NOT NULL,
            PRIMARY KEY (conversation_id, message_id)
        ) WITHOUT ROWID
        """,
    ),
    # 5: the facts of a model answer that no retrieved snippet holds (the live grounding
    # check), kept with the answer's turn so `bots report` can list them. NULL: grounded.
    (
        "ALTER TABLE turns ADD COLUMN ungrounded TEXT",
        # Partial: only ungrounded answers are written to it, not every message.
        "CREATE INDEX turns_ungrounded ON turns (created_at) WHERE ungrounded IS NOT NULL",
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
TURN_COLUMNS: Final = "role, text, author_id, message_id, created_at, token_count, cited_ids"
INSERT_INCOMING: Final = (
    f"INSERT INTO incoming_messages (event_id, conversation_id, {TURN_COLUMNS})"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_TURN: Final = (
    f"INSERT INTO turns (conversation_id, {TURN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
