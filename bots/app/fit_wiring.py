"""Building the run's `ServerFit`: the overrides from the settings, the window from the server."""

from __future__ import annotations

import httpx

from bots.config import DEFAULT_BASE_URL, Settings
from bots.llm.discovery import discover_window
from bots.llm.fit import ServerFit


async def server_fit(
    settings: Settings, model: str, transport: httpx.AsyncBaseTransport | None = None
) -> ServerFit:
    """Ask the server for its window (briefly; no answer is fine) unless no model is in use
    or it is OpenAI's API, which says nothing about windows."""
    window = None
    if settings.api_key is not None and settings.base_url != DEFAULT_BASE_URL:
        window = await discover_window(
            settings.base_url, model, settings.api_key, transport=transport
        )
    return ServerFit(
        server_window=window.tokens if window else None,
        source=window.source if window else "",
        window_override=settings.context_window,
        max_tokens_override=settings.max_tokens,
    )
