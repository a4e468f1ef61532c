"""The run's ServerFit from the settings and what the server says at start."""

from __future__ import annotations

import httpx

from bots.app.fit_wiring import server_fit
from bots.config import Settings


def props(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/props":
        return httpx.Response(200, json={"default_generation_settings": {"n_ctx": 2048}})
    return httpx.Response(404)


async def test_the_servers_window_and_the_overrides_meet() -> None:
    settings = Settings.from_env(
        {"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "http://llm.test/v1", "BOTS_MAX_TOKENS": "100"}
    )

    fit = await server_fit(settings, "m", httpx.MockTransport(props))

    assert fit.server_window == 2048
    assert fit.sizes(16000, 400).max_tokens == 100


async def test_without_a_model_nothing_is_asked() -> None:
    asked: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return httpx.Response(404)

    fit = await server_fit(Settings.from_env({}), "m", httpx.MockTransport(handler))

    assert asked == []
    assert fit.server_window is None


async def test_openai_is_not_asked() -> None:
    asked: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return httpx.Response(404)

    await server_fit(Settings.from_env({"OPENAI_API_KEY": "k"}), "m", httpx.MockTransport(handler))

    assert asked == []
