"""The OpenAI-compatible chat-completions client: calls, streaming, retries and back-off."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import httpx
import tenacity
from httpx_sse import aconnect_sse

from bots.errors import (
    LLMError,
    LLMStreamCut,
    LLMUnavailable,
)
from bots.llm.types import (
    ChatMessage,
    ChatModel,
    ChatRequest,
    Completed,
    ContentDelta,
    LLMEvent,
    ToolCall,
    ToolSpec,
)
from bots.llm.wire import (
    EmptyStream,
    Garbled,
    completion_events,
    is_event_stream,
    load_json,
    parse_retry_after,
    request_body,
    sse_events,
    status_error,
    unstreamed,
)
from bots.secret import Secret
from bots.telemetry import NO_TELEMETRY, Telemetry

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long a chat user may be kept waiting while the API recovers.

    A person is waiting for the answer, so the defaults give up within about half a minute
    (then the engine answers from the knowledge base) and do not wait out a `Retry-After`
    longer than `max_retry_after`: such a server will not be back in time anyway.
    """

    max_attempts: int = 4
    initial_wait: float = 0.5
    max_wait: float = 8.0
    jitter: float = 0.5
    max_retry_after: float = 10.0
    total_seconds: float = 30.0


class OpenAIChatClient:
    """`ChatModel` over an OpenAI-compatible `/chat/completions` endpoint.

    Retries happen only before any text reached the caller: once a `ContentDelta` went out,
    a failure raises `LLMStreamCut` carrying the partial text, because the user saw it.
    """

    def __init__(
        self,
        base_url: str,
        api_key: Secret,
        *,
        timeout: float = 60.0,
        retry: RetryPolicy = RetryPolicy(),  # frozen, so one shared default is safe
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        telemetry: Telemetry = NO_TELEMETRY,
    ) -> None:
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._telemetry = telemetry
        self._key = api_key
        self._retry = retry
        self._sleep = sleep
        headers = {"Authorization": f"Bearer {api_key.reveal()}"} if api_key.reveal() else {}
        self._http = httpx.AsyncClient(
            transport=transport, timeout=httpx.Timeout(timeout), headers=headers
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def stream(self, request: ChatRequest) -> AsyncIterator[LLMEvent]:
        """The call's events; its timing, tokens and failure (if any) go to the telemetry."""
        started = time.perf_counter()
        first_text: float | None = None
        try:
            async with aclosing(self._events(request)) as events:
                async for event in events:
                    if first_text is None and isinstance(event, ContentDelta):
                        first_text = time.perf_counter() - started
                    elif isinstance(event, Completed):
                        total = time.perf_counter() - started
                        self._telemetry.llm_call(request.model, first_text, total, event.usage)
                    yield event
        except LLMError as exc:
            self._telemetry.error("llm", type(exc).__name__)
            raise

    async def _events(self, request: ChatRequest) -> AsyncGenerator[LLMEvent, None]:
        body = request_body(request)
        log.debug(
            "LLM call: model=%s messages=%d stream=%s",
            request.model,
            len(request.messages),
            request.stream,
        )
        source, head = await self._open(body)
        shown = ""
        async with aclosing(source):
            try:
                for event in head:
                    shown += event.text if isinstance(event, ContentDelta) else ""
                    yield event
                async for event in source:
                    shown += event.text if isinstance(event, ContentDelta) else ""
                    yield event
            except LLMStreamCut:
                raise
            except LLMError as exc:
                raise LLMStreamCut(f"reply stopped early: {exc}", partial=shown) from exc

    async def _open(
        self, body: dict[str, object]
    ) -> tuple[AsyncGenerator[LLMEvent, None], list[LLMEvent]]:
        """Start a call and read up to its first text, retrying while nothing has been shown."""
        async for attempt in self._retrying():
            with attempt:
                source = self._attempt(body)
                return source, await _read_head(source)
        raise AssertionError("unreachable: tenacity re-raises the last error")

    def _retrying(self) -> tenacity.AsyncRetrying:
        policy = self._retry
        backoff = tenacity.wait_exponential(
            multiplier=policy.initial_wait, max=policy.max_wait
        ) + tenacity.wait_random(0, policy.jitter)

        def wait(state: tenacity.RetryCallState) -> float:
            hint = getattr(_failure(state), "retry_after", None)
            if isinstance(hint, float | int):
                return min(float(hint), policy.max_retry_after)
            return float(backoff(state))

        def retry(state: tenacity.RetryCallState) -> bool:
            hint = getattr(_failure(state), "retry_after", None)
            if isinstance(hint, float | int) and hint > policy.max_retry_after:
                return False
            return _should_retry(state)

        return tenacity.AsyncRetrying(
            sleep=self._sleep,
            stop=tenacity.stop_after_attempt(policy.max_attempts)
            | tenacity.stop_before_delay(policy.total_seconds),
            wait=wait,
            retry=retry,
            before_sleep=_log_retry,
            reraise=True,
        )

    async def _attempt(self, body: dict[str, object]) -> AsyncGenerator[LLMEvent, None]:
        """One HTTP call, with transport failures translated into the project's errors."""
        try:
            if not body["stream"]:
                for event in await self._post_once(body):
                    yield event
                return
            try:
                async with aclosing(self._stream_once(body)) as events:
                    async for event in events:
                        yield event
            except EmptyStream:
                # Nothing was shown, so asking again unstreamed is safe: a server that ended
                # the stream over a prompt too long now says so (a 400 naming its window),
                # and one that simply hiccuped answers in one piece.
                log.debug("LLM stream was empty; asking once more without streaming")
                try:
                    answer = await self._post_once(unstreamed(body))
                except (httpx.ReadError, httpx.RemoteProtocolError):
                    # Such a server also drops the connection behind that stream after httpx
                    # pooled it (llama-cpp-python does): the same question on a fresh one.
                    answer = await self._post_once(unstreamed(body))
                for event in answer:
                    yield event
        except httpx.TimeoutException as exc:
            raise LLMUnavailable(f"LLM API timed out ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise LLMUnavailable(f"LLM API unreachable ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            raise Garbled(f"LLM API sent an unreadable response ({type(exc).__name__})") from None

    async def _post_once(self, body: dict[str, object]) -> list[LLMEvent]:
        response = await self._http.post(self._url, json=body)
        return completion_events(await self._checked_json(response))

    async def _stream_once(self, body: dict[str, object]) -> AsyncGenerator[LLMEvent, None]:
        async with aconnect_sse(self._http, "POST", self._url, json=body) as source:
            response = source.response
            await self._raise_for_status(response)
            if not is_event_stream(response):
                # Some servers ignore `stream: true` and answer with one JSON completion.
                for event in completion_events(await self._checked_json(response)):
                    yield event
                return
            async with aclosing(sse_events(source)) as events:
                async for event in events:
                    yield event

    async def _checked_json(self, response: httpx.Response) -> object:
        await self._raise_for_status(response)
        await response.aread()
        return load_json(response.text)

    async def _raise_for_status(self, response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        await response.aread()
        raise status_error(response, self._key)


async def _read_head(source: AsyncGenerator[LLMEvent, None]) -> list[LLMEvent]:
    """Events up to and including the first text; the whole call when it has no text."""
    head: list[LLMEvent] = []
    async for event in source:
        head.append(event)
        if isinstance(event, ContentDelta):
            break
    return head


def _failure(state: tenacity.RetryCallState) -> BaseException | None:
    if state.outcome is None or not state.outcome.failed:
        return None
    return state.outcome.exception()


def _should_retry(state: tenacity.RetryCallState) -> bool:
    exc = _failure(state)
    # A cut before any text counts as a connection failure: nothing was shown, so retry it.
    if isinstance(exc, LLMUnavailable):
        return True
    # A garbled body is usually a proxy or load-balancer hiccup: one more try is cheap, while
    # retrying further would only hide a server that does not speak this API.
    return isinstance(exc, Garbled) and state.attempt_number == 1


def _log_retry(state: tenacity.RetryCallState) -> None:
    wait = state.next_action.sleep if state.next_action else 0.0
    name = type(_failure(state)).__name__
    log.debug("LLM attempt %d failed (%s); retrying in %.2fs", state.attempt_number, name, wait)


__all__ = [
    "ChatMessage",
    "ChatModel",
    "ChatRequest",
    "Completed",
    "ContentDelta",
    "LLMEvent",
    "OpenAIChatClient",
    "RetryPolicy",
    "ToolCall",
    "ToolSpec",
    "parse_retry_after",
    "request_body",
]
