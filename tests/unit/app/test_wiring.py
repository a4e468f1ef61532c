"""The composition root: the settings reach the engine, folders are found, background work
stops with the bot."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import cast

import pytest

from bots.app.wiring import (
    PROJECT_ROOT,
    background_work,
    existing_folder,
    guarded_llm,
    limits_and_retention,
    persona_path,
    telemetry_for,
)
from bots.config import Settings
from bots.llm.client import ChatModel
from bots.store.privacy import Retention
from bots.store.sqlite import SQLiteStore
from bots.telemetry import NO_TELEMETRY
from bots.turn.engine import DUE_GRACE
from bots.turn.redact import RedactingChatModel
from tests.support.paths import REPO_ROOT


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


def test_a_relative_folder_is_found_in_the_checkout_from_anywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a folder with no personas/ of its own
    assert PROJECT_ROOT == REPO_ROOT
    assert existing_folder(Path("personas")) == REPO_ROOT / "personas"
    assert persona_path(settings(), "restaurant") == REPO_ROOT / "personas" / "restaurant.yaml"
    assert existing_folder(Path("no-such-folder")) == Path("no-such-folder")


def test_metrics_telemetry_only_with_a_metrics_port() -> None:
    assert telemetry_for(settings()) is NO_TELEMETRY
    assert telemetry_for(settings(BOTS_METRICS_PORT="0")) is not NO_TELEMETRY


class _Personas:
    def __init__(self) -> None:
        self.stopped = False

    async def watch(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self.stopped = True


class _Bot:
    """Ticks and answers forever, as a bot does when sharing PostgreSQL."""

    def __init__(self) -> None:
        self.answered_with: list[timedelta] = []
        self.ticking = asyncio.Event()
        self.answered = asyncio.Event()

    async def tick_forever(self, seconds: float = 60.0) -> None:
        self.ticking.set()
        await asyncio.Event().wait()

    async def answer_interrupted(self, *, min_age: timedelta = timedelta(0)) -> int:
        self.answered_with.append(min_age)
        self.answered.set()
        return 0


@pytest.mark.parametrize(
    ("url", "min_age"),
    [
        ("sqlite:///:memory:", timedelta(0)),
        # Sharing PostgreSQL: a message is another process's until its turn's deadline.
        ("postgresql://127.0.0.1/none", timedelta(seconds=45) + DUE_GRACE),
    ],
)
async def test_background_work_answers_what_was_left_and_stops_on_the_way_out(
    url: str, min_age: timedelta
) -> None:
    personas, bot = _Personas(), _Bot()
    chosen = settings(DATABASE_URL=url, BOTS_TURN_TIMEOUT="45")
    async with background_work(chosen, personas, bot):
        await asyncio.wait_for(asyncio.gather(bot.ticking.wait(), bot.answered.wait()), 5)
    # Leaving returns at once although the tick, and on PostgreSQL the answering, repeat.
    assert personas.stopped
    assert bot.answered_with == [min_age]
