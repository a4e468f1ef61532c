"""The OpenAI-compatible chat-completions client: request shape, streaming, errors, retries."""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from contextlib import aclosing
from dataclasses import dataclass, field
from types import TracebackType
from typing import Protocol, Self

import httpx
import tenacity
from httpx_sse import EventSource, aconnect_sse

from bots.config import Secret
from bots.errors import (
    ContextTooLong,
    LLMAuthError,
    LLMBadResponse,
    LLMError,
    LLMRateLimited,
    LLMServerError,
    LLMStreamCut,
    LLMUnavailable,
)
from bots.models import Usage

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: str
    content: str


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A function the model may call; `parameters` is its JSON schema."""

    name: str
    description: str
    parameters: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class ChatRequest:
    model: str
    messages: tuple[ChatMessage, ...]
    temperature: float = 0.3
    max_tokens: int = 600
    top_p: float = 1.0
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    stop: tuple[str, ...] = ()
    tools: tuple[ToolSpec, ...] = ()
    stream: bool = True


@dataclass(frozen=True, slots=True)
class ContentDelta:
    """A piece of reply text, in arrival order."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A function call by the model; `arguments` is the raw JSON text the model produced."""

    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class Completed:
    """Always the last event of a successful call. `usage` is zeros when the server sent none."""

    text: str
    tool_calls: tuple[ToolCall, ...]
    usage: Usage
    finish_reason: str | None


LLMEvent = ContentDelta | ToolCall | Completed


class ChatModel(Protocol):
    """What the engine needs from a language model; tests pass their own implementations."""

    def stream(self, request: ChatRequest) -> AsyncIterator[LLMEvent]: ...


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


class _Garbled(LLMBadResponse):
    """A body that is not a chat completion at all (as opposed to a refused request)."""


# Liberal on purpose: OpenAI, vLLM, llama.cpp, Ollama and proxies all word this differently.
_CONTEXT_WORDS = re.compile(
    r"context[_ ]length|maximum context|context window|context size|too many tokens"
    r"|exceeds? the (?:available|maximum)|prompt is too long|input is too long",
    re.IGNORECASE,
)
_IDENTIFIER = re.compile(r"[\w.-]{1,64}")


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
    ) -> None:
        self._url = base_url.rstrip("/") + "/chat/completions"
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
            if body["stream"]:
                async with aclosing(self._stream_once(body)) as events:
                    async for event in events:
                        yield event
            else:
                response = await self._http.post(self._url, json=body)
                for event in _completion_events(await self._checked_json(response)):
                    yield event
        except httpx.TimeoutException as exc:
            raise LLMUnavailable(f"LLM API timed out ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise LLMUnavailable(f"LLM API unreachable ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            raise _Garbled(f"LLM API sent an unreadable response ({type(exc).__name__})") from None

    async def _stream_once(self, body: dict[str, object]) -> AsyncGenerator[LLMEvent, None]:
        async with aconnect_sse(self._http, "POST", self._url, json=body) as source:
            response = source.response
            await self._raise_for_status(response)
            if not _is_event_stream(response):
                # Some servers ignore `stream: true` and answer with one JSON completion.
                for event in _completion_events(await self._checked_json(response)):
                    yield event
                return
            async with aclosing(_sse_events(source)) as events:
                async for event in events:
                    yield event

    async def _checked_json(self, response: httpx.Response) -> object:
        await self._raise_for_status(response)
        await response.aread()
        return _load_json(response.text)

    async def _raise_for_status(self, response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        await response.aread()
        raise _status_error(response, self._key)


def request_body(request: ChatRequest) -> dict[str, object]:
    """The JSON body OpenAI-compatible servers expect; empty `stop`/`tools` are left out."""
    body: dict[str, object] = {
        "model": request.model,
        "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
        "top_p": request.top_p,
        "presence_penalty": request.presence_penalty,
        "frequency_penalty": request.frequency_penalty,
        "stream": request.stream,
    }
    if request.stop:
        body["stop"] = list(request.stop)
    if request.tools:
        body["tools"] = [_tool_json(tool) for tool in request.tools]
    if request.stream:
        body["stream_options"] = {"include_usage": True}
    return body


def _tool_json(tool: ToolSpec) -> dict[str, object]:
    function = {"name": tool.name, "description": tool.description}
    return {"type": "function", "function": {**function, "parameters": dict(tool.parameters)}}


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
    return isinstance(exc, _Garbled) and state.attempt_number == 1


def _log_retry(state: tenacity.RetryCallState) -> None:
    wait = state.next_action.sleep if state.next_action else 0.0
    name = type(_failure(state)).__name__
    log.debug("LLM attempt %d failed (%s); retrying in %.2fs", state.attempt_number, name, wait)


def _is_event_stream(response: httpx.Response) -> bool:
    return "text/event-stream" in response.headers.get("content-type", "")


def _load_json(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        raise _Garbled("LLM API sent a body that is not JSON") from None


# --- errors ---------------------------------------------------------------------------------


def _status_error(response: httpx.Response, key: Secret) -> LLMError:
    status = response.status_code
    what = f"HTTP {status}"
    if status in (401, 403):
        # The body is not even looked at: some servers echo the key they refused.
        return LLMAuthError(f"LLM API refused the API key ({what})")
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    if status == 429:
        return LLMRateLimited(f"LLM API rate limit ({what})", retry_after=retry_after)
    if status >= 500:
        return LLMServerError(f"LLM API server error ({what})", retry_after=retry_after)
    code, message = _error_fields(response.text)
    log.debug("LLM API refused the request: %s %s", what, _redact(message, key))
    if code == "context_length_exceeded" or _CONTEXT_WORDS.search(message):
        return ContextTooLong(f"the prompt does not fit the model's context window ({what})")
    # Only identifier-like codes go into the message: free text may quote the prompt.
    suffix = f", {code}" if code and _IDENTIFIER.fullmatch(code) else ""
    return LLMBadResponse(f"LLM API rejected the request ({what}{suffix})")


def _error_fields(text: str) -> tuple[str, str]:
    """`(code, message)` from an OpenAI-style error body, or from plain text."""
    try:
        return _error_fields_of(json.loads(text))
    except ValueError:
        return "", text[:500]


def _error_fields_of(data: object) -> tuple[str, str]:
    error = data.get("error", data) if isinstance(data, dict) else data
    if isinstance(error, str):
        return "", error
    if not isinstance(error, dict):
        return "", ""
    code = error.get("code") or error.get("type") or ""
    return str(code), str(error.get("message", ""))


def _redact(text: str, key: Secret) -> str:
    secret = key.reveal()
    return text.replace(secret, "***") if secret else text


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


# --- parsing --------------------------------------------------------------------------------


def _as_dict(value: object) -> dict[str, object]:
    if not isinstance(value, dict):
        raise _Garbled("LLM API sent an unexpected JSON shape")
    return value


def _usage(value: object) -> Usage:
    if not isinstance(value, dict):
        return Usage()
    return Usage(_count(value.get("prompt_tokens")), _count(value.get("completion_tokens")))


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _in_band_error(data: dict[str, object]) -> LLMError | None:
    """Servers may report a failure inside a 200 body or mid-stream."""
    if not data.get("error"):
        return None
    code, message = _error_fields_of(data)
    if code == "context_length_exceeded" or _CONTEXT_WORDS.search(message):
        return ContextTooLong("the prompt does not fit the model's context window")
    return LLMServerError("LLM API reported an error inside its response")


def _first_choice(data: dict[str, object]) -> dict[str, object] | None:
    choices = data.get("choices")
    if choices is None or choices == []:
        return None
    if not isinstance(choices, list):
        raise _Garbled("LLM API sent `choices` that is not a list")
    return _as_dict(choices[0])


def _completion_events(raw: object) -> list[LLMEvent]:
    data = _as_dict(raw)
    if (error := _in_band_error(data)) is not None:
        raise error
    choice = _first_choice(data)
    if choice is None:
        raise _Garbled("LLM API sent a completion without choices")
    message = _as_dict(choice.get("message"))
    text = message.get("content") or ""
    if not isinstance(text, str):
        raise _Garbled("LLM API sent non-text message content")
    calls = tuple(_tool_call(item) for item in _as_list(message.get("tool_calls")))
    finish = choice.get("finish_reason")
    reason = finish if isinstance(finish, str) else None
    done = Completed(text, calls, _usage(data.get("usage")), reason)
    return [*([ContentDelta(text)] if text else []), *calls, done]


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Garbled("LLM API sent `tool_calls` that is not a list")
    return value


def _tool_call(raw: object) -> ToolCall:
    function = _as_dict(_as_dict(raw).get("function"))
    name, arguments = function.get("name"), function.get("arguments") or ""
    if not isinstance(name, str):
        raise _Garbled("LLM API sent a tool call without a name")
    # Some servers send arguments as an object rather than the JSON text OpenAI specifies.
    return ToolCall(name, arguments if isinstance(arguments, str) else json.dumps(arguments))


async def _sse_events(source: EventSource) -> AsyncGenerator[LLMEvent, None]:
    stream = _StreamState()
    async for sse in source.aiter_sse():
        if sse.data.strip() == "[DONE]":
            stream.done = True
            break
        if not sse.data.strip():
            continue
        for delta in stream.feed(_as_dict(_load_json(sse.data))):
            yield delta
    if not (stream.done or stream.finish_reason):
        raise LLMStreamCut("LLM reply stream ended before it finished", partial=stream.text)
    for event in stream.final_events():
        yield event


@dataclass(slots=True)
class _PartialCall:
    name: str = ""
    arguments: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _StreamState:
    """Reassembles a streamed completion from its chunks."""

    text: str = ""
    done: bool = False
    finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    calls: dict[int, _PartialCall] = field(default_factory=dict)

    def feed(self, chunk: dict[str, object]) -> list[ContentDelta]:
        if (error := _in_band_error(chunk)) is not None:
            raise error
        if chunk.get("usage"):
            self.usage = _usage(chunk["usage"])
        choice = _first_choice(chunk)
        if choice is None:
            return []
        finish = choice.get("finish_reason")
        self.finish_reason = finish if isinstance(finish, str) else self.finish_reason
        delta = _as_dict(choice.get("delta") or {})
        for fragment in _as_list(delta.get("tool_calls")):
            self._add_fragment(_as_dict(fragment))
        content = delta.get("content")
        if not isinstance(content, str) or not content:
            return []
        self.text += content
        return [ContentDelta(content)]

    def _add_fragment(self, fragment: dict[str, object]) -> None:
        index = fragment.get("index")
        if not isinstance(index, int):
            # Servers that omit `index` start a new call with each `id`.
            last = max(self.calls, default=-1)
            index = last + 1 if fragment.get("id") or last < 0 else last
        call = self.calls.setdefault(index, _PartialCall())
        function = _as_dict(fragment.get("function") or {})
        name, arguments = function.get("name"), function.get("arguments")
        if isinstance(name, str) and not call.name:
            call.name = name
        if isinstance(arguments, str):
            call.arguments.append(arguments)

    def final_events(self) -> list[LLMEvent]:
        calls = tuple(
            ToolCall(self.calls[i].name, "".join(self.calls[i].arguments))
            for i in sorted(self.calls)
            if self.calls[i].name
        )
        return [*calls, Completed(self.text, calls, self.usage, self.finish_reason)]
