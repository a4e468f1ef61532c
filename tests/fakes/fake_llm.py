"""A fake OpenAI-compatible chat-completions server on 127.0.0.1, speaking real HTTP."""

from __future__ import annotations

import base64
import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self


@dataclass(frozen=True)
class Reply:
    """A completion: SSE chunks when the request streams, else one JSON body.

    `usage=None` sends a rough count; `send_usage=False` sends none at all.
    """

    text: str = ""
    tool_calls: tuple[tuple[str, str], ...] = ()  # (name, arguments JSON)
    usage: tuple[int, int] | None = None
    chunk_size: int = 8
    send_usage: bool = True
    finish_reason: str | None = None
    """What the last chunk says; None: "tool_calls" with tool calls, else "stop"."""


@dataclass(frozen=True)
class RateLimited:
    retry_after: str | None = "1"


@dataclass(frozen=True)
class ServerError:
    status: int = 500


@dataclass(frozen=True)
class Stall:
    """Wait (or until the server closes), then answer with the default responder."""

    seconds: float


@dataclass(frozen=True)
class Hold:
    """Wait until the test sets `release` (or the server closes), then answer by default."""

    release: threading.Event


@dataclass(frozen=True)
class CutStream:
    """Stream the first `after_chars` of `text`, then close without finish_reason or [DONE]."""

    text: str
    after_chars: int


@dataclass(frozen=True)
class Trickle:
    """Stream `token` every `every_ms` milliseconds, ignoring `max_tokens`: `count` times,
    then finish normally; with `count=None`, until the client hangs up or the server closes
    (a server that never ends its answer)."""

    token: str = "word "
    every_ms: float = 50
    count: int | None = None


@dataclass(frozen=True)
class StallMidStream:
    """Stream the first `after_chars` of `text`, then send nothing more for `seconds`
    (or until the server closes), then close without finishing."""

    text: str
    after_chars: int
    seconds: float


@dataclass(frozen=True)
class Malformed:
    body: str = "<html>502 Bad Gateway</html>"
    content_type: str = "application/json"


@dataclass(frozen=True)
class ContextLengthError:
    pass


@dataclass(frozen=True)
class EmptyStream:
    """What llama-cpp-python streams for a prompt over its window: 200, then no event at all."""


@dataclass(frozen=True)
class StreamError:
    """A 200 stream whose first event is an error body: `data: {"error": ...}`, or with
    `as_event` an SSE `event: error` (as proxies and some servers send)."""

    message: str = "request exceeds the available context size (2048 tokens)"
    code: str | None = None
    as_event: bool = False


# What each real server says when a prompt is over its window (`FakeLLMServer.context_window`).
REFUSAL_STYLES = ("openai", "llama-cpp-python", "llama.cpp", "stream-error")


Step = (
    Reply
    | RateLimited
    | ServerError
    | Stall
    | Hold
    | CutStream
    | StallMidStream
    | Trickle
    | Malformed
    | ContextLengthError
    | EmptyStream
    | StreamError
)


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


def _error(message: str, kind: str, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


_CONTEXT_ERROR = _error(
    "This model's maximum context length is 8192 tokens. However, your messages resulted in "
    "9100 tokens. Please reduce the length of the messages.",
    "invalid_request_error",
    "context_length_exceeded",
)


def _window_refusal(window: int, asked: int) -> dict[str, Any]:
    """The 400 body OpenAI, vLLM and llama-cpp-python send for a prompt over the window."""
    return _error(
        f"This model's maximum context length is {window} tokens. However, you requested "
        f"{asked} tokens. Please reduce the length of the messages or completion.",
        "invalid_request_error",
        "context_length_exceeded",
    )


def _llama_cpp_refusal(window: int, asked: int) -> dict[str, Any]:
    """llama.cpp's server (`llama-server`): its own type and the window as `n_ctx`."""
    message = f"request ({asked} tokens) exceeds the available context size ({window} tokens)"
    error = {"code": 400, "message": message, "type": "exceed_context_size_error"}
    return {"error": error | {"n_prompt_tokens": asked, "n_ctx": window}}


# vLLM's words for a request with `tools` when it runs without a tool-call parser.
TOOLS_REFUSAL = _error(
    '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set',
    "BadRequestError",
    None,
)


def prompt_tokens(body: dict[str, Any]) -> int:
    """The fake's token count: a little under the bot's own counting, as real vocabularies
    for English often are, so a prompt the bot fitted to a window is accepted. An image part
    counts as OpenAI's low-detail image (85 tokens), not as its base64 text."""
    messages = body.get("messages", [])
    text = sum(len(message_text(m)) for m in messages) // 5
    return text + 85 * sum(len(image_urls(m)) for m in messages)


def message_text(message: dict[str, Any]) -> str:
    """A message's text: its `content` string, or its text parts joined."""
    content = message.get("content", "")
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if p.get("type") == "text")
    return str(content or "")


def image_urls(message: dict[str, Any]) -> list[str]:
    """The URLs of a message's `image_url` content parts (OpenAI's vision format)."""
    content = message.get("content")
    if not isinstance(content, list):
        return []
    return [
        str((p.get("image_url") or {}).get("url", ""))
        for p in content
        if p.get("type") == "image_url"
    ]


def _bad_image_part(body: dict[str, Any]) -> str | None:
    """What OpenAI would refuse in the request's image parts: an unknown part type, or an
    `image_url` that is not a base64 data URL of an image (the bot sends only those)."""
    for message in body.get("messages", []):
        content = message.get("content")
        if not isinstance(content, list):
            continue
        for part in content:
            if part.get("type") not in ("text", "image_url"):
                return f"Invalid content part type: {part.get('type')!r}"
        for url in image_urls(message):
            head, _, data = url.partition(",")
            if not head.startswith("data:image/") or not head.endswith(";base64"):
                return "Invalid image_url: expected a data:image/...;base64 URL"
            try:
                base64.b64decode(data, validate=True)
            except ValueError:
                return "Invalid image_url: the base64 data does not decode"
    return None


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), max(size, 1))]


def _usage(reply: Reply, body: dict[str, Any]) -> dict[str, int]:
    if reply.usage is not None:
        prompt, completion = reply.usage
    else:
        prompt_chars = sum(len(str(m.get("content", ""))) for m in body.get("messages", []))
        prompt, completion = prompt_chars // 4 + 1, len(reply.text) // 4 + 1
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _completion(reply: Reply, body: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if reply.tool_calls:
        message["tool_calls"] = [
            {"id": f"call_{i}", "type": "function", "function": {"name": n, "arguments": a}}
            for i, (n, a) in enumerate(reply.tool_calls)
        ]
    finish = reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")
    result = {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "model": body.get("model", ""),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
    }
    return result | ({"usage": _usage(reply, body)} if reply.send_usage else {})


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "choices": [choice]}


def _stream_chunks(reply: Reply, body: dict[str, Any]) -> list[dict[str, Any]]:
    chunks = [_chunk({"role": "assistant", "content": ""})]
    chunks += [_chunk({"content": piece}) for piece in _pieces(reply.text, reply.chunk_size)]
    for i, (name, arguments) in enumerate(reply.tool_calls):
        head = {"index": i, "id": f"call_{i}", "type": "function"}
        chunks.append(
            _chunk({"tool_calls": [head | {"function": {"name": name, "arguments": ""}}]})
        )
        for piece in _pieces(arguments, reply.chunk_size):
            fragment = {"index": i, "function": {"arguments": piece}}
            chunks.append(_chunk({"tool_calls": [fragment]}))
    finish = reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")
    chunks.append(_chunk({}, finish))
    wants_usage = (body.get("stream_options") or {}).get("include_usage")
    if wants_usage and reply.send_usage:
        chunks.append({"id": "chatcmpl-fake", "choices": [], "usage": _usage(reply, body)})
    return chunks


@dataclass(frozen=True)
class _Refusal:
    """A 4xx the fake decided on from the request itself (its window, its lack of tools)."""

    status: int
    payload: dict[str, Any]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: _Server

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.loads(raw or b"{}")
        headers = {k.lower(): v for k, v in self.headers.items()}
        fake = self.server.fake
        if self.path == "/api/show":
            self._server_info(RecordedRequest(self.path, headers, body), fake.ollama_show)
            return
        step: Step | _Refusal = fake._take(RecordedRequest(self.path, headers, body))
        if (refusal := fake._refusal(body)) is not None:
            step = refusal
        if isinstance(step, Stall):
            fake._closing.wait(step.seconds)
            step = fake.default(body)
        elif isinstance(step, Hold):
            while not (step.release.is_set() or fake._closing.is_set()):
                step.release.wait(0.05)
            step = fake.default(body)
        self._answer(step, body)

    def do_GET(self) -> None:
        """`GET /v1/models`, which health checks use (it costs no tokens on real APIs), and
        llama.cpp's `GET /props` when the fake plays that server."""
        fake = self.server.fake
        headers = {k.lower(): v for k, v in self.headers.items()}
        if self.path == "/props":
            self._server_info(RecordedRequest(self.path, headers, {}), fake.props)
            return
        with fake._lock:
            fake.gets.append(RecordedRequest(self.path, headers, {}))
        if fake.models_status != 200:
            self._json(fake.models_status, _error("refused", "invalid_request_error", None))
            return
        card = {"id": "gpt-4o-mini", "object": "model"} | fake.model_card
        self._json(200, {"object": "list", "data": [card]})

    def _server_info(self, request: RecordedRequest, answer: dict[str, Any] | None) -> None:
        """A server's own info endpoint: its JSON when the fake plays that server, else 404."""
        fake = self.server.fake
        with fake._lock:
            fake.gets.append(request)
        if answer is None:
            self._json(404, {"detail": "Not Found"})
        else:
            self._json(200, answer)

    def _answer(self, step: Step | _Refusal, body: dict[str, Any]) -> None:
        match step:
            case Reply() if body.get("stream"):
                self._sse([f"data: {json.dumps(c)}" for c in _stream_chunks(step, body)])
            case Reply():
                self._json(200, _completion(step, body))
            case RateLimited(retry_after=after):
                extra = {"Retry-After": after} if after is not None else {}
                self._json(429, _error("Rate limit reached", "requests", "rate_limit"), extra)
            case ServerError(status=status):
                self._json(status, _error("The server had an error", "server_error", None))
            case CutStream(text=text, after_chars=n):
                self._sse([f"data: {json.dumps(_chunk({'content': text[:n]}))}"], done=False)
            case StallMidStream(text=text, after_chars=n, seconds=seconds):
                first = f"data: {json.dumps(_chunk({'content': text[:n]}))}"
                self._sse([first], done=False, then_wait=seconds)
            case Trickle():
                self._trickle(step)
            case Malformed(body=text, content_type=kind):
                self._send(200, text.encode(), {"Content-Type": kind})
            case ContextLengthError():
                self._json(400, _CONTEXT_ERROR)
            case EmptyStream() if body.get("stream"):
                self._sse([], done=False)
            case EmptyStream():
                window = self.server.fake.context_window or 2048
                self._json(400, _window_refusal(window, prompt_tokens(body)))
            case StreamError(message=message, code=code, as_event=as_event):
                data = json.dumps(_error(message, "server_error", code))
                self._sse([f"event: error\ndata: {data}" if as_event else f"data: {data}"])
            case _Refusal(status=status, payload=payload):
                self._json(status, payload)
            case _:
                raise TypeError(f"not a fake LLM step: {step!r}")

    def _json(self, status: int, data: object, extra: dict[str, str] | None = None) -> None:
        self._send(
            status, json.dumps(data).encode(), {"Content-Type": "application/json"} | (extra or {})
        )

    def _send(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _sse(self, events: list[str], *, done: bool = True, then_wait: float = 0) -> None:
        # No Content-Length: the body ends when the connection closes, as HTTP/1.1 allows.
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        for event in [*events, "data: [DONE]"] if done else events:
            self.wfile.write(f"{event}\n\n".encode())
            self.wfile.flush()
        if then_wait:
            self.server.fake._closing.wait(then_wait)
        self.close_connection = True

    def _trickle(self, step: Trickle) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        closing = self.server.fake._closing
        sent = 0
        try:
            while step.count is None or sent < step.count:
                chunk = _chunk({"content": step.token})
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
                sent += 1
                with self.server.fake._lock:
                    self.server.fake.trickled += 1
                if closing.wait(step.every_ms / 1000):
                    break
            else:
                finish = json.dumps(_chunk({}, "stop"))
                self.wfile.write(f"data: {finish}\n\ndata: [DONE]\n\n".encode())
                self.wfile.flush()
        except OSError:
            pass  # the client hung up: what a deadline does to a server that never ends
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests inspect `requests`; access lines on stderr would only be noise


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeLLMServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that time out hang up mid-reply; that is expected here


class FakeLLMServer:
    """`with FakeLLMServer() as server:` then point a client at `server.base_url`."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.gets: list[RecordedRequest] = []
        self.trickled = 0
        """Tokens all `Trickle` steps have sent so far."""
        self.models_status = 200  # what GET /models answers (401: a refused key)
        # The real servers' behaviours, off by default: a window the prompt (estimated by
        # `prompt_tokens`) plus `max_tokens` must fit, refused in `refusal_style`; a
        # refusal of any request with `tools`; and what discovery reads at start.
        self.context_window: int | None = None
        self.refusal_style = "openai"
        self.refuses_tools = False
        self.refuses_images = False  # a text-only model: image parts are refused, as OpenAI does
        self.model_card: dict[str, Any] = {}  # merged into GET /v1/models' card (vLLM's)
        self.props: dict[str, Any] | None = None  # GET /props (llama.cpp's server)
        self.ollama_show: dict[str, Any] | None = None  # POST /api/show (Ollama)
        self.default: Callable[[dict[str, Any]], Step] = lambda body: Reply(text="OK")
        self._steps: deque[Step] = deque()
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._closing = threading.Event()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.fake = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def _refusal(self, body: dict[str, Any]) -> Step | _Refusal | None:
        if self.refuses_tools and body.get("tools"):
            return _Refusal(400, TOOLS_REFUSAL)
        if (bad := _bad_image_part(body)) is not None:
            return _Refusal(400, _error(bad, "invalid_request_error", "invalid_value"))
        has_images = any(image_urls(m) for m in body.get("messages", []))
        if self.refuses_images and has_images:
            message = "Invalid content type. image_url is only supported by certain models."
            return _Refusal(400, _error(message, "invalid_request_error", None))
        window = self.context_window
        asked = prompt_tokens(body) + int(body.get("max_tokens") or 0)
        if window is None or asked <= window:
            return None
        match self.refusal_style:
            case "llama-cpp-python":
                return EmptyStream()
            case "llama.cpp":
                return _Refusal(400, _llama_cpp_refusal(window, asked))
            case "stream-error" if body.get("stream"):
                return StreamError(f"request exceeds the available context size ({window} tokens)")
            case _:
                return _Refusal(400, _window_refusal(window, asked))

    def script(self, *steps: Step) -> None:
        with self._lock:
            self._steps.extend(steps)

    def _take(self, request: RecordedRequest) -> Step:
        from tests.support import log_scan  # imported late: pytest loads it as a plugin first

        for message in request.body.get("messages", []):
            if message.get("role") == "user" and message_text(message):
                log_scan.remember_user_text(message_text(message))
        with self._lock:
            self.requests.append(request)
            self._arrived.notify_all()
            return self._steps.popleft() if self._steps else self.default(request.body)

    def wait_for_requests(self, count: int, timeout: float = 10.0) -> bool:
        """Whether `count` completion requests arrived within `timeout` seconds (blocking: call
        it through `asyncio.to_thread` in async tests)."""
        with self._arrived:
            return self._arrived.wait_for(lambda: len(self.requests) >= count, timeout)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
