"""Calls to Slack's Web API: the client with its retry handlers, and errors in plain words.

Rate limits are retried by slack_sdk's own retry machinery (`AsyncRateLimitErrorRetryHandler`
honours `Retry-After`), and so are 5xx answers (`AsyncServerErrorRetryHandler`, widened to
the 502 and 504 a proxy in front of Slack gives); we only subclass them so the wait goes
through an injected `sleep` (tests observe the wait instead of taking it). Without the 5xx
retry, a final update lost to a brief outage left an answer cut short (the fault benchmark
found 4 in 100 at a 30 % error rate). The price: a post Slack stored before failing would
be posted twice; a 5xx normally means it was not stored. Every other Slack error is returned as a
value (`Outcome`) and written to the log as a sentence an operator can act on, never raised
into bolt, so a failed call never becomes a traceback.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientSession
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
RATE_LIMIT_RETRIES = 3
"""How often one call is retried after `ratelimited` before it is given up (and logged)."""
SERVER_ERROR_RETRIES = 2
"""How often one call is retried after a 5xx (after 0.5 s, then 1 s)."""
SERVER_ERRORS = frozenset({500, 502, 503, 504})
MAX_RETRY_AFTER = 120.0
"""A longer `Retry-After` than this is capped: a reply two minutes late is already late."""

_HARMLESS = frozenset({"already_reacted", "no_reaction", "message_not_found"})
_PLAIN_WORDS = {
    "channel_not_found": (
        "channel {channel} does not exist or the bot cannot see it: check the channel ID "
        "(for hand-offs, the persona's handoff.slack.channel) and invite the bot there"
    ),
    "not_in_channel": "the bot is not a member of channel {channel}: /invite it there",
    "is_archived": "channel {channel} is archived",
    "msg_too_long": "the message was too long for Slack",
    "ratelimited": "Slack kept answering `ratelimited` (rate limit) after several retries",
    "server_error": "Slack's Web API kept failing (HTTP 5xx) after retries; it may be down",
    "invalid_auth": "Slack refused the bot token (SLACK_BOT_TOKEN)",
    "missing_scope": "the app lacks a permission (scope) for this; reinstall it from the manifest",
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one Web API call came to: Slack's answer, or its error code."""

    data: dict[str, Any] | None
    error: str | None = None
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class _RateLimitRetry(AsyncRateLimitErrorRetryHandler):
    """slack_sdk's rate-limit retry, waiting `Retry-After` through an injected sleep."""

    def __init__(self, sleep: Sleep, max_retry_count: int) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self._sleep = sleep

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is None:  # pragma: no cover - only called for a 429 response
            raise error or RuntimeError("retry without a response")
        state.next_attempt_requested = True
        await self._sleep(retry_after(response.headers) or 1.0)
        state.increment_current_attempt()


class _ServerErrorRetry(AsyncServerErrorRetryHandler):
    """slack_sdk's 5xx retry for every gateway error, waiting through an injected sleep."""

    def __init__(self, sleep: Sleep, max_retry_count: int) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self._sleep = sleep

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code in SERVER_ERRORS

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        await self._sleep(0.5 * 2**state.current_attempt)
        state.increment_current_attempt()


def retry_after(headers: Any) -> float | None:
    """`Retry-After` in seconds from Slack's headers (any case, list or plain values)."""
    for name, value in dict(headers or {}).items():
        if str(name).lower() == "retry-after":
            first = value[0] if isinstance(value, list | tuple) and value else value
            try:
                return min(float(first), MAX_RETRY_AFTER)
            except (TypeError, ValueError):
                return None
    return None


def make_client(
    token: str,
    base_url: str | None,
    *,
    sleep: Sleep = asyncio.sleep,
    retry_rate_limits: bool = True,
    session: ClientSession | None = None,
) -> AsyncWebClient:
    """A Web API client; with `retry_rate_limits`, a `ratelimited` call or a 5xx waits and
    retries.

    Give it a `session` to reuse connections: without one slack_sdk opens (and, against
    slack.com, TLS-handshakes) a new connection for every call.
    """
    handlers: list[AsyncRetryHandler] = [AsyncConnectionErrorRetryHandler()]
    if retry_rate_limits:
        handlers.append(_RateLimitRetry(sleep, RATE_LIMIT_RETRIES))
        handlers.append(_ServerErrorRetry(sleep, SERVER_ERROR_RETRIES))
    return AsyncWebClient(
        token=token,
        base_url=base_url or AsyncWebClient.BASE_URL,
        retry_handlers=handlers,
        session=session,
    )


def explain(method: str, error: str, channel: str | None) -> str:
    """A failed call as one sentence for the log."""
    words = _PLAIN_WORDS.get(error, "Slack answered {error}")
    return f"slack {method} failed: " + words.format(channel=channel or "?", error=error)


async def attempt(client: AsyncWebClient, method: str, **kwargs: Any) -> Outcome:
    """One Web API call (None arguments dropped); a Slack error comes back as an `Outcome`."""
    arguments = {k: v for k, v in kwargs.items() if v is not None}
    try:
        response = await getattr(client, method)(**arguments)
    except SlackApiError as exc:
        answer = exc.response
        data = answer.data if answer is not None else None
        error = data.get("error", "unknown") if isinstance(data, dict) else "no_answer"
        if answer is not None and answer.status_code >= 500 and error in ("unknown", "no_answer"):
            error = "server_error"  # an HTML page from a proxy, not Slack's JSON
        wait = retry_after(answer.headers) if answer is not None else None
        return Outcome(None, str(error), wait)
    except (TimeoutError, OSError) as exc:
        return Outcome(None, f"unreachable ({type(exc).__name__})")
    return Outcome(dict(response.data) if isinstance(response.data, dict) else {})


def is_harmless(error: str) -> bool:
    """An error that is expected in normal running (a double reaction, a gone message)."""
    return error in _HARMLESS


def report(method: str, outcome: Outcome, channel: str | None) -> None:
    """Log a failed call in plain words (expected ones, such as a double reaction, quietly)."""
    if outcome.error is None:
        return
    level = logging.DEBUG if is_harmless(outcome.error) else logging.WARNING
    log.log(level, "%s", explain(method, outcome.error, channel))
