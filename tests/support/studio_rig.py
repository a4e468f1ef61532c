"""A real `bots studio` process on copies of the shipped folders, and a headless Chromium.

Shared by the browser tests (tests/e2e/test_studio_browser.py) and the screenshot script
(benchmarks/studio_screenshots.py), so the pictures show what the tests check.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.cli_runner import clean_env
from tests.support.paths import REPO_ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401 - only to know it is installed
    except ImportError:
        return "the playwright package is missing (pip install playwright)"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class StudioProcess:
    url: str
    folder: Path
    process: subprocess.Popen[str]

    @property
    def personas(self) -> Path:
        return self.folder / "personas"

    @property
    def knowledge(self) -> Path:
        return self.folder / "knowledge"


def copy_project_folders(folder: Path) -> dict[str, str]:
    """Copies of personas/ and knowledge/, and the settings that point the bot at them."""
    shutil.copytree(REPO_ROOT / "personas", folder / "personas")
    shutil.copytree(REPO_ROOT / "knowledge", folder / "knowledge")
    return {
        "BOTS_PERSONAS_DIR": str(folder / "personas"),
        "BOTS_KNOWLEDGE_DIR": str(folder / "knowledge"),
        "DATABASE_URL": f"sqlite:///{folder / 'bots.sqlite3'}",
        "BOTS_SEMANTIC": "0",
    }


@contextmanager
def running_studio(
    folder: Path, *, host: str = "127.0.0.1", extra_env: Mapping[str, str] | None = None
) -> Iterator[StudioProcess]:
    """`python -m bots studio` on copies of the folders, until the block ends."""
    env = clean_env(**copy_project_folders(folder), **(extra_env or {}))
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bots", "studio", "--host", host, "--port", str(port)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_for_port(port, process)
        yield StudioProcess(f"http://127.0.0.1:{port}", folder, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _wait_for_port(port: int, process: subprocess.Popen[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise RuntimeError(f"bots studio exited with {process.returncode}: {output}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)  # a process start has no event to wait on
    raise RuntimeError(f"bots studio did not listen on port {port} within {timeout}s")


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium browser (Debian's), driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


class RunningChat:
    """A `bots chat` process, asked questions on stdin, its answers read line by line."""

    def __init__(self, env: Mapping[str, str]) -> None:
        import queue
        import threading

        self.process = subprocess.Popen(
            [sys.executable, "-m", "bots", "chat"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=dict(env),
            cwd=REPO_ROOT,
        )
        self._lines: queue.Queue[str] = queue.Queue()
        stdout = self.process.stdout
        assert stdout is not None
        threading.Thread(target=lambda: [self._lines.put(x) for x in stdout], daemon=True).start()

    def ask_until(self, question: str, expected: str, seconds: float) -> bool:
        """Ask again and again until an answer holds `expected` (a hot reload takes a moment)."""
        import queue

        stdin = self.process.stdin
        assert stdin is not None
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            stdin.write(question + "\n")
            stdin.flush()
            try:
                while True:
                    line = self._lines.get(timeout=1.0)
                    if expected in line:
                        return True
                    if "source:" in line:
                        break
            except queue.Empty:
                pass
        return False

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


@contextmanager
def running_chat(env: Mapping[str, str]) -> Iterator[RunningChat]:
    chat = RunningChat(env)
    try:
        yield chat
    finally:
        chat.close()
