"""A real HTTP server on 127.0.0.1 for the import's tests: a folder of files plus set routes.

Routes answer exact paths with (status, headers, body) or a callable (to sleep, to count);
everything else is served from the folder, as any static docs host would.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

Reply = tuple[int, dict[str, str], bytes]


@dataclass
class Site:
    base_url: str
    routes: dict[str, Reply | Callable[[], Reply]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)


class _Handler(SimpleHTTPRequestHandler):
    site: Site

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.site.requests.append(self.path)
        route = self.site.routes.get(unquote(self.path))
        if route is None:
            super().do_GET()
            return
        status, headers, body = route() if callable(route) else route
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if "Content-Length" not in headers:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


@contextmanager
def serve_site(folder: Path) -> Iterator[Site]:
    site = Site("")
    handler = type("Handler", (_Handler,), {"site": site})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(folder)))
    server.daemon_threads = True
    site.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
