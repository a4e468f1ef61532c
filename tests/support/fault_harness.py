"""Fault injection: real conversations through the Engine, the real OpenAI client and a store,
with faults injected in the fake LLM server, the database and the process; every message is
accounted for. Used by tests/e2e/test_faults.py (small runs) and benchmarks/faults.py (the table).

Each user message must end in exactly one reply or one honest failure notice (a hand-off to
people counts as one: the user is told a person will answer). `lost` counts messages with no
answer at all and answered messages missing from the stored history; `duplicates` counts
second answers, in what the user saw and in the history.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from bots.knowledge.files import load_knowledge
from bots.knowledge.persona import load_persona
from bots.llm.client import OpenAIChatClient, RetryPolicy
from bots.models import (
    EngineEvent,
    FinalReply,
    HandoffRequested,
    IncomingMessage,
    ReplySource,
    Role,
    ThreadKey,
)
from bots.secret import Secret
from bots.store import Store
from bots.store.sqlite import SQLiteStore
from bots.turn.engine import STORE_TROUBLE, Engine
from bots.turn.runtime import PersonaRuntime
from tests.fakes.fake_llm import (
    ContextLengthError,
    CutStream,
    FakeLLMServer,
    Malformed,
    RateLimited,
    Reply,
    ServerError,
    Stall,
    StallMidStream,
    Step,
    Trickle,
)
from tests.support.cli_runner import ROOT, clean_env

API_KEY = "sk-test-0123456789-secret"
QUESTIONS = (
    "Is there parking near the restaurant?",
    "What time do you open on Sunday?",
    "Do you have vegan dishes?",
    "Can I bring my dog?",
    "Do you sell gift cards?",
    "What is the wifi password?",
    "Do you have gluten free bread?",
    "Can I book a table for twelve people?",
    "What is your favourite football team?",
    "Do you deliver to the airport?",
)
ANSWER = "Happy to help! Here is what our FAQ says about that."
CLIENT_TIMEOUT = 0.5  # seconds between bytes: a stalled server times out quickly
TRICKLE_DEADLINE = 2.0
"""The turn deadline of the trickle rows (BOTS_TURN_TIMEOUT): short, so the run is quick."""
TRICKLE_EVERY_MS = 20.0  # well under the client's between-bytes timeout: only the deadline helps
Progress = Callable[[str], None]


@dataclass
class Tally:
    scenario: str
    faults: int = 0
    sent: int = 0
    replies: int = 0
    notices: int = 0
    duplicates: int = 0
    lost: int = 0
    nowhere: int = 0
    """Answers with nowhere to go (the thread was deleted meanwhile), dropped and logged."""
    longest: float = 0.0
    """The longest turn, in seconds (a turn that never ends would show here)."""

    def row(self) -> dict[str, Any]:
        return asdict(self)


# -- LLM faults ----------------------------------------------------------------------------


class FaultyModel:
    """The fake server's responder: a fault on a share of requests, else a streamed answer."""

    def __init__(self, fault: Callable[[], Step] | None, share: float, seed: int = 7) -> None:
        self._fault = fault
        self._share = share
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.injected = 0

    def __call__(self, body: dict[str, Any]) -> Step:
        with self._lock:
            hit = self._fault is not None and self._random.random() < self._share
            if hit:
                self.injected += 1
        if hit and self._fault is not None:
            return self._fault()
        return Reply(ANSWER, chunk_size=12)


LLM_FAULTS: dict[str, tuple[Callable[[], Step] | None, float]] = {
    "no faults": (None, 0.0),
    "429 storm with Retry-After": (lambda: RateLimited(retry_after="2"), 0.6),
    "500 errors": (lambda: ServerError(500), 0.4),
    "timeouts (server silent)": (lambda: Stall(CLIENT_TIMEOUT * 2), 0.3),
    "stream cut mid-answer": (lambda: CutStream(ANSWER, after_chars=20), 0.3),
    "stream stalls mid-answer": (
        lambda: StallMidStream(ANSWER, after_chars=20, seconds=CLIENT_TIMEOUT * 2),
        0.3,
    ),
    "malformed JSON": (lambda: Malformed("{not json", "application/json"), 0.4),
    "context-length errors": (ContextLengthError, 0.4),
    f"trickles forever (a token every {TRICKLE_EVERY_MS:g} ms), turn deadline "
    f"{TRICKLE_DEADLINE:g} s": (lambda: Trickle("word ", every_ms=TRICKLE_EVERY_MS), 0.3),
    "ignores max_tokens (never stops writing)": (lambda: Trickle("word ", every_ms=0.2), 0.3),
}
DEADLINES = {name: TRICKLE_DEADLINE for name in LLM_FAULTS if name.startswith("trickles")}


async def _no_wait(seconds: float) -> None:
    """Back-off and Retry-After are honoured by the client; the harness does not sit them out."""


@contextlib.asynccontextmanager
async def engine_for(
    store: Store, server: FakeLLMServer, turn_timeout: float = 90.0
) -> AsyncIterator[Engine]:
    persona = load_persona(ROOT / "personas" / "restaurant.yaml")
    entries = load_knowledge(ROOT / "knowledge", persona.knowledge.sets)
    runtime = PersonaRuntime.build(persona, entries, None)
    client = OpenAIChatClient(
        server.base_url,
        Secret(API_KEY),
        timeout=CLIENT_TIMEOUT,
        retry=RetryPolicy(max_attempts=3),
        sleep=_no_wait,
    )
    try:
        yield Engine(
            store=store,
            personas={"restaurant": runtime},
            default_persona="restaurant",
            llm=client,
            turn_timeout=turn_timeout,
        )
    finally:
        await client.aclose()


def _classify(events: list[EngineEvent], tally: Tally, notice_lead: str) -> str | None:
    """Count one message's outcome; returns "answered", "store" (told to resend) or None."""
    outcomes = [e for e in events if isinstance(e, FinalReply | HandoffRequested)]
    if not outcomes:
        tally.lost += 1
        return None
    tally.duplicates += len(outcomes) - 1
    first = outcomes[0]
    if isinstance(first, HandoffRequested):
        tally.notices += 1
    elif first.text == STORE_TROUBLE:
        tally.notices += 1
        return "store"
    elif first.source in (ReplySource.KNOWLEDGE, ReplySource.FALLBACK) and (
        notice_lead in first.text
    ):
        # The "service is down" notice: alone with the FAQ's answer, or after the part of
        # an answer that was written before the model broke off (marked as cut short).
        tally.notices += 1
    else:
        tally.replies += 1
    return "answered"


async def converse(
    engine: Engine,
    tally: Tally,
    *,
    conversations: int,
    turns: int,
    progress: Progress,
    redeliver: bool = False,
    between_turns: Callable[[int], Awaitable[None]] | None = None,
) -> dict[ThreadKey, list[str]]:
    """Run the conversations concurrently; returns, per thread, the ids of answered messages."""
    notice_lead = engine_notice_lead(engine)
    answered: dict[ThreadKey, list[str]] = {}

    async def one(n: int) -> None:
        key = ThreadKey("faults", "W", "C", f"{tally.scenario}-{n}")
        answered[key] = []
        for t in range(turns):
            text = QUESTIONS[(n + t) % len(QUESTIONS)]
            message = IncomingMessage(key=key, author_id=f"U{n}", text=text, message_id=f"{n}.{t}")
            tally.sent += 1
            started = time.perf_counter()
            if redeliver:  # the platform sends the same event twice, at once
                both = await asyncio.gather(_events(engine, message), _events(engine, message))
                events = [*both[0], *both[1]]
                tally.faults += 1
            else:
                events = await _events(engine, message)
            tally.longest = max(tally.longest, time.perf_counter() - started)
            if _classify(events, tally, notice_lead) == "answered":
                answered[key].append(message.message_id)
            if any(isinstance(e, HandoffRequested) for e in events):
                await engine.resolve(key, "staff")  # the team answers, then hands back
            if between_turns is not None:
                await between_turns(tally.sent)
        progress(f"{tally.scenario}: conversation {n + 1}/{conversations} done")

    await asyncio.gather(*(one(n) for n in range(conversations)))
    return answered


def engine_notice_lead(engine: Engine) -> str:
    persona = load_persona(ROOT / "personas" / "restaurant.yaml")
    return persona.fallback.llm_unavailable


async def _events(engine: Engine, message: IncomingMessage) -> list[EngineEvent]:
    async with contextlib.aclosing(engine.handle(message)) as stream:
        return [event async for event in stream]


async def audit_history(store: Store, answered: dict[ThreadKey, list[str]], tally: Tally) -> None:
    """Every answered message is stored, and is followed by at most one bot answer."""
    for key, message_ids in answered.items():
        conversation = await store.get_conversation(key)
        turns = [] if conversation is None else await store.recent_turns(conversation.id, 10_000)
        stored = {t.message_id for t in turns if t.role is Role.USER}
        tally.lost += sum(1 for m in message_ids if m not in stored)
        replies_since_user = 0
        for turn in turns:
            if turn.role is Role.USER:
                replies_since_user = 0
            elif turn.role is Role.ASSISTANT:
                replies_since_user += 1
                if replies_since_user > 1:
                    tally.duplicates += 1


async def llm_scenario(
    name: str, workdir: Path, *, conversations: int, turns: int, progress: Progress
) -> Tally:
    fault, share = LLM_FAULTS[name]
    tally = Tally(name)
    model = FaultyModel(fault, share)
    store = SQLiteStore(workdir / f"llm-{abs(hash(name))}.sqlite3")
    await store.open()
    try:
        with FakeLLMServer() as server:
            server.default = model
            async with engine_for(store, server, DEADLINES.get(name, 90.0)) as engine:
                answered = await converse(
                    engine, tally, conversations=conversations, turns=turns, progress=progress
                )
        await audit_history(store, answered, tally)
    finally:
        await store.close()
    tally.faults = model.injected
    return tally


async def redelivery_scenario(
    workdir: Path, *, conversations: int, turns: int, progress: Progress
) -> Tally:
    tally = Tally("every event delivered twice at once")
    store = SQLiteStore(workdir / "redelivery.sqlite3")
    await store.open()
    try:
        with FakeLLMServer() as server:
            server.default = FaultyModel(None, 0.0)
            async with engine_for(store, server) as engine:
                answered = await converse(
                    engine,
                    tally,
                    conversations=conversations,
                    turns=turns,
                    progress=progress,
                    redeliver=True,
                )
        await audit_history(store, answered, tally)
    finally:
        await store.close()
    return tally


# -- store faults --------------------------------------------------------------------------

_HOLD_LOCK = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
for line in sys.stdin:
    if line.strip() == "lock":
        db.execute("BEGIN IMMEDIATE")
        db.execute("UPDATE conversations SET persona = persona WHERE 0")
        print("locked", flush=True)
    elif line.strip() == "unlock":
        db.execute("COMMIT")
        print("unlocked", flush=True)
"""


class LockHolder:
    """Another process that takes SQLite's write lock when told to, and gives it back."""

    def __init__(self, path: Path) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-c", _HOLD_LOCK, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.holds = 0
        self._holding: threading.Thread | None = None
        self._guard = threading.Lock()

    def _say(self, word: str, expect: str) -> None:
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._process.stdin.write(word + "\n")
        self._process.stdin.flush()
        assert self._process.stdout.readline().strip() == expect

    def hold(self, seconds: float) -> bool:
        """Take the lock now and give it back after `seconds` (unless already holding)."""
        with self._guard:  # conversations ask from several threads at once
            if self._holding is not None and self._holding.is_alive():
                return False
            self._say("lock", "locked")
            self.holds += 1

            def release() -> None:
                time.sleep(seconds)  # the other process's hold: real time on purpose
                with self._guard:
                    self._say("unlock", "unlocked")

            self._holding = threading.Thread(target=release)
            self._holding.start()
            return True

    def wait(self) -> None:
        if self._holding is not None:
            self._holding.join()

    def close(self) -> None:
        self.wait()
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(timeout=10)
        if self._process.stdout is not None:
            self._process.stdout.close()


async def sqlite_lock_scenario(
    workdir: Path,
    *,
    conversations: int,
    turns: int,
    progress: Progress,
    hold_seconds: float,
    busy_timeout_ms: int,
) -> Tally:
    """Every few messages another process holds the write lock for `hold_seconds`."""
    longer = hold_seconds * 1000 > busy_timeout_ms
    tally = Tally(
        f"SQLite locked by another process {hold_seconds:g} s "
        f"({'longer' if longer else 'shorter'} than the {busy_timeout_ms} ms busy timeout)"
    )
    path = workdir / f"locked-{busy_timeout_ms}.sqlite3"
    store = SQLiteStore(path, busy_timeout_ms=busy_timeout_ms)
    await store.open()
    holder = LockHolder(path)
    every = max(conversations, 2)

    async def maybe_lock(sent: int) -> None:
        if sent % every == 0:
            await asyncio.to_thread(holder.hold, hold_seconds)

    try:
        with FakeLLMServer() as server:
            server.default = FaultyModel(None, 0.0)
            async with engine_for(store, server) as engine:
                answered = await converse(
                    engine,
                    tally,
                    conversations=conversations,
                    turns=turns,
                    progress=progress,
                    between_turns=maybe_lock,
                )
        await asyncio.to_thread(holder.wait)
        await audit_history(store, answered, tally)
    finally:
        await store.close()
        await asyncio.to_thread(holder.close)
    tally.faults = holder.holds
    return tally


PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def private_postgres() -> Iterator[tuple[str, Callable[[], None]]]:
    """A PostgreSQL cluster of our own (initdb + pg_ctl in a temp dir, a free port), never
    the machine's shared server; yields its URL and a function that restarts it."""
    if not (PG_BIN / "initdb").exists():
        raise FileNotFoundError(f"no PostgreSQL binaries in {PG_BIN}")
    folder = Path(tempfile.mkdtemp(prefix="bots-pg-"))
    data, port = folder / "data", free_port()
    env = {**os.environ, "LC_ALL": "C"}
    run_as: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: use the postgres account
        shutil.chown(folder, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]

    def pg(*args: str) -> None:
        done = subprocess.run([*run_as, *args], capture_output=True, env=env, timeout=120)
        if done.returncode != 0:
            server_log = folder / "log"
            tail = server_log.read_text()[-800:] if server_log.exists() else ""
            raise RuntimeError(f"{Path(args[0]).name} failed: {done.stderr.decode()[-300:]}{tail}")

    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    pg(str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust")
    # `-l`: the server must not inherit our pipes, or reading them would never end.
    control = [str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log")]
    pg(*control, "-w", "start")

    def restart() -> None:
        pg(*control, "-m", "fast", "-w", "restart")

    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres", restart
    finally:
        with contextlib.suppress(subprocess.SubprocessError, RuntimeError):
            pg(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


async def postgres_restart_scenario(
    *, conversations: int, turns: int, progress: Progress, restarts: int = 1
) -> Tally:
    """PostgreSQL is restarted (fast shutdown, start) while conversations are under way."""
    from bots.store.postgres import PostgresStore

    tally = Tally("PostgreSQL restarted mid-run")
    total = conversations * turns
    marks = {total * (i + 1) // (restarts + 1) for i in range(restarts)}
    with private_postgres() as (url, restart):
        store = PostgresStore(url)
        await store.open()

        one_at_a_time = asyncio.Lock()

        async def maybe_restart(sent: int) -> None:
            due = {mark for mark in marks if sent >= mark}
            if not due:
                return
            marks.difference_update(due)  # before awaiting: conversations run at once
            async with one_at_a_time:
                progress(f"{tally.scenario}: restarting PostgreSQL after {sent} messages")
                await asyncio.to_thread(restart)
                tally.faults += 1

        try:
            with FakeLLMServer() as server:
                server.default = FaultyModel(None, 0.0)
                async with engine_for(store, server) as engine:
                    answered = await converse(
                        engine,
                        tally,
                        conversations=conversations,
                        turns=turns,
                        progress=progress,
                        between_turns=maybe_restart,
                    )
            await audit_history(store, answered, tally)
        finally:
            await store.close()
    return tally


# -- the process killed --------------------------------------------------------------------


def sigkill_scenario(workdir: Path, *, kills: int, progress: Progress) -> Tally:
    """`bots chat` killed with SIGKILL while the model writes; restarted with --resume.

    Each round: one question, the model stalls, SIGKILL, restart. The restarted bot must
    answer the question exactly once (or say it failed); the history must hold it once.
    """
    tally = Tally("bot killed with SIGKILL mid-turn, restarted")
    database = workdir / "sigkill.sqlite3"
    with FakeLLMServer() as server:
        env = clean_env(
            DATABASE_URL=f"sqlite:///{database}",
            OPENAI_API_KEY=API_KEY,
            OPENAI_BASE_URL=server.base_url,
            BOTS_PERSONA="restaurant",
        )
        for round_ in range(kills):
            question = QUESTIONS[round_ % len(QUESTIONS)]
            server.default = lambda body: Stall(60)
            args = [sys.executable, "-m", "bots", "chat", *(["--resume"] if round_ else [])]
            bot = subprocess.Popen(
                args,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
                cwd=ROOT,
            )
            assert bot.stdin is not None
            seen = len(server.requests)
            bot.stdin.write(question + "\n")
            bot.stdin.flush()
            tally.sent += 1
            arrived = server.wait_for_requests(seen + 1, timeout=120)
            os.kill(bot.pid, signal.SIGKILL)
            bot.communicate(timeout=30)
            tally.faults += 1
            if not arrived:
                tally.lost += 1
                continue
            server.default = lambda body: Reply(ANSWER)
            restarted = subprocess.run(
                [sys.executable, "-m", "bots", "chat", "--resume"],
                input="",
                capture_output=True,
                text=True,
                env=env,
                cwd=ROOT,
                timeout=120,
                check=False,
            )
            shown = restarted.stdout.count(ANSWER)
            if shown == 0:
                tally.lost += 1
            else:
                tally.replies += 1
                tally.duplicates += shown - 1
            progress(f"{tally.scenario}: round {round_ + 1}/{kills} done")
    with contextlib.closing(sqlite3.connect(database)) as db:
        rows = db.execute("SELECT role, message_id FROM turns ORDER BY id").fetchall()
    users = [m for role, m in rows if role == "user"]
    tally.lost += max(0, tally.sent - len(users)) + remaining_interrupted(database)
    answers = [role for role, _ in rows if role == "assistant"]
    tally.duplicates += max(0, len(answers) - len(users))
    return tally


def remaining_interrupted(database: Path) -> int:
    """Messages still waiting for an answer in a SQLite file (for the audit)."""

    async def count() -> int:
        store = SQLiteStore(database)
        await store.open()
        try:
            from datetime import UTC, datetime

            now = datetime.now(UTC)
            return len(await store.unanswered_turns(now - timedelta(days=1), now))
        finally:
            await store.close()

    return asyncio.run(count())
