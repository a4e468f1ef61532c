"""Structured logs: JSON lines carrying the conversation id, never message text or a secret."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bots.app.logsetup import configure_logging
from bots.models import IncomingMessage, ThreadKey
from bots.turn.engine import Engine
from tests.conftest import API_KEY
from tests.fakes.fake_llm import FakeLLMServer, Reply, ServerError
from tests.support.cli_runner import clean_env, run_bots

# Words that appear only in what users typed: none may reach an INFO log.
PRIVATE = "Zanzibar-7731"
FIELDS = {"time", "level", "logger", "conversation_id", "message"}


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The CLI's own logging set-up writing JSON to a buffer; the root logger restored after."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    buffer = io.StringIO()
    configure_logging("INFO", "json", buffer)
    yield buffer
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved_handlers:
        root.addHandler(handler)
    root.setLevel(saved_level)


def lines_of(buffer: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def message(text: str, thread: str) -> IncomingMessage:
    return IncomingMessage(
        key=ThreadKey("test", "w1", "c1", thread), author_id="u1", text=text, message_id=text
    )


async def test_turn_logs_are_json_with_the_conversation_and_no_text(
    engine: Engine, llm_server: FakeLLMServer, json_log: io.StringIO
) -> None:
    llm_server.script(Reply(text=f"Sure, {PRIVATE}: we open at 8 [cafe-hours]."))
    turns = [
        message(f"When are you open? My code is {PRIVATE}", "t1"),
        message(f"Please get me a human, {PRIVATE}", "t2"),
    ]
    for msg in turns:
        _ = [event async for event in engine.handle(msg)]
    llm_server.script(ServerError(500), ServerError(500), ServerError(500))
    failing = message(f"Is there parking for {PRIVATE}?", "t3")
    _ = [event async for event in engine.handle(failing)]
    logging.getLogger("bots.test").info("outside any turn")

    records = lines_of(json_log)
    assert records, "the turns logged nothing at INFO"
    for record in records:
        assert record.keys() >= FIELDS, record
    in_turns = [r for r in records if r["logger"] != "bots.test"]
    by_conversation = {r["conversation_id"] for r in in_turns}
    assert by_conversation == {m.key.as_id() for m in [*turns, failing]}
    messages = [str(r["message"]) for r in in_turns]
    assert any(m.startswith("turn done") for m in messages)
    assert any(m.startswith("handed off") for m in messages)
    assert any(
        m.startswith("llm failed") and r["level"] == "WARNING"
        for m, r in zip(messages, in_turns, strict=True)
    )
    assert records[-1]["conversation_id"] is None  # the id does not leak past the turn
    raw = json_log.getvalue()
    assert PRIVATE not in raw
    assert API_KEY not in raw


def test_the_cli_writes_json_lines_without_text_or_key(tmp_path: Path) -> None:
    with FakeLLMServer() as server:
        server.script(Reply(f"Noon on Sundays, {PRIVATE}."))
        env = clean_env(
            DATABASE_URL=f"sqlite:///{tmp_path / 'cli.sqlite3'}",
            OPENAI_API_KEY=API_KEY,
            OPENAI_BASE_URL=server.base_url,
            BOTS_LOG_LEVEL="INFO",
            BOTS_LOG_FORMAT="json",
        )
        result = run_bots(["ask", f"when do you open on sunday, {PRIVATE}?"], env, timeout=60)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stderr.splitlines()]
    turn = [r for r in records if str(r["message"]).startswith("turn done")]
    assert len(turn) == 1
    assert str(turn[0]["conversation_id"]).startswith("console/")
    assert PRIVATE not in result.stderr
    assert API_KEY not in result.stderr
