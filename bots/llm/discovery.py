"""Asking the model server at start how many tokens its context window holds."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

from bots.secret import Secret

log = logging.getLogger(__name__)

# A person may be waiting for the first answer: a server that does not answer these quickly
# is treated as saying nothing (the run-time refusals still teach the window).
DISCOVERY_SECONDS = 3.0


@dataclass(frozen=True, slots=True)
class ServerWindow:
    """The context window a server reported, and where it said so (for the log line)."""

    tokens: int
    source: str


async def discover_window(
    base_url: str,
    model: str,
    api_key: Secret,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    seconds: float = DISCOVERY_SECONDS,
) -> ServerWindow | None:
    """The server's window from whichever of the known endpoints answers, else None.

    vLLM lists `max_model_len` in `/v1/models`; llama.cpp's server has `/props`; Ollama has
    `/api/show`. OpenAI and llama-cpp-python say nothing, so None is the usual answer there.
    Every failure (refused, not found, slow, garbled) means "unknown", never an error.
    """
    headers = {"Authorization": f"Bearer {api_key.reveal()}"} if api_key.reveal() else {}
    root = _server_root(base_url)
    async with httpx.AsyncClient(
        transport=transport, timeout=httpx.Timeout(seconds), headers=headers
    ) as http:
        probes: list[Callable[[], Awaitable[ServerWindow | None]]] = [
            lambda: _vllm_models(http, base_url.rstrip("/") + "/models", model),
            lambda: _llama_cpp_props(http, root + "/props"),
            lambda: _ollama_show(http, root + "/api/show", model),
        ]
        try:
            async with asyncio.timeout(seconds):
                found = await asyncio.gather(*(_quietly(probe) for probe in probes))
        except TimeoutError:
            log.debug("model server discovery timed out after %.1fs", seconds)
            return None
    return next((window for window in found if window is not None), None)


def _server_root(base_url: str) -> str:
    """`http://host:port` from `http://host:port/v1`: the servers' own endpoints live there."""
    parts = urlsplit(base_url.rstrip("/"))
    path = parts.path[: -len("/v1")] if parts.path.endswith("/v1") else parts.path
    return urlunsplit((parts.scheme, parts.netloc, path, "", "")).rstrip("/")


async def _quietly(probe: Callable[[], Awaitable[ServerWindow | None]]) -> ServerWindow | None:
    try:
        return await probe()
    except (httpx.HTTPError, ValueError) as exc:
        log.debug("model server discovery probe failed (%s)", type(exc).__name__)
        return None


async def _json(response: httpx.Response) -> object:
    if response.status_code != 200:
        return None
    return response.json()


def _positive(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


async def _vllm_models(http: httpx.AsyncClient, url: str, model: str) -> ServerWindow | None:
    data = await _json(await http.get(url))
    models = data.get("data") if isinstance(data, dict) else None
    if not isinstance(models, list):
        return None
    cards = [card for card in models if isinstance(card, dict)]
    # The model the bot asks for, else the one model such servers usually serve.
    named = [card for card in cards if card.get("id") == model] or cards[:1]
    for card in named:
        if tokens := _positive(card.get("max_model_len")):
            return ServerWindow(tokens, "/v1/models max_model_len")
    return None


async def _llama_cpp_props(http: httpx.AsyncClient, url: str) -> ServerWindow | None:
    data = await _json(await http.get(url))
    if not isinstance(data, dict):
        return None
    settings = data.get("default_generation_settings")
    tokens = _positive(settings.get("n_ctx")) if isinstance(settings, dict) else None
    tokens = tokens or _positive(data.get("n_ctx"))  # older builds put it at the top
    return ServerWindow(tokens, "llama.cpp /props n_ctx") if tokens else None


async def _ollama_show(http: httpx.AsyncClient, url: str, model: str) -> ServerWindow | None:
    data = await _json(await http.post(url, json={"model": model}))
    if not isinstance(data, dict):
        return None
    # `num_ctx` is what the server really runs the model with; the model's trained length
    # (`<architecture>.context_length`) is only an upper bound.
    if tokens := _ollama_num_ctx(data.get("parameters")):
        return ServerWindow(tokens, "Ollama /api/show num_ctx")
    info = data.get("model_info")
    if not isinstance(info, dict):
        return None
    architecture = info.get("general.architecture")
    lengths = [v for k, v in info.items() if str(k).endswith(".context_length")]
    tokens = _positive(info.get(f"{architecture}.context_length", lengths[0] if lengths else 0))
    return ServerWindow(tokens, "Ollama /api/show context_length") if tokens else None


def _ollama_num_ctx(parameters: object) -> int | None:
    """`num_ctx` from Ollama's parameters text: one `name value` pair a line."""
    if not isinstance(parameters, str):
        return None
    for line in parameters.splitlines():
        name, _, value = line.strip().partition(" ")
        if name == "num_ctx" and value.strip().isdigit():
            return _positive(int(value.strip()))
    return None
