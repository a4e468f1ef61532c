"""/metrics and /healthz over real HTTP, after real turns through the engine and the fake LLM."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bots.errors import ConfigError
from bots.llm.client import OpenAIChatClient, RetryPolicy
from bots.llm.pricing import PriceTable
from bots.models import FinalReply, IncomingMessage, ReplySource, ThreadKey, Usage
from bots.ops.health import HealthCheck, LLMProbe, offline_probe, store_probe
from bots.ops.metrics import PrometheusTelemetry
from bots.ops.server import serve_ops
from bots.secret import Secret
from bots.store.sqlite import SQLiteStore
from bots.turn.engine import STORE_TROUBLE, Engine
from bots.turn.runtime import PersonaRuntime
from tests.conftest import API_KEY, RecordingSleep
from tests.fakes.fake_llm import FakeLLMServer, Reply, ServerError

_ids = itertools.count(1)
PRICES = PriceTable.parse("gpt-4o-mini=0.5/2")  # dollars per 1k tokens: easy sums


def message(text: str, thread: str = "t1", message_id: str | None = None) -> IncomingMessage:
    return IncomingMessage(
        key=ThreadKey("test", "w1", "c1", thread),
        author_id="u1",
        text=text,
        message_id=message_id or f"m{next(_ids)}",
    )


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def telemetry() -> PrometheusTelemetry:
    return PrometheusTelemetry(PRICES)


@pytest.fixture
async def client(
    llm_server: FakeLLMServer, sleep: RecordingSleep, telemetry: PrometheusTelemetry
) -> AsyncIterator[OpenAIChatClient]:
    client = OpenAIChatClient(
        llm_server.base_url,
        Secret(API_KEY),
        timeout=2,
        retry=RetryPolicy(max_attempts=2),
        sleep=sleep,
        telemetry=telemetry,
    )
    yield client
    await client.aclose()


@pytest.fixture
def observed_engine(
    store: SQLiteStore,
    cafe_runtime: PersonaRuntime,
    client: OpenAIChatClient,
    telemetry: PrometheusTelemetry,
) -> Engine:
    return Engine(
        store=store,
        personas={"cafe": cafe_runtime},
        default_persona="cafe",
        llm=client,
        telemetry=telemetry,
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def ops_url(
    telemetry: PrometheusTelemetry, store: SQLiteStore, llm_server: FakeLLMServer, clock: Clock
) -> AsyncIterator[str]:
    health = HealthCheck(
        {
            "store": store_probe(store.schema_version),
            "llm": LLMProbe(llm_server.base_url, Secret(API_KEY)),
        },
        cache_seconds=10,
        clock=clock,
    )
    loop = asyncio.get_running_loop()
    with serve_ops("127.0.0.1", 0, telemetry.registry, health, loop) as port:
        yield f"http://127.0.0.1:{port}"


async def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample on /metrics, by name and sorted labels."""
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


async def turn(engine: Engine, msg: IncomingMessage) -> list[object]:
    return [event async for event in engine.handle(msg)]


def labels(**pairs: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(pairs.items()))


async def test_metrics_count_real_turns(
    observed_engine: Engine, llm_server: FakeLLMServer, ops_url: str
) -> None:
    llm_server.script(Reply(text="We open at 8 [cafe-hours].", usage=(1000, 500)))
    answered = message("When are you open?")
    await turn(observed_engine, answered)
    await turn(observed_engine, answered)  # a redelivery: answered once, counted as duplicate
    await turn(observed_engine, message("I want to talk to a human please", thread="t2"))
    llm_server.script(ServerError(500), ServerError(500))
    events = await turn(observed_engine, message("Is there parking?", thread="t3"))
    assert any(isinstance(e, FinalReply) for e in events)  # from the FAQ, the model is down

    samples = await scrape(ops_url)
    cafe = {"persona": "cafe", "platform": "test"}
    assert samples[("bots_turns_total", labels(**cafe, outcome="reply_llm"))] == 1
    assert samples[("bots_turns_total", labels(**cafe, outcome="silent_duplicate"))] == 1
    assert samples[("bots_turns_total", labels(**cafe, outcome="handoff"))] == 1
    assert samples[("bots_turns_total", labels(**cafe, outcome="reply_knowledge"))] == 1
    assert samples[("bots_turn_seconds_count", labels(**cafe))] == 4
    assert samples[("bots_handoffs_total", labels(reason="user_asked"))] == 1
    # The hand-off asked the model for a summary too: two completed calls in all.
    model = {"model": "gpt-4o-mini"}
    assert samples[("bots_llm_seconds_count", labels(**model))] == 2
    assert samples[("bots_llm_first_token_seconds_count", labels(**model))] == 2
    tokens_in = samples[("bots_llm_tokens_total", labels(**model, direction="in"))]
    tokens_out = samples[("bots_llm_tokens_total", labels(**model, direction="out"))]
    assert tokens_in > 1000  # 1000 from the answer, the fake's rough count for the summary
    assert tokens_out > 500
    cost = samples[("bots_llm_cost_dollars_total", labels(**model))]
    assert cost == pytest.approx(tokens_in / 1000 * 0.5 + tokens_out / 1000 * 2)
    assert samples[("bots_errors_total", labels(component="llm", kind="LLMServerError"))] == 1
    # Retrieval confidence: one observation per question that reached retrieval.
    assert samples[("bots_retrieval_confidence_count", labels(persona="cafe"))] == 2
    assert samples[("bots_retrieval_confidence_bucket", labels(persona="cafe", le="0.0"))] == 0


async def test_the_exact_cost_of_one_answer(
    observed_engine: Engine, llm_server: FakeLLMServer, ops_url: str
) -> None:
    llm_server.script(Reply(text="Yes, there is wifi [cafe-wifi].", usage=(1200, 300)))
    await turn(observed_engine, message("Do you have wifi?"))
    samples = await scrape(ops_url)
    model = {"model": "gpt-4o-mini"}
    assert samples[("bots_llm_tokens_total", labels(**model, direction="in"))] == 1200
    assert samples[("bots_llm_tokens_total", labels(**model, direction="out"))] == 300
    # 1.2k in at $0.5 and 0.3k out at $2 per 1k tokens
    assert samples[("bots_llm_cost_dollars_total", labels(**model))] == pytest.approx(1.2)


async def test_a_store_failure_is_counted(
    observed_engine: Engine, store: SQLiteStore, ops_url: str
) -> None:
    await store.close()
    events = await turn(observed_engine, message("When are you open?"))
    assert events == [FinalReply(text=STORE_TROUBLE, source=ReplySource.FALLBACK)]
    samples = await scrape(ops_url)
    assert samples[("bots_errors_total", labels(component="store", kind="StoreError"))] == 1
    outcome = labels(persona="cafe", platform="test", outcome="reply_fallback")
    assert samples[("bots_turns_total", outcome)] == 1


async def test_each_app_has_its_own_registry(
    observed_engine: Engine, telemetry: PrometheusTelemetry
) -> None:
    other = PrometheusTelemetry()
    await turn(observed_engine, message("When are you open?"))
    assert b"bots_turns_total{" in telemetry.exposition()
    assert b"bots_turns_total{" not in other.exposition()


# -- /healthz ------------------------------------------------------------------------------


async def get_health(url: str) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.get(f"{url}/healthz")


async def test_healthz_reports_store_and_llm_without_spending_tokens(
    ops_url: str, llm_server: FakeLLMServer
) -> None:
    response = await get_health(ops_url)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "store": "ok", "llm": "ok"}
    assert llm_server.requests == []  # no completion asked for: no tokens spent
    assert [g.path for g in llm_server.gets] == ["/v1/models"]
    assert llm_server.gets[0].headers["authorization"] == f"Bearer {API_KEY}"


async def test_healthz_is_cached_briefly_then_sees_a_failing_store(
    ops_url: str, llm_server: FakeLLMServer, store: SQLiteStore, clock: Clock
) -> None:
    assert (await get_health(ops_url)).status_code == 200
    await store.close()
    llm_server.models_status = 401
    cached = await get_health(ops_url)
    assert cached.status_code == 200  # within the cache window: no new probe
    assert len(llm_server.gets) == 1
    clock.now += 11
    failing = await get_health(ops_url)
    assert failing.status_code == 503
    body = failing.json()
    assert body["status"] == "failing"
    assert body["store"].startswith("failing:")
    assert body["llm"] == "failing: LLM API refused the key (HTTP 401)"
    assert API_KEY not in failing.text


async def test_healthz_without_an_api_key_is_offline_and_healthy(
    store: SQLiteStore, telemetry: PrometheusTelemetry
) -> None:
    health = HealthCheck({"store": store_probe(store.schema_version), "llm": offline_probe})
    with serve_ops("127.0.0.1", 0, telemetry.registry, health, asyncio.get_running_loop()) as port:
        response = await get_health(f"http://127.0.0.1:{port}")
    assert response.status_code == 200
    assert response.json()["llm"].startswith("offline")


async def test_an_unreachable_llm_is_reported(store: SQLiteStore) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    probe = LLMProbe(
        "http://llm.invalid/v1", Secret(API_KEY), transport=httpx.MockTransport(refuse)
    )
    health = await HealthCheck({"llm": probe}).check()
    assert not health.ok
    assert health.checks["llm"] == "failing: LLM API unreachable (ConnectError)"


def test_prices_parse_and_refuse_nonsense() -> None:
    table = PriceTable.parse("gpt-4o-mini=0.00015/0.0006, local=0")
    assert table.cost("gpt-4o-mini", Usage(1000, 1000)) == pytest.approx(0.00075)
    assert table.cost("local", Usage(5000, 5000)) == 0
    assert table.cost("unknown-model", Usage(5000, 5000)) == 0
    for bad in ("gpt-4o=cheap", "gpt-4o", "gpt-4o=1/2/3", "x=-1"):
        with pytest.raises(ConfigError, match="BOTS_PRICES"):
            PriceTable.parse(bad)


async def test_a_busy_port_is_a_clear_error(store: SQLiteStore) -> None:
    health = HealthCheck({"store": store_probe(store.schema_version)})
    registry = PrometheusTelemetry().registry
    loop = asyncio.get_running_loop()
    with serve_ops("127.0.0.1", 0, registry, health, loop) as port:
        busy = serve_ops("127.0.0.1", port, registry, health, loop)
        with pytest.raises(ConfigError, match=f"cannot serve metrics on port {port}"):
            busy.__enter__()
