"""The settings reach the engine: redaction wraps the model client, retention is built."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from bots.app.limits_wiring import guarded_llm, limits_and_retention
from bots.config import Settings
from bots.llm.client import ChatModel
from bots.store.privacy import Retention
from bots.store.sqlite import SQLiteStore
from bots.turn.redact import RedactingChatModel


def settings(**environ: str) -> Settings:
    return Settings.from_env(environ, data_dir=Path("/nonexistent"))


def test_redaction_wraps_the_model_only_when_asked() -> None:
    model = cast(ChatModel, object())  # never called: only wrapped or passed through
    assert guarded_llm(model, settings().privacy) is model
    assert guarded_llm(None, settings(BOTS_REDACT="all").privacy) is None
    assert isinstance(guarded_llm(model, settings(BOTS_REDACT="email").privacy), RedactingChatModel)


async def test_retention_only_when_days_are_set(store: SQLiteStore) -> None:
    limits, retention = limits_and_retention(settings(), store)
    assert retention is None
    assert limits.settings.user_daily_tokens is None
    chosen = settings(BOTS_RETENTION_DAYS="30", BOTS_USER_DAILY_TOKENS="1000")
    limits, retention = limits_and_retention(chosen, store)
    assert isinstance(retention, Retention)
    assert limits.settings.user_daily_tokens == 1000
