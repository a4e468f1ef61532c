"""Which model servers keep failing: failures counted per server (base URL), and outages."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

# Two failures of one server within five minutes are an outage, not bad luck: a
# misconfigured or dead server must not send every question to the support team.
OUTAGE_FAILURES = 2
OUTAGE_WINDOW = timedelta(minutes=5)


def server_label(base_url: str) -> str:
    """The base URL without user, password, query or fragment: safe in metrics and logs."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


@dataclass(frozen=True)
class ServerStatus:
    """One server as `/healthz` shows it."""

    server: str
    failures_total: int
    recent_failures: int
    outage: bool

    def describe(self) -> str:
        if self.outage:
            return f"outage ({self.recent_failures} failures in the last few minutes)"
        return f"ok ({self.failures_total} failures since start)"


@dataclass
class _Record:
    total: int = 0
    recent: deque[datetime] = field(default_factory=deque)


class ServerFailures:
    """Failures per server. A success ends an outage; old failures age out of the window.

    Shared by the engine (which decides what to tell the user) and `/healthz`, in one
    process and one event loop, so no lock is needed.
    """

    def __init__(
        self, *, failures: int = OUTAGE_FAILURES, window: timedelta = OUTAGE_WINDOW
    ) -> None:
        self._failures = failures
        self._window = window
        self._records: dict[str, _Record] = {}

    def failed(self, base_url: str, now: datetime) -> ServerStatus:
        """Count one failed model call (after the client's retries); the server's status."""
        record = self._records.setdefault(server_label(base_url), _Record())
        record.total += 1
        record.recent.append(now)
        return self.status(base_url, now)

    def succeeded(self, base_url: str) -> None:
        record = self._records.get(server_label(base_url))
        if record is not None:
            record.recent.clear()

    def status(self, base_url: str, now: datetime) -> ServerStatus:
        label = server_label(base_url)
        record = self._records.get(label, _Record())
        while record.recent and now - record.recent[0] > self._window:
            record.recent.popleft()
        recent = len(record.recent)
        return ServerStatus(label, record.total, recent, recent >= self._failures)

    def statuses(self, now: datetime) -> list[ServerStatus]:
        return [self.status(label, now) for label in sorted(self._records)]
