"""The HTTP part the fake help desks share: a server on 127.0.0.1, JSON in and out, faults."""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self


@dataclass(frozen=True)
class Fault:
    """A scripted answer for the next request instead of the desk's own (a 429, a 503)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: Any


class FakeDeskServer:
    """Subclasses answer `route(method, path, query, body, headers)` with (status, JSON)."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.faults: deque[Fault] = deque()
        self.lock = threading.RLock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def fail(self, status: int, count: int = 1, **headers: str) -> None:
        """The next `count` requests get `status` (and headers, e.g. Retry-After="7")."""
        for _ in range(count):
            self.faults.append(Fault(status, {k.replace("_", "-"): v for k, v in headers.items()}))

    def route(
        self, method: str, path: str, query: dict[str, str], body: Any, headers: dict[str, str]
    ) -> tuple[int, Any]:
        raise NotImplementedError

    def answer(
        self, method: str, raw_path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        path, _, query_text = raw_path.partition("?")
        query = dict(pair.partition("=")[::2] for pair in query_text.split("&") if pair)
        data = json.loads(body) if body else None
        with self.lock:
            self.calls.append(Call(method, path, data))
            if self.faults:
                fault = self.faults.popleft()
                return fault.status, fault.headers, b'{"error":"scripted"}'
            status, answer = self.route(method, path, query, data, headers)
        return status, {}, b"" if answer is None else json.dumps(answer).encode()

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def _handler_for(fake: FakeDeskServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, extra, answer = fake.answer(self.command, self.path, body, headers)
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
