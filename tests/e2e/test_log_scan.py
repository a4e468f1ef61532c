"""The log scan really fails a run: a planted leak in a pytest subprocess is reported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli_runner import ROOT

pytestmark = pytest.mark.security("log-scan")

PLANTED = """
import logging
from tests.support import log_scan as log_scan
log = logging.getLogger("bots.planted")

def test_leaks_{kind}():
    log_scan.remember_user_text("my order number is 12345 and it never came")
    log.{level}({message!r})
"""


def run_planted(
    tmp_path: Path, kind: str, level: str, message: str
) -> subprocess.CompletedProcess[str]:
    test = tmp_path / f"test_planted_{kind}.py"
    test.write_text(PLANTED.format(kind=kind, level=level, message=message), encoding="utf-8")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.support.log_scan",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            str(test),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_a_key_logged_at_info_fails_the_run(tmp_path: Path) -> None:
    run = run_planted(tmp_path, "key", "info", "calling with key sk-test-0123456789-secret")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 passed" in run.stdout  # the test itself passed: the scan failed the run
    assert "LOG LEAK in" in run.stdout
    assert "a secret (sk-tes…)" in run.stdout
    assert "0123456789" not in run.stdout.split("LOG LEAK", 1)[1]  # the report quotes no secret


def test_user_text_logged_at_warning_fails_the_run(tmp_path: Path) -> None:
    message = "user said: my order number is 12345 and it never came"
    run = run_planted(tmp_path, "text", "warning", message)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "user text 'my order number is 12345 and it never ca'" in run.stdout


def test_debug_records_and_clean_info_records_pass(tmp_path: Path) -> None:
    said = "user said: my order number is 12345 and it never came"
    debug = run_planted(tmp_path, "debug", "debug", said)
    clean = run_planted(tmp_path, "clean", "info", "turn done conversation=abc ms=3.1")
    assert debug.returncode == 0, debug.stdout + debug.stderr
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "0 leaks" in clean.stdout
