"""What this run knows about the model server's limits: its context window, and tool calls."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

log = logging.getLogger(__name__)

# When the server's window is smaller than a persona asked for, the reply's room shrinks with
# it, to at most this share of the window (but never below MIN_REPLY_TOKENS): a persona's
# `max_tokens: 400` would otherwise leave a 1,024-token server almost nothing for the FAQ.
SMALL_WINDOW_REPLY_SHARE = 8
MIN_REPLY_TOKENS = 64


@dataclass(frozen=True, slots=True)
class Sizes:
    """The window a turn's prompt must fit, and the reply's `max_tokens` within it."""

    window: int
    max_tokens: int

    @property
    def prompt_budget(self) -> int:
        return self.window - self.max_tokens


class ServerFit:
    """Sizes for each persona's requests, from the persona, the server and the overrides.

    The server's window comes from discovery at start (`bots/llm/discovery.py`) or from a
    refusal that names it; `BOTS_CONTEXT_WINDOW` and `BOTS_MAX_TOKENS` stand in for servers
    that say nothing. Shared by every turn of the run, so one refusal teaches them all.
    """

    def __init__(
        self,
        *,
        server_window: int | None = None,
        source: str = "",
        window_override: int | None = None,
        max_tokens_override: int | None = None,
    ) -> None:
        self._server_window = server_window
        self._source = source
        self._window_override = window_override
        self._max_tokens_override = max_tokens_override
        self._tools = True
        self._told: set[tuple[int, int]] = set()
        self._warned: set[str] = set()
        self._lock = threading.Lock()  # the library reloads personas on a worker thread

    @property
    def server_window(self) -> int | None:
        return self._server_window

    @property
    def tools(self) -> bool:
        """False once the server refused a request for carrying `tools`."""
        return self._tools

    def refuse_tools(self) -> None:
        if self._tools:
            self._tools = False
            log.warning(
                "the model server does not take tool calls; asking without them from now on "
                "(hand-offs rely on the detector and the [[handoff: ...]] marker)"
            )

    def learn_window(self, tokens: int, source: str) -> bool:
        """Take a window the server named; whether it is news (smaller than what was known)."""
        with self._lock:
            if self._server_window is not None and self._server_window <= tokens:
                return False
            self._server_window, self._source = tokens, source
            self._told.clear()
            return True

    def sizes(self, asked_window: int, asked_max_tokens: int) -> Sizes:
        """The window and reply room for a persona that asked for these; says so once."""
        wanted = self._window_override or asked_window
        server = self._server_window
        window = min(wanted, server) if server else wanted
        max_tokens = self._max_tokens_override or asked_max_tokens
        if window < wanted and self._max_tokens_override is None:
            max_tokens = min(max_tokens, max(window // SMALL_WINDOW_REPLY_SHARE, MIN_REPLY_TOKENS))
        max_tokens = max(min(max_tokens, window // 2), 1)
        self._tell(asked_window, window)
        return Sizes(window, max_tokens)

    def warn_once(self, topic: str, message: str, *arguments: object) -> None:
        """A warning about this server's fit that is worth saying once a run, not each turn."""
        with self._lock:
            if topic in self._warned:
                return
            self._warned.add(topic)
        log.warning(message, *arguments)

    def _tell(self, asked: int, used: int) -> None:
        with self._lock:
            if (asked, used) in self._told:
                return
            self._told.add((asked, used))
        wanted = self._window_override or asked
        asked_by = "BOTS_CONTEXT_WINDOW" if self._window_override else "persona"
        if self._server_window is None:
            log.info("server context unknown; %s asked for %d; using %d", asked_by, wanted, used)
            return
        line = "server context %d tokens (%s); %s asked for %d; using %d"
        arguments = (self._server_window, self._source, asked_by, wanted, used)
        # Smaller than asked is worth a warning: the persona file promises more than it gets.
        (log.warning if used < wanted else log.info)(line, *arguments)
