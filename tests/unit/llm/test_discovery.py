"""Learning the server's context window at start, and the sizes a persona then gets."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import httpx
import pytest

from bots.llm.discovery import discover_window
from bots.llm.fit import ServerFit
from bots.secret import Secret
from tests.fakes.fake_llm import FakeLLMServer


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as fake:
        yield fake


async def test_vllm_says_max_model_len_in_its_model_list(server: FakeLLMServer) -> None:
    server.model_card = {"owned_by": "vllm", "root": "gpt-4o-mini", "max_model_len": 4096}

    window = await discover_window(server.base_url, "gpt-4o-mini", Secret("k"))

    assert window is not None
    assert (window.tokens, window.source) == (4096, "/v1/models max_model_len")


async def test_llama_cpp_server_says_n_ctx_in_props(server: FakeLLMServer) -> None:
    server.props = {"default_generation_settings": {"n_ctx": 2048}, "total_slots": 1}

    window = await discover_window(server.base_url, "any", Secret(""))

    assert window is not None
    assert window.tokens == 2048
    assert any(request.path == "/props" for request in server.gets)  # at the root, not /v1


async def test_ollama_says_num_ctx_before_the_trained_length(server: FakeLLMServer) -> None:
    server.ollama_show = {
        "parameters": 'stop                "<|eot_id|>"\nnum_ctx             8192',
        "model_info": {"general.architecture": "llama", "llama.context_length": 131072},
    }

    window = await discover_window(server.base_url, "llama3.1", Secret(""))

    assert window is not None
    assert (window.tokens, window.source) == (8192, "Ollama /api/show num_ctx")
    shown = [r for r in server.gets if r.path == "/api/show"]
    assert shown[0].body == {"model": "llama3.1"}


async def test_ollama_without_num_ctx_gives_the_models_length(server: FakeLLMServer) -> None:
    server.ollama_show = {
        "parameters": "",
        "model_info": {"general.architecture": "qwen2", "qwen2.context_length": 32768},
    }

    window = await discover_window(server.base_url, "qwen2", Secret(""))

    assert window is not None
    assert window.tokens == 32768


async def test_a_server_that_says_nothing_is_unknown(server: FakeLLMServer) -> None:
    # OpenAI and llama-cpp-python: a model list without a length, no /props, no /api/show.
    assert await discover_window(server.base_url, "gpt-4o-mini", Secret("k")) is None


async def test_an_unreachable_server_is_unknown() -> None:
    assert await discover_window("http://127.0.0.1:9/v1", "m", Secret("")) is None


async def test_a_slow_server_is_unknown_within_the_time_bound() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        return httpx.Response(200, json={})

    transport = httpx.MockTransport(handler)
    started = asyncio.get_running_loop().time()

    window = await discover_window(
        "http://llm.test/v1", "m", Secret(""), transport=transport, seconds=0.2
    )

    assert window is None
    assert asyncio.get_running_loop().time() - started < 5


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="<html>not json</html>"),
        httpx.Response(200, json={"data": "not a list", "n_ctx": "2048"}),
        httpx.Response(200, json={"default_generation_settings": {"n_ctx": -1}}),
        httpx.Response(401, json={"error": "no key"}),
    ],
)
async def test_garbled_or_refused_answers_are_unknown(answer: httpx.Response) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return answer

    transport = httpx.MockTransport(handler)
    assert await discover_window("http://llm.test/v1", "m", Secret(""), transport=transport) is None


# --- sizes ----------------------------------------------------------------------------------


def test_a_smaller_server_window_wins_and_says_so_once(caplog: pytest.LogCaptureFixture) -> None:
    fit = ServerFit(server_window=2048, source="llama.cpp /props n_ctx")
    with caplog.at_level(logging.INFO, logger="bots.llm.fit"):
        first = fit.sizes(16000, 400)
        fit.sizes(16000, 400)

    assert first.window == 2048
    assert first.max_tokens == 256  # an eighth of a window smaller than asked
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "server context 2048 tokens (llama.cpp /props n_ctx); persona asked for 16000; using 2048"
    ]
    assert caplog.records[0].levelno == logging.WARNING


def test_a_larger_server_window_keeps_the_personas() -> None:
    assert ServerFit(server_window=131072, source="x").sizes(16000, 400).window == 16000


def test_small_windows_scale_the_reply_down() -> None:
    fit = ServerFit(server_window=512, source="x")

    sizes = fit.sizes(16000, 400)

    assert (sizes.window, sizes.max_tokens) == (512, 64)
    assert sizes.prompt_budget == 448


def test_overrides_stand_in_for_a_silent_server() -> None:
    fit = ServerFit(window_override=1024, max_tokens_override=200)

    sizes = fit.sizes(16000, 400)

    assert (sizes.window, sizes.max_tokens) == (1024, 200)


def test_a_refusal_teaches_a_smaller_window_only() -> None:
    fit = ServerFit(server_window=4096, source="x")

    assert fit.learn_window(2048, "named in its refusal")
    assert not fit.learn_window(8192, "named in its refusal")
    assert fit.sizes(16000, 400).window == 2048
