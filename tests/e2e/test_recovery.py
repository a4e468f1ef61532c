"""A turn the process died in the middle of is answered once after a restart, on both stores;
a database failing mid-turn gives the user an honest notice instead of a crash."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest

from bots.llm.client import OpenAIChatClient, RetryPolicy
from bots.models import (
    EngineEvent,
    FinalReply,
    IncomingMessage,
    ReplySource,
    Role,
    SilenceReason,
    Silent,
    ThreadKey,
)
from bots.secret import Secret
from bots.store import Store
from bots.store.postgres import PostgresStore
from bots.store.sqlite import SQLiteStore
from bots.turn.engine import RESUMED_NOTE, STORE_TROUBLE, Engine, utc_now
from bots.turn.runtime import PersonaRuntime
from tests.conftest import API_KEY, DATA
from tests.contracts.test_store_postgres import (
    PROBE_TIMEOUT_SECONDS,
    SERVER_URL,
    _require_server,
    _with_search_path,
)
from tests.fakes.fake_llm import FakeLLMServer, Reply, Stall, Trickle
from tests.support.cli_runner import ROOT, clean_env
from tests.support.fake_time import FakeTime

KEY = ThreadKey("test", "W1", "C1", "T1")
AFTER_THE_DEADLINE = timedelta(minutes=5)


def message(text: str, message_id: str = "m1") -> IncomingMessage:
    return IncomingMessage(key=KEY, author_id="U1", text=text, message_id=message_id)


async def collect(events: AsyncIterator[EngineEvent]) -> list[EngineEvent]:
    return [event async for event in events]


@pytest.fixture(params=["sqlite", "postgres"])
async def any_store(request: pytest.FixtureRequest, db_path: Path) -> AsyncIterator[Store]:
    """The SQLite store, then the PostgreSQL store in a schema of its own."""
    if request.param == "sqlite":
        sqlite_store = SQLiteStore(db_path)
        await sqlite_store.open()
        yield sqlite_store
        await sqlite_store.close()
        return
    await _require_server()
    schema = f"bots_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(SERVER_URL, timeout=PROBE_TIMEOUT_SECONDS)
    try:
        await admin.execute(f"CREATE SCHEMA {schema}")
        postgres_store = PostgresStore(_with_search_path(SERVER_URL, schema))
        await postgres_store.open()
        yield postgres_store
        await postgres_store.close()
    finally:
        await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await admin.close()


@pytest.fixture
async def patient_client(llm_server: FakeLLMServer) -> AsyncIterator[OpenAIChatClient]:
    """A client that waits out a stalled server: the turn stays in flight until cancelled,
    however slowly a loaded machine runs the test."""
    client = OpenAIChatClient(
        llm_server.base_url, Secret(API_KEY), timeout=60, retry=RetryPolicy(max_attempts=1)
    )
    yield client
    await client.aclose()


def engine_on(
    store: Store, runtime: PersonaRuntime, llm: OpenAIChatClient, *, later: bool = False
) -> Engine:
    """`later`: a process that looks after the interrupted turn's deadline passed (sharing
    PostgreSQL, no process takes a turn over before that; see the deadline test below)."""
    clock = (lambda: utc_now() + AFTER_THE_DEADLINE) if later else utc_now
    return Engine(
        store=store, personas={"cafe": runtime}, default_persona="cafe", llm=llm, clock=clock
    )


async def interrupt_a_turn(engine: Engine, llm_server: FakeLLMServer, text: str) -> None:
    """Start a turn, wait until the model was asked, then kill it as a crash would."""
    llm_server.script(Stall(30))
    turn = asyncio.create_task(collect(engine.handle(message(text))))
    assert await asyncio.to_thread(llm_server.wait_for_requests, len(llm_server.requests) + 1)
    turn.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await turn


async def test_an_interrupted_turn_is_answered_once_after_a_restart(
    any_store: Store,
    cafe_runtime: PersonaRuntime,
    patient_client: OpenAIChatClient,
    llm_server: FakeLLMServer,
) -> None:
    first = engine_on(any_store, cafe_runtime, patient_client)
    await interrupt_a_turn(first, llm_server, "is there wifi?")

    restarted = engine_on(any_store, cafe_runtime, patient_client, later=True)
    pending = await restarted.interrupted()
    assert [(m.key, m.text, m.message_id) for m in pending] == [(KEY, "is there wifi?", "m1")]
    llm_server.script(Reply("Yes, free wifi [wifi]."))
    events = await collect(restarted.resume(pending[0]))
    assert [e.text for e in events if isinstance(e, FinalReply)] == ["Yes, free wifi."]
    # The model saw the user's message once, as the last message, like any other turn.
    sent = llm_server.requests[-1].body["messages"]
    assert sent[-1] == {"role": "user", "content": "is there wifi?"}
    assert sum("is there wifi?" in str(m["content"]) for m in sent) == 1

    # Never twice: not on a second restart, not on the same message handed in again,
    # and a redelivered platform event is still a duplicate.
    assert await restarted.interrupted() == []
    again = await collect(restarted.resume(pending[0]))
    assert again == [Silent(SilenceReason.DUPLICATE)]
    redelivered = await collect(restarted.handle(message("is there wifi?")))
    assert redelivered == [Silent(SilenceReason.DUPLICATE)]
    conversation = await any_store.get_conversation(KEY)
    assert conversation is not None
    turns = await any_store.recent_turns(conversation.id, 10)
    assert [(t.role, t.text) for t in turns] == [
        (Role.USER, "is there wifi?"),
        (Role.NOTE, RESUMED_NOTE),
        (Role.ASSISTANT, "Yes, free wifi."),
    ]


async def test_two_processes_resuming_at_once_answer_once(
    any_store: Store,
    cafe_runtime: PersonaRuntime,
    patient_client: OpenAIChatClient,
    llm_server: FakeLLMServer,
) -> None:
    first = engine_on(any_store, cafe_runtime, patient_client)
    await interrupt_a_turn(first, llm_server, "parking?")
    # Two engines stand for two processes: neither shares the other's in-memory locks.
    one, two = (engine_on(any_store, cafe_runtime, patient_client, later=True) for _ in range(2))
    pending_one, pending_two = await one.interrupted(), await two.interrupted()
    assert len(pending_one) == len(pending_two) == 1
    results = await asyncio.gather(
        collect(one.resume(pending_one[0])), collect(two.resume(pending_two[0]))
    )
    replies = [e for events in results for e in events if isinstance(e, FinalReply)]
    assert len(replies) == 1
    assert Silent(SilenceReason.DUPLICATE) in [e for events in results for e in events]


async def test_a_message_answered_meanwhile_is_not_resumed(
    any_store: Store,
    cafe_runtime: PersonaRuntime,
    patient_client: OpenAIChatClient,
    llm_server: FakeLLMServer,
) -> None:
    engine = engine_on(any_store, cafe_runtime, patient_client)
    await interrupt_a_turn(engine, llm_server, "is there wifi?")
    pending = await engine_on(any_store, cafe_runtime, patient_client, later=True).interrupted()
    # The user wrote again before the restart's recovery ran: that turn answered both.
    await collect(engine.handle(message("hello again", "m2")))
    assert await collect(engine.resume(pending[0])) == [Silent(SilenceReason.DUPLICATE)]


async def test_min_age_leaves_young_turns_to_the_process_still_answering_them(
    store: SQLiteStore,
    cafe_runtime: PersonaRuntime,
    patient_client: OpenAIChatClient,
    llm_server: FakeLLMServer,
) -> None:

    engine = engine_on(store, cafe_runtime, patient_client)
    await interrupt_a_turn(engine, llm_server, "is there wifi?")
    assert await engine.interrupted(min_age=timedelta(minutes=5)) == []
    assert len(await engine.interrupted()) == 1


async def test_a_turn_inside_its_deadline_is_left_to_the_process_answering_it(
    any_store: Store,
    cafe_runtime: PersonaRuntime,
    patient_client: OpenAIChatClient,
    llm_server: FakeLLMServer,
) -> None:
    time = FakeTime()

    def process() -> Engine:
        return Engine(
            store=any_store,
            personas={"cafe": cafe_runtime},
            default_persona="cafe",
            llm=patient_client,
            clock=time.now,
            sleep=time.sleep,
            turn_timeout=120,
        )

    one, two = process(), process()
    llm_server.script(Trickle("slow ", every_ms=20))
    turn = asyncio.create_task(collect(one.handle(message("is there wifi?"))))
    for _ in range(1000):
        if llm_server.trickled >= 3:
            break
        await asyncio.sleep(0.01)
    time.advance(1)
    assert await one.interrupted() == []  # its own live turn, never
    if any_store.shared:
        # Sharing PostgreSQL, the other process sees the deadline in the store and waits.
        assert await two.interrupted() == []
        time.advance(100)
        assert await two.interrupted() == []
    else:
        # A SQLite file has one process: an unanswered message there is a dead run's.
        assert len(await two.interrupted()) == 1
    # The answering process dies (its turn is cancelled, as a SIGKILL would end it).
    turn.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await turn
    time.advance(40)  # past the 120 s deadline and its grace
    assert [m.message_id for m in await two.interrupted()] == ["m1"]


async def test_a_locked_database_gives_an_honest_notice_and_loses_nothing(
    db_path: Path, cafe_runtime: PersonaRuntime, llm_client: OpenAIChatClient
) -> None:
    """Another process holds a write transaction longer than the store waits for it."""
    store = SQLiteStore(db_path, busy_timeout_ms=50)
    await store.open()
    try:
        engine = engine_on(store, cafe_runtime, llm_client)
        await collect(engine.handle(message("hello", "m0")))
        holder = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _HOLD_WRITE_LOCK,
            str(db_path),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert holder.stdout is not None
        assert holder.stdin is not None
        try:
            assert (await holder.stdout.readline()).strip() == b"locked"
            events = await collect(engine.handle(message("is there wifi?", "m1")))
            assert events == [FinalReply(text=STORE_TROUBLE, source=ReplySource.FALLBACK)]
        finally:
            holder.stdin.close()
            await holder.wait()
        # The lock is gone: the user sends again and is answered; the history is intact.
        events = await collect(engine.handle(message("is there wifi?", "m2")))
        assert events[-1] == FinalReply(text="OK", source=ReplySource.LLM, usage=events[-1].usage)  # type: ignore[union-attr]
        conversation = await store.get_conversation(KEY)
        assert conversation is not None
        texts = [t.text for t in await store.recent_turns(conversation.id, 10)]
        assert texts == ["hello", "OK", "is there wifi?", "OK"]
    finally:
        await store.close()


# A second process that takes SQLite's write lock and keeps it until its stdin closes.
_HOLD_WRITE_LOCK = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
db.execute("UPDATE conversations SET persona = persona")
print("locked", flush=True)
sys.stdin.read()
db.execute("COMMIT")
"""


def test_sigkill_in_the_middle_of_a_turn_then_restart_answers_it_once(tmp_path: Path) -> None:
    """The real `bots chat`, killed with SIGKILL while the model is still writing."""
    database = tmp_path / "bots.sqlite3"
    with FakeLLMServer() as llm:
        llm.script(Stall(60))
        env = clean_env(
            DATABASE_URL=f"sqlite:///{database}",
            OPENAI_API_KEY=API_KEY,
            OPENAI_BASE_URL=llm.base_url,
            BOTS_PERSONAS_DIR=str(DATA / "personas"),
            BOTS_KNOWLEDGE_DIR=str(DATA / "knowledge"),
            BOTS_PERSONA="cafe",
        )
        bot = subprocess.Popen(
            [sys.executable, "-m", "bots", "chat"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        assert bot.stdin is not None
        try:
            bot.stdin.write("is there wifi?\n")
            bot.stdin.flush()
            assert llm.wait_for_requests(1, timeout=60), "the bot never asked the model"
        finally:
            os.kill(bot.pid, signal.SIGKILL)
            bot.communicate(timeout=30)
        assert bot.returncode == -signal.SIGKILL

        llm.default = lambda body: Reply("Yes, free wifi [wifi].")
        args = [sys.executable, "-m", "bots", "chat", "--resume"]
        run = dict(input="", capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
        restarted = subprocess.run(args, check=False, **run)  # type: ignore[call-overload]
        assert restarted.returncode == 0, restarted.stderr
        assert restarted.stdout.count("Yes, free wifi.") == 1
        again = subprocess.run(args, check=False, **run)  # type: ignore[call-overload]
        assert again.returncode == 0, again.stderr
        assert "Yes, free wifi." not in again.stdout
        assert len(llm.requests) == 2

    with contextlib.closing(sqlite3.connect(database)) as db:
        rows = db.execute("SELECT role, text FROM turns ORDER BY id").fetchall()
    assert rows == [
        ("user", "is there wifi?"),
        ("note", RESUMED_NOTE),
        ("assistant", "Yes, free wifi."),
    ]
