"""Real servers' ways of saying "too long" and "no tools", read by the client (fake server)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from bots.errors import ContextTooLong, LLMError, LLMServerError, ToolsRefused
from bots.llm.client import (
    ChatMessage,
    ChatRequest,
    ContentDelta,
    LLMEvent,
    OpenAIChatClient,
    ToolSpec,
)
from bots.secret import Secret
from tests.conftest import RecordingSleep
from tests.fakes.fake_llm import EmptyStream, FakeLLMServer, Reply, StreamError

TOOL = ToolSpec("handoff_to_human", "Give the thread to a person.", {"type": "object"})


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as fake:
        yield fake


@pytest.fixture
async def client(server: FakeLLMServer) -> AsyncIterator[OpenAIChatClient]:
    async with OpenAIChatClient(
        server.base_url, Secret("sk-x"), timeout=5, sleep=RecordingSleep()
    ) as llm:
        yield llm


def ask(words: int = 10, **options: object) -> ChatRequest:
    messages = (ChatMessage("system", "Be brief."), ChatMessage("user", "hello " * words))
    return ChatRequest("test-model", messages, max_tokens=100, **options)  # type: ignore[arg-type]


async def collect(client: OpenAIChatClient, request: ChatRequest) -> list[LLMEvent]:
    return [event async for event in client.stream(request)]


@pytest.mark.parametrize("style", ["openai", "llama-cpp-python", "llama.cpp", "stream-error"])
async def test_every_servers_too_long_names_the_window(
    client: OpenAIChatClient, server: FakeLLMServer, style: str
) -> None:
    server.context_window, server.refusal_style = 512, style

    with pytest.raises(ContextTooLong) as raised:
        await collect(client, ask(words=1000))

    assert raised.value.limit == 512


async def test_an_empty_stream_is_asked_again_unstreamed_once(
    client: OpenAIChatClient, server: FakeLLMServer
) -> None:
    # Not too long at all: a server (or proxy) that sent an empty stream once.
    server.script(EmptyStream(), Reply(text="Hello there."))

    events = await collect(client, ask())

    assert "".join(e.text for e in events if isinstance(e, ContentDelta)) == "Hello there."
    first, second = server.requests
    assert first.body["stream"] is True
    assert second.body["stream"] is False
    assert "stream_options" not in second.body


async def test_llama_cpp_python_empty_stream_becomes_too_long_in_one_round(
    client: OpenAIChatClient, server: FakeLLMServer
) -> None:
    server.context_window, server.refusal_style = 2048, "llama-cpp-python"

    with pytest.raises(ContextTooLong) as raised:
        await collect(client, ask(words=20_000))

    assert raised.value.limit == 2048
    assert len(server.requests) == 2  # not four identical retries of a cut stream


@pytest.mark.parametrize("as_event", [False, True])
async def test_an_error_event_inside_the_stream(
    client: OpenAIChatClient, server: FakeLLMServer, as_event: bool
) -> None:
    server.script(StreamError("prompt is too long: context window of 1024", as_event=as_event))

    with pytest.raises(ContextTooLong) as raised:
        await collect(client, ask())

    assert raised.value.limit == 1024


async def test_an_other_error_event_is_a_server_error(
    client: OpenAIChatClient, server: FakeLLMServer
) -> None:
    server.script(*[StreamError("out of memory", as_event=True)] * 4)

    with pytest.raises(LLMServerError):
        await collect(client, ask())


async def test_a_server_without_tools_is_told_apart(
    client: OpenAIChatClient, server: FakeLLMServer
) -> None:
    server.refuses_tools = True

    with pytest.raises(ToolsRefused):
        await collect(client, ask(tools=(TOOL,)))
    assert text_of(await collect(client, ask())) == "OK"


@pytest.mark.parametrize(
    ("message", "refused_tools"),
    [
        ("tools param requires --jinja flag", True),  # llama.cpp
        ("registry.ollama.ai/library/gemma:2b does not support tools", True),  # Ollama
        ("model 'x' not found", False),
    ],
)
async def test_tool_refusals_in_other_servers_words(message: str, refused_tools: bool) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": {"message": message}})

    transport = httpx.MockTransport(handler)
    async with OpenAIChatClient("http://llm.test/v1", Secret(""), transport=transport) as llm:
        with pytest.raises(LLMError) as raised:
            await collect(llm, ask(tools=(TOOL,)))

    assert isinstance(raised.value, ToolsRefused) is refused_tools


def text_of(events: list[LLMEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, ContentDelta))


def test_llama_cpp_n_ctx_field_is_read() -> None:
    from bots.llm.wire import status_error

    body = {
        "error": {
            "message": "the request exceeds the available context size, try increasing it",
            "type": "exceed_context_size_error",
            "n_ctx": 4096,
        }
    }
    response = httpx.Response(400, text=json.dumps(body))

    error = status_error(response, Secret(""))

    assert isinstance(error, ContextTooLong)
    assert error.limit == 4096
