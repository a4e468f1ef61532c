"""Wiring for operations: the telemetry a configuration asks for and the port serving it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bots.config import Settings
from bots.llm.outages import ServerFailures
from bots.ops.health import (
    HealthCheck,
    LLMProbe,
    Probe,
    failures_probe,
    offline_probe,
    store_probe,
)
from bots.ops.metrics import PrometheusTelemetry
from bots.ops.server import serve_ops
from bots.store import Store
from bots.telemetry import NO_TELEMETRY, Telemetry

OPS_HOST = "0.0.0.0"  # Prometheus usually scrapes from another host


def telemetry_for(settings: Settings) -> Telemetry:
    """Prometheus telemetry when `BOTS_METRICS_PORT` is set; otherwise nothing is recorded."""
    if settings.metrics_port is None:
        return NO_TELEMETRY
    return PrometheusTelemetry(settings.prices)


def health_check(
    settings: Settings, store: Store, failures: ServerFailures | None = None
) -> HealthCheck:
    """The store, the LLM API, and (given the engine's `failures`) the turns' model failures."""
    llm: Probe = offline_probe
    if settings.api_key is not None:
        llm = LLMProbe(settings.base_url, settings.api_key)
    probes = {"store": store_probe(store.schema_version), "llm": llm}
    if failures is not None and settings.api_key is not None:
        probes["llm_failures"] = failures_probe(failures)
    return HealthCheck(probes)


@asynccontextmanager
async def ops_endpoint(
    settings: Settings, telemetry: Telemetry, store: Store, failures: ServerFailures | None = None
) -> AsyncIterator[int | None]:
    """Serve `/metrics` and `/healthz` while inside; yields the port (None when off)."""
    if settings.metrics_port is None or not isinstance(telemetry, PrometheusTelemetry):
        yield None
        return
    health = health_check(settings, store, failures)
    loop = asyncio.get_running_loop()
    with serve_ops(OPS_HOST, settings.metrics_port, telemetry.registry, health, loop) as port:
        yield port
