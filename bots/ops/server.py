"""The operations port: `/metrics`, `/healthz` and the desks' webhooks, on a thread of its own.

Served by prometheus_client's own WSGI pieces (its `make_wsgi_app` and threading WSGI
server on the standard library's wsgiref), so the core needs no web framework and the
Slack extra's aiohttp is not required. A scrape or a health probe runs on the server's
thread; the health check itself is async (it uses the store), so it is handed to the bot's
event loop, which also shows that the loop is not stuck.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from bots.errors import ConfigError
from bots.ops.health import Health, HealthCheck

HEALTH_PATH = "/healthz"
# A health answer that takes longer than this means the event loop is stuck: say so.
HEALTH_WAIT_SECONDS = 8.0

StartResponse = Callable[..., Any]
Route = Callable[[str, Mapping[str, str], bytes], tuple[int, bytes]]
"""A POST handler (path, headers, raw body) -> (status, JSON body), run on the bot's loop:
the desks' webhooks (bots/desks/receiver.py)."""
MAX_BODY = 1024 * 1024
_STATUS = {200: "200 OK", 400: "400 Bad Request", 401: "401 Unauthorized", 404: "404 Not Found"}


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per scrape on stderr would drown the bot's own logs


def ops_app(
    registry: CollectorRegistry,
    health: HealthCheck,
    loop: asyncio.AbstractEventLoop,
    routes: Mapping[str, Route] | None = None,
) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    metrics = make_wsgi_app(registry)
    posts = dict(routes or {})

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        route = posts.get(environ.get("PATH_INFO", ""))
        if route is not None and environ.get("REQUEST_METHOD") == "POST":
            code, answer = _post(route, environ, loop)
            start_response(
                _STATUS.get(code, f"{code} Error"), [("Content-Type", "application/json")]
            )
            return [answer]
        if environ.get("PATH_INFO") != HEALTH_PATH:
            return metrics(environ, start_response)  # type: ignore[no-any-return]
        result = _health_from_loop(health, loop)
        body = json.dumps(result.as_json()).encode()
        status = "200 OK" if result.ok else "503 Service Unavailable"
        start_response(status, [("Content-Type", "application/json")])
        return [body]

    return app


def _post(
    route: Route, environ: dict[str, Any], loop: asyncio.AbstractEventLoop
) -> tuple[int, bytes]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if not 0 < length <= MAX_BODY:
        return 400, b'{"error":"a body of 1 byte to 1 MB is expected"}'
    body = environ["wsgi.input"].read(length)
    headers = {
        key[5:].replace("_", "-"): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    path = str(environ.get("PATH_INFO", ""))

    async def on_loop() -> tuple[int, bytes]:
        return route(path, headers, body)

    future = asyncio.run_coroutine_threadsafe(on_loop(), loop)
    try:
        return future.result(HEALTH_WAIT_SECONDS)
    except TimeoutError:
        future.cancel()
        return 503, b'{"error":"busy"}'


def _health_from_loop(health: HealthCheck, loop: asyncio.AbstractEventLoop) -> Health:
    future = asyncio.run_coroutine_threadsafe(health.check(), loop)
    try:
        return future.result(HEALTH_WAIT_SECONDS)
    except TimeoutError:
        future.cancel()
        return Health(False, {"loop": "failing: the bot did not answer in time"})


@contextmanager
def serve_ops(
    host: str,
    port: int,
    registry: CollectorRegistry,
    health: HealthCheck,
    loop: asyncio.AbstractEventLoop,
    routes: Mapping[str, Route] | None = None,
) -> Iterator[int]:
    """Serve `/metrics`, `/healthz` and the POST `routes` on `host:port` (0: any free port);
    yields the port."""
    try:
        server: WSGIServer = make_server(
            host,
            port,
            ops_app(registry, health, loop, routes),
            ThreadingWSGIServer,
            _QuietHandler,
        )
    except OSError as exc:
        raise ConfigError(
            f"cannot serve metrics on port {port} (BOTS_METRICS_PORT): {exc.strerror or exc}"
        ) from None
    thread = threading.Thread(target=server.serve_forever, name="ops-http", daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
