"""What the user reads in `bots chat` and `bots ask`: answers only, never a log line."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import API_KEY
from tests.fakes.fake_llm import FakeLLMServer, Reply, ServerError
from tests.support.cli_runner import clean_env, run_bots
from tests.support.paths import REPO_ROOT

# A log line as logsetup writes it: time, level, logger.
LOG_LINE = re.compile(r"\d{2}:\d{2}:\d{2},\d{3} (?:DEBUG|INFO|WARNING|ERROR) ")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return clean_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        XDG_DATA_HOME=str(tmp_path / "data"),
        BOTS_LOG_LEVEL="INFO",
        BOTS_LLM_ATTEMPTS="1",
        OPENAI_API_KEY=API_KEY,
    )


def chat_in_a_terminal(env: dict[str, str], typed: str, timeout: float = 60) -> str:
    """`bots chat` with stdin, stdout and stderr all on one pseudo-terminal, as a person
    runs it: everything the screen shows, in order."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "bots", "chat"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=env,
        cwd=REPO_ROOT,
        close_fds=True,
    )
    os.close(terminal)
    os.write(controller, typed.encode())
    shown = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(controller, 4096)
                except OSError:  # the terminal closed: the program ended
                    break
                if not chunk:
                    break
                shown += chunk
            elif process.poll() is not None:
                break
    finally:
        process.kill()
        process.wait()
        os.close(controller)
    return shown.decode(errors="replace").replace("\r\n", "\n")


def test_chat_in_a_terminal_shows_no_log_lines_and_logs_to_a_file(
    env: dict[str, str], tmp_path: Path
) -> None:
    with FakeLLMServer() as server:
        server.default = lambda body: ServerError(500)
        env.update(OPENAI_BASE_URL=server.base_url)
        shown = chat_in_a_terminal(env, "is there parking near the restaurant?\n/quit\n")
    assert "car park" in shown, shown
    assert not LOG_LINE.search(shown), shown
    log_file = tmp_path / "data" / "bots" / "console.log"
    assert f"(log lines go to {log_file})" in shown
    logged = log_file.read_text(encoding="utf-8")
    assert "WARNING bots.turn.engine" in logged
    assert "llm failed" in logged


def test_chat_logs_to_bots_log_file_when_set(env: dict[str, str], tmp_path: Path) -> None:
    chosen = tmp_path / "logs" / "chat.log"
    with FakeLLMServer() as server:
        server.script(Reply("Hello there!"))
        env.update(OPENAI_BASE_URL=server.base_url, BOTS_LOG_FILE=str(chosen))
        shown = chat_in_a_terminal(env, "hello\n/quit\n")
    assert "Hello there!" in shown
    assert not LOG_LINE.search(shown), shown
    assert "turn done" in chosen.read_text(encoding="utf-8")


def test_ask_writes_answers_to_stdout_and_logs_to_stderr(env: dict[str, str]) -> None:
    with FakeLLMServer() as server:
        server.default = lambda body: ServerError(500)
        env.update(OPENAI_BASE_URL=server.base_url)
        result = run_bots(["ask", "is there parking near the restaurant?"], env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "car park" in result.stdout
    assert not LOG_LINE.search(result.stdout), result.stdout
    assert "llm failed" in result.stderr


def test_a_streamed_answer_with_the_offer_added_is_shown_once(env: dict[str, str]) -> None:
    with FakeLLMServer() as server:
        server.script(Reply("I don't know, sorry.", chunk_size=4))
        env.update(OPENAI_BASE_URL=server.base_url)
        shown = chat_in_a_terminal(env, "what is the wifi password of the moon?\n/quit\n")
    assert shown.count("I don't know, sorry.") == 1, shown
    assert "I don't know, sorry.\n\nWould you like me to ask someone from our team" in shown
