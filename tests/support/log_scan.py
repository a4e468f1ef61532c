"""A pytest plugin: every log record at INFO or above, in every test, is scanned at the end of
the session for secrets the tests use and for message text users sent; any hit fails the run.

Secrets are the tests' own keys and tokens (`SECRETS`, plus `remember_secret`). User text is
filled in as it is sent: the fake LLM server registers every user-role message it receives
(`remember_user_text`), and tests may add more. Short texts ("hi", "yes") are ignored: they
occur in ordinary log lines by chance, and a log line quoting a whole message is the leak
this looks for.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

MIN_TEXT_CHARS = 12
# Every key, token and signing secret the test suite hands to the bot.
SECRETS: set[str] = {
    "sk-test-0123456789-secret",  # tests/conftest.py API_KEY
    "test-signing-secret",  # tests/unit/adapters/slack/test_adapter.py
    "slack-signing-secret",  # tests/e2e/test_slack_cli.py
    "xoxb-test-token",
    "xapp-test-token",
}
# Leaks already known and pinned by a strict xfail test, reported but not failing the run:
# (logger, how the message starts). Remove an entry when its xfail test starts passing.
KNOWN_LEAKS: tuple[tuple[str, str], ...] = ()
_user_texts: set[str] = set()
_lock = threading.Lock()  # the fake servers register from their own threads


def remember_secret(secret: str) -> None:
    with _lock:
        SECRETS.add(secret)


def remember_user_text(text: str) -> None:
    """A message a user sent: it must never appear in a log line at INFO or above."""
    for part in text.split("\n\n"):  # the prompt merges consecutive messages with a blank line
        part = part.strip()
        if len(part) >= MIN_TEXT_CHARS:
            with _lock:
                _user_texts.add(part)


@dataclass(frozen=True)
class Leak:
    test: str
    logger: str
    level: str
    what: str


class _Recorder(logging.Handler):
    """Keeps (test, record) for every record at INFO or above."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.test = "(outside tests)"
        self.records: list[tuple[str, str, str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a broken format string: keep the raw parts
            text = f"{record.msg} {record.args}"
        if record.exc_info and record.exc_info[1] is not None:
            text += f" {record.exc_info[1]}"
        self.records.append((self.test, record.name, record.levelname, text))


_recorder = _Recorder()


def _known(logger: str, text: str) -> bool:
    return any(logger == name and text.startswith(start) for name, start in KNOWN_LEAKS)


def leaks(*, known: bool = False) -> list[Leak]:
    """Leaks in the records so far; with `known`, only those listed in KNOWN_LEAKS."""
    with _lock:
        secrets, texts = sorted(SECRETS), sorted(_user_texts)
    found = []
    for test, logger, level, text in _recorder.records:
        if _known(logger, text) != known:
            continue
        for secret in secrets:
            if secret in text:
                found.append(Leak(test, logger, level, "a secret (" + secret[:6] + "…)"))
        for user_text in texts:
            if user_text in text:
                found.append(Leak(test, logger, level, f"user text {user_text[:40]!r}"))
    return found


def pytest_sessionstart(session: pytest.Session) -> None:
    logging.getLogger().addHandler(_recorder)


@pytest.fixture(autouse=True)
def _scan_logs_at_info(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test runs with the root logger at INFO at least, so INFO records are made."""
    root = logging.getLogger()
    level = root.level
    if root.level > logging.INFO:
        root.setLevel(logging.INFO)
    _recorder.test = request.node.nodeid
    yield
    _recorder.test = "(outside tests)"
    root.setLevel(level)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    logging.getLogger().removeHandler(_recorder)
    found, known = leaks(), leaks(known=True)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        scanned = len(_recorder.records)
        reporter.write_line(
            f"log scan: {scanned} records at INFO+ checked for {len(SECRETS)} secrets and "
            f"{len(_user_texts)} user texts: {len(found)} leaks "
            f"({len(known)} more already known, see KNOWN_LEAKS)"
        )
        kinds = Counter((leak.test, leak.logger, leak.level, leak.what) for leak in found)
        for (test, logger, level, what), times in kinds.most_common(30):
            line = f"LOG LEAK in {test}: {logger} {level}: {what} ({times}x)"
            reporter.write_line(line, red=True)
    if found:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
