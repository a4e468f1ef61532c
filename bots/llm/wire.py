"""OpenAI's chat-completions wire format: request bodies, JSON and SSE replies, error bodies."""

from __future__ import annotations

import email.utils
import json
import logging
import re
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field

import httpx
from httpx_sse import EventSource

from bots.errors import (
    ContextTooLong,
    LLMAuthError,
    LLMBadResponse,
    LLMError,
    LLMRateLimited,
    LLMServerError,
    LLMStreamCut,
    ToolsRefused,
)
from bots.llm.types import (
    ChatMessage,
    ChatRequest,
    Completed,
    ContentDelta,
    LLMEvent,
    ToolCall,
    ToolSpec,
)
from bots.models import Usage
from bots.secret import Secret

log = logging.getLogger("bots.llm.client")


class Garbled(LLMBadResponse):
    """A body that is not a chat completion at all (as opposed to a refused request)."""


class EmptyStream(LLMStreamCut):
    """A 200 event stream that ended without a single event.

    llama-cpp-python answers an over-long streamed prompt this way (its log alone says why),
    so the client asks once more without streaming, where the server names the problem.
    """


# Liberal on purpose: OpenAI, vLLM, llama.cpp, Ollama and proxies all word this differently.
_CONTEXT_WORDS = re.compile(
    r"context[_ ]length|maximum context|context window|context size|too many tokens"
    r"|exceeds? the (?:available|maximum)|prompt is too long|input is too long",
    re.IGNORECASE,
)


# The window the server names in its refusal: OpenAI, vLLM and llama-cpp-python say "maximum
# context length is N tokens", llama.cpp "exceeds the available context size (N tokens)",
# llama-cpp-python's engine "exceed context window of N".
_CONTEXT_LIMIT = re.compile(
    r"maximum context length is (\d+)|context size \((\d+) tokens\)|context window of (\d+)",
    re.IGNORECASE,
)

# A server that takes no `tools` says so in its own words: vLLM ("auto" tool choice requires
# --enable-auto-tool-choice), llama.cpp ("tools param requires --jinja"), Ollama ("does not
# support tools").
_TOOL_WORDS = re.compile(r"\btools?\b|tool[_ ]choice|function[_ ]call", re.IGNORECASE)

_IDENTIFIER = re.compile(r"[\w.-]{1,64}")


def request_body(request: ChatRequest) -> dict[str, object]:
    """The JSON body OpenAI-compatible servers expect; empty `stop`/`tools` are left out."""
    body: dict[str, object] = {
        "model": request.model,
        "messages": [message_json(m) for m in request.messages],
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
        body["tools"] = [tool_json(tool) for tool in request.tools]
    if request.stream:
        body["stream_options"] = {"include_usage": True}
    return body


def message_json(message: ChatMessage) -> dict[str, object]:
    """One message; with images, its content is a list of parts: the text, then each image
    as an `image_url` part (OpenAI's vision format, also taken by vLLM, llama.cpp, Ollama)."""
    if not message.images:
        return {"role": message.role, "content": message.content}
    parts: list[dict[str, object]] = [{"type": "text", "text": message.content}]
    parts += [{"type": "image_url", "image_url": {"url": url}} for url in message.images]
    return {"role": message.role, "content": parts}


def unstreamed(body: dict[str, object]) -> dict[str, object]:
    """The same request asking for one JSON reply (`stream_options` is refused without a stream)."""
    return {k: v for k, v in body.items() if k != "stream_options"} | {"stream": False}


def tool_json(tool: ToolSpec) -> dict[str, object]:
    function = {"name": tool.name, "description": tool.description}
    return {"type": "function", "function": {**function, "parameters": dict(tool.parameters)}}


def is_event_stream(response: httpx.Response) -> bool:
    return "text/event-stream" in response.headers.get("content-type", "")


def load_json(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        raise Garbled("LLM API sent a body that is not JSON") from None


# --- errors ---------------------------------------------------------------------------------


def status_error(response: httpx.Response, key: Secret) -> LLMError:
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
    if too_long := _context_error(code, message, response.text):
        return too_long
    if status in (400, 422) and _TOOL_WORDS.search(message):
        return ToolsRefused(f"LLM API does not take tool calls ({what})")
    # Only identifier-like codes go into the message: free text may quote the prompt.
    suffix = f", {code}" if code and _IDENTIFIER.fullmatch(code) else ""
    return LLMBadResponse(f"LLM API rejected the request ({what}{suffix})")


def _context_error(code: str, message: str, body: str) -> ContextTooLong | None:
    """The refusal as `ContextTooLong` (with the window when the server named it), if it is one."""
    if code not in ("context_length_exceeded", "exceed_context_size_error") and not (
        _CONTEXT_WORDS.search(message)
    ):
        return None
    limit = _named_limit(message, body)
    shown = f" of {limit} tokens" if limit else ""
    return ContextTooLong(f"the prompt does not fit the model's context window{shown}", limit)


def _named_limit(message: str, body: str) -> int | None:
    if found := _CONTEXT_LIMIT.search(message):
        return int(next(group for group in found.groups() if group))
    try:
        data = json.loads(body)
    except ValueError:
        return None
    error = data.get("error") if isinstance(data, dict) else None
    n_ctx = error.get("n_ctx") if isinstance(error, dict) else None  # llama.cpp's own field
    return n_ctx if isinstance(n_ctx, int) and n_ctx > 0 else None


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
        raise Garbled("LLM API sent an unexpected JSON shape")
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
    if too_long := _context_error(code, message, json.dumps(data)):
        return too_long
    return LLMServerError("LLM API reported an error inside its response")


def _first_choice(data: dict[str, object]) -> dict[str, object] | None:
    choices = data.get("choices")
    if choices is None or choices == []:
        return None
    if not isinstance(choices, list):
        raise Garbled("LLM API sent `choices` that is not a list")
    return _as_dict(choices[0])


def completion_events(raw: object) -> list[LLMEvent]:
    data = _as_dict(raw)
    if (error := _in_band_error(data)) is not None:
        raise error
    choice = _first_choice(data)
    if choice is None:
        raise Garbled("LLM API sent a completion without choices")
    message = _as_dict(choice.get("message"))
    text = message.get("content") or ""
    if not isinstance(text, str):
        raise Garbled("LLM API sent non-text message content")
    calls = tuple(_tool_call(item) for item in _as_list(message.get("tool_calls")))
    finish = choice.get("finish_reason")
    reason = finish if isinstance(finish, str) else None
    done = Completed(text, calls, _usage(data.get("usage")), reason)
    return [*([ContentDelta(text)] if text else []), *calls, done]


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise Garbled("LLM API sent `tool_calls` that is not a list")
    return value


def _tool_call(raw: object) -> ToolCall:
    function = _as_dict(_as_dict(raw).get("function"))
    name, arguments = function.get("name"), function.get("arguments") or ""
    if not isinstance(name, str):
        raise Garbled("LLM API sent a tool call without a name")
    # Some servers send arguments as an object rather than the JSON text OpenAI specifies.
    return ToolCall(name, arguments if isinstance(arguments, str) else json.dumps(arguments))


async def sse_events(source: EventSource) -> AsyncGenerator[LLMEvent, None]:
    stream = _StreamState()
    seen = 0
    async for sse in source.aiter_sse():
        seen += 1
        if sse.event == "error":
            raise _error_event(sse.data)
        if sse.data.strip() == "[DONE]":
            stream.done = True
            break
        if not sse.data.strip():
            continue
        for delta in stream.feed(_as_dict(load_json(sse.data))):
            yield delta
    if not seen:
        raise EmptyStream("LLM API sent an empty reply stream")
    if not (stream.done or stream.finish_reason):
        raise LLMStreamCut("LLM reply stream ended before it finished", partial=stream.text)
    for event in stream.final_events():
        yield event


def _error_event(data: str) -> LLMError:
    """An `event: error` inside the stream (its data is usually an OpenAI-style error body)."""
    try:
        parsed = json.loads(data)
    except ValueError:
        parsed = {"error": {"message": data}}
    wrapped = parsed if isinstance(parsed, dict) and "error" in parsed else {"error": parsed}
    return _in_band_error(wrapped) or LLMServerError("LLM API reported an error in its stream")


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
