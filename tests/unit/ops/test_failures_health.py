"""`/healthz` counts the turns' model failures per server and fails during an outage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bots.llm.outages import ServerFailures
from bots.ops.health import HealthCheck, failures_probe
from bots.ops.metrics import PrometheusTelemetry

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
SERVER = "http://127.0.0.1:8080/v1"


async def test_health_counts_failures_and_fails_in_an_outage() -> None:
    failures = ServerFailures()
    now = [NOW]
    check = HealthCheck({"llm_failures": failures_probe(failures, lambda: now[0])}, cache_seconds=0)
    assert (await check.check()).as_json() == {"status": "ok", "llm_failures": "none"}
    failures.failed(SERVER, NOW)
    health = await check.check()
    assert health.ok
    assert health.checks["llm_failures"] == f"{SERVER}: ok (1 failures since start)"
    failures.failed(SERVER, NOW + timedelta(minutes=1))
    health = await check.check()
    assert not health.ok
    assert "outage (2 failures in the last few minutes)" in health.checks["llm_failures"]
    now[0] = NOW + timedelta(minutes=30)
    assert (await check.check()).ok  # old failures age out


def test_failures_are_a_metric_per_server_and_outage() -> None:
    telemetry = PrometheusTelemetry()
    telemetry.llm_server_failed(SERVER, outage=False)
    telemetry.llm_server_failed(SERVER, outage=True)
    telemetry.llm_server_failed(SERVER, outage=True)
    text = telemetry.exposition().decode()
    assert f'bots_llm_server_failures_total{{outage="yes",server="{SERVER}"}} 2.0' in text
    assert f'bots_llm_server_failures_total{{outage="no",server="{SERVER}"}} 1.0' in text
