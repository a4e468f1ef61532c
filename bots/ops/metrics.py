"""The Prometheus telemetry: counters and histograms in a registry of the app's own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from bots.llm.pricing import PriceTable
from bots.models import Usage

# Engine turns include the model's answer (seconds); the model's first token comes sooner.
_TURN_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80)
_LLM_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120)
_CONFIDENCE_BUCKETS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


class PrometheusTelemetry:
    """`Telemetry` recorded with the official client library.

    Each instance has its own `CollectorRegistry` (not the library's global one), so two
    apps in one process, or two tests, never share counters.
    """

    def __init__(self, prices: PriceTable | None = None) -> None:
        self.registry = CollectorRegistry()
        self._prices = prices or PriceTable()
        r = self.registry
        self.turns = Counter(
            "bots_turns", "Messages handled", ["persona", "platform", "outcome"], registry=r
        )
        self.turn_seconds = Histogram(
            "bots_turn_seconds",
            "Time the engine took for one message, the model's answer included",
            ["persona", "platform"],
            buckets=_TURN_BUCKETS,
            registry=r,
        )
        self.llm_first_token_seconds = Histogram(
            "bots_llm_first_token_seconds",
            "Time from the model call to its first reply text (retries included)",
            ["model"],
            buckets=_LLM_BUCKETS,
            registry=r,
        )
        self.llm_seconds = Histogram(
            "bots_llm_seconds",
            "Time of a whole model call (retries included)",
            ["model"],
            buckets=_LLM_BUCKETS,
            registry=r,
        )
        self.tokens = Counter(
            "bots_llm_tokens",
            "Tokens the API reported: direction=in (prompt) or out (completion)",
            ["model", "direction"],
            registry=r,
        )
        self.cost = Counter(
            "bots_llm_cost_dollars",
            "Estimated cost of model calls in dollars, from BOTS_PRICES",
            ["model"],
            registry=r,
        )
        self.handoffs = Counter("bots_handoffs", "Threads handed to people", ["reason"], registry=r)
        self.retrieval_confidence = Histogram(
            "bots_retrieval_confidence",
            "Coverage of the best knowledge match of each question (0 none, 1 full)",
            ["persona"],
            buckets=_CONFIDENCE_BUCKETS,
            registry=r,
        )
        self.errors = Counter(
            "bots_errors", "Failures by component and kind", ["component", "kind"], registry=r
        )
        self.llm_server_failures = Counter(
            "bots_llm_server_failures",
            "Turns whose model call failed after retries, per server (outage: it keeps failing)",
            ["server", "outage"],
            registry=r,
        )
        self.ungrounded = Counter(
            "bots_ungrounded_answers",
            "Model answers stating a figure, address or link that no retrieved snippet holds",
            ["persona"],
            registry=r,
        )

    def turn_finished(self, persona: str, platform: str, outcome: str, seconds: float) -> None:
        self.turns.labels(persona, platform, outcome).inc()
        self.turn_seconds.labels(persona, platform).observe(seconds)

    def retrieval(self, persona: str, confidence: float) -> None:
        self.retrieval_confidence.labels(persona).observe(confidence)

    def handoff(self, reason: str) -> None:
        self.handoffs.labels(reason).inc()

    def llm_call(
        self, model: str, first_token_seconds: float | None, total_seconds: float, usage: Usage
    ) -> None:
        if first_token_seconds is not None:
            self.llm_first_token_seconds.labels(model).observe(first_token_seconds)
        self.llm_seconds.labels(model).observe(total_seconds)
        self.tokens.labels(model, "in").inc(usage.prompt_tokens)
        self.tokens.labels(model, "out").inc(usage.completion_tokens)
        self.cost.labels(model).inc(self._prices.cost(model, usage))

    def error(self, component: str, kind: str) -> None:
        self.errors.labels(component, kind).inc()

    def llm_server_failed(self, server: str, outage: bool) -> None:
        self.llm_server_failures.labels(server, "yes" if outage else "no").inc()

    def ungrounded_answer(self, persona: str) -> None:
        self.ungrounded.labels(persona).inc()

    def exposition(self) -> bytes:
        """The registry in Prometheus text format, as `/metrics` serves it."""
        return generate_latest(self.registry)
