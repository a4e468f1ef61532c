"""`/healthz`: is the store reachable, and the LLM API (or is the bot offline by choice)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from bots.errors import BotsError
from bots.llm.outages import ServerFailures
from bots.secret import Secret

# A load balancer may ask every few seconds; the answer is reused for this long.
CACHE_SECONDS = 10.0
PROBE_TIMEOUT_SECONDS = 3.0
Probe = Callable[[], Awaitable[str]]
"""Returns a short word on success (e.g. "ok", "offline"); raises BotsError with the reason."""


@dataclass(frozen=True)
class Health:
    ok: bool
    checks: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {"status": "ok" if self.ok else "failing", **self.checks}


class HealthCheck:
    """Runs the probes at most once per `cache_seconds`; concurrent askers share one answer."""

    def __init__(
        self,
        probes: dict[str, Probe],
        *,
        cache_seconds: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._probes = probes
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._last: tuple[float, Health] | None = None

    async def check(self) -> Health:
        now = self._clock()
        if self._last is not None and now - self._last[0] < self._cache_seconds:
            return self._last[1]
        checks: dict[str, str] = {}
        ok = True
        for name, probe in self._probes.items():
            try:
                checks[name] = await probe()
            except BotsError as exc:
                ok = False
                checks[name] = f"failing: {exc}"
        health = Health(ok, checks)
        self._last = (now, health)
        return health


def store_probe(schema_version: Callable[[], Awaitable[int]]) -> Probe:
    """The store answers a one-row query (its schema version): StoreError otherwise."""

    async def probe() -> str:
        await schema_version()
        return "ok"

    return probe


class LLMProbe:
    """Whether the OpenAI-compatible server answers, without spending a token.

    `GET /models` is free on OpenAI and answered (or refused with a 404) by other servers;
    any answer but a refused key or a server error means the API is reachable.
    """

    def __init__(
        self,
        base_url: str,
        api_key: Secret,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = PROBE_TIMEOUT_SECONDS,
    ) -> None:
        self._url = base_url.rstrip("/") + "/models"
        self._headers = {"Authorization": f"Bearer {api_key.reveal()}"}
        self._transport = transport
        self._timeout = timeout

    async def __call__(self) -> str:
        try:
            async with httpx.AsyncClient(
                transport=self._transport, timeout=self._timeout
            ) as client:
                response = await client.get(self._url, headers=self._headers)
        except httpx.HTTPError as exc:
            raise BotsError(f"LLM API unreachable ({type(exc).__name__})") from None
        if response.status_code in (401, 403):
            raise BotsError(f"LLM API refused the key (HTTP {response.status_code})")
        if response.status_code >= 500:
            raise BotsError(f"LLM API server error (HTTP {response.status_code})")
        return "ok"


def failures_probe(
    failures: ServerFailures, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> Probe:
    """The turns' model failures per server: failing while a server keeps failing (an
    outage), else how many failed since the start."""

    async def probe() -> str:
        statuses = failures.statuses(clock())
        described = "; ".join(f"{s.server}: {s.describe()}" for s in statuses)
        if any(s.outage for s in statuses):
            raise BotsError(described)
        return described or "none"

    return probe


async def offline_probe() -> str:
    """No API key: the bot answers from the knowledge base, which is a healthy state."""
    return "offline (answering from the knowledge base)"
