"""Shared fixtures: a small test persona and knowledge, a temp SQLite store, a fake LLM server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bots.knowledge.files import load_knowledge
from bots.knowledge.persona import Persona, load_persona
from bots.llm.client import OpenAIChatClient, RetryPolicy
from bots.secret import Secret
from bots.store.sqlite import SQLiteStore
from bots.turn.engine import Engine
from bots.turn.runtime import PersonaRuntime
from tests.fakes.fake_llm import FakeLLMServer

# Every log record at INFO+ of the whole run is scanned for secrets and user text at the end.
pytest_plugins = ("tests.support.log_scan",)

DATA = Path(__file__).parent / "data"
API_KEY = "sk-test-0123456789-secret"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/e2e/ starts real processes or servers: mark it `slow`."""
    e2e = Path(__file__).parent / "e2e"
    for item in items:
        if e2e in Path(item.path).parents:
            item.add_marker(pytest.mark.slow)


class RecordingSleep:
    """Stands in for asyncio.sleep so retry back-off is observed, never waited."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def cafe_persona() -> Persona:
    return load_persona(DATA / "personas" / "cafe.yaml")


@pytest.fixture
def cafe_runtime(cafe_persona: Persona) -> PersonaRuntime:
    entries = load_knowledge(DATA / "knowledge", cafe_persona.knowledge.sets)
    return PersonaRuntime.build(cafe_persona, entries, None)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "bots.sqlite3"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[SQLiteStore]:
    opened = SQLiteStore(db_path)
    await opened.open()
    yield opened
    await opened.close()


@pytest.fixture
def llm_server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
async def llm_client(
    llm_server: FakeLLMServer, sleep: RecordingSleep
) -> AsyncIterator[OpenAIChatClient]:
    client = OpenAIChatClient(
        llm_server.base_url,
        Secret(API_KEY),
        # Generous: a busy machine must not turn a slow local reply into a retry (tests of
        # timeouts build their own client with a short one).
        timeout=5.0,
        retry=RetryPolicy(max_attempts=3),
        sleep=sleep,
    )
    yield client
    await client.aclose()


@pytest.fixture
def engine(
    store: SQLiteStore, cafe_runtime: PersonaRuntime, llm_client: OpenAIChatClient
) -> Engine:
    return Engine(
        store=store, personas={"cafe": cafe_runtime}, default_persona="cafe", llm=llm_client
    )


@pytest.fixture
def offline_engine(store: SQLiteStore, cafe_runtime: PersonaRuntime) -> Engine:
    return Engine(store=store, personas={"cafe": cafe_runtime}, default_persona="cafe", llm=None)
