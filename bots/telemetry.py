"""What the core reports about its work (turns, model calls, hand-offs, errors): the observer.

The engine and the LLM client call a `Telemetry`; the default does nothing. The Prometheus
implementation lives in `bots.ops.metrics`, so the core depends on no metrics library.
"""

from __future__ import annotations

from typing import Protocol

from bots.models import (
    EngineEvent,
    FinalReply,
    HandoffClaimed,
    HandoffRequested,
    HandoffResolved,
    Silent,
    Usage,
)


class Telemetry(Protocol):
    """Observer calls must be cheap and must never raise: they run inside every turn."""

    def turn_finished(self, persona: str, platform: str, outcome: str, seconds: float) -> None:
        """One message handled; `outcome` is e.g. `reply_llm`, `handoff`, `silent_duplicate`."""

    def retrieval(self, persona: str, confidence: float) -> None:
        """The best knowledge match of a question: the retriever's confidence (0 is none)."""

    def handoff(self, reason: str) -> None:
        """A thread went to people, for this `HandoffReason` value."""

    def llm_call(
        self, model: str, first_token_seconds: float | None, total_seconds: float, usage: Usage
    ) -> None:
        """A model call that finished; `first_token_seconds` is None when no text came."""

    def error(self, component: str, kind: str) -> None:
        """A failure: `component` is `llm`, `store` or `platform`, `kind` its class or code."""

    def llm_server_failed(self, server: str, outage: bool) -> None:
        """A turn's model call failed after retries; `outage`: that server keeps failing."""

    def ungrounded_answer(self, persona: str) -> None:
        """A model answer stated a number, time, price, address or link no snippet holds."""


class NoTelemetry:
    """The default observer: nothing is recorded."""

    def turn_finished(self, persona: str, platform: str, outcome: str, seconds: float) -> None:
        pass

    def retrieval(self, persona: str, confidence: float) -> None:
        pass

    def handoff(self, reason: str) -> None:
        pass

    def llm_call(
        self, model: str, first_token_seconds: float | None, total_seconds: float, usage: Usage
    ) -> None:
        pass

    def error(self, component: str, kind: str) -> None:
        pass

    def llm_server_failed(self, server: str, outage: bool) -> None:
        pass

    def ungrounded_answer(self, persona: str) -> None:
        pass


NO_TELEMETRY = NoTelemetry()


def outcome_of(event: EngineEvent) -> str | None:
    """The `outcome` label a turn ending with `event` gets; None for a streamed piece."""
    match event:
        case FinalReply(source=source):
            return f"reply_{source.value}"
        case Silent(why=why):
            return f"silent_{why.value}"
        case HandoffRequested():
            return "handoff"
        case HandoffClaimed():
            return "claimed"
        case HandoffResolved():
            return "resolved"
        case _:
            return None
