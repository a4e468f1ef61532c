"""The chat-completions client against a real local HTTP fake and httpx.MockTransport."""

from __future__ import annotations

import email.utils
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import httpx
import pytest

from bots.errors import (
    ContextTooLong,
    LLMAuthError,
    LLMBadResponse,
    LLMError,
    LLMRateLimited,
    LLMServerError,
    LLMStreamCut,
    LLMUnavailable,
)
from bots.llm.client import (
    ChatMessage,
    ChatModel,
    ChatRequest,
    Completed,
    ContentDelta,
    LLMEvent,
    OpenAIChatClient,
    RetryPolicy,
    ToolCall,
    ToolSpec,
    parse_retry_after,
)
from bots.models import Usage
from bots.secret import Secret
from tests.conftest import RecordingSleep
from tests.fakes.fake_llm import (
    ContextLengthError,
    CutStream,
    FakeLLMServer,
    Malformed,
    RateLimited,
    Reply,
    ServerError,
    Stall,
)

KEY = "sk-test-KEY-9f8e7d6c5b4a"
QUESTION = "When does the kitchen close on Sundays?"
HANDOFF = ToolSpec(
    "handoff_to_human",
    "Give the thread to a person.",
    {"type": "object", "properties": {"reason": {"type": "string"}}, "required": ["reason"]},
)


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as fake:
        yield fake


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
async def client(server: FakeLLMServer, sleeps: RecordingSleep) -> AsyncIterator[OpenAIChatClient]:
    async with OpenAIChatClient(server.base_url, Secret(KEY), timeout=5, sleep=sleeps) as llm:
        yield llm


def ask(**options: object) -> ChatRequest:
    messages = (ChatMessage("system", "Be brief."), ChatMessage("user", QUESTION))
    return ChatRequest("test-model", messages, **options)  # type: ignore[arg-type]


async def collect(model: ChatModel, request: ChatRequest) -> list[LLMEvent]:
    return [event async for event in model.stream(request)]


def text_of(events: list[LLMEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, ContentDelta))


Handler = Callable[[httpx.Request], Awaitable[httpx.Response]]


def mock_client(handler: Handler, sleeps: RecordingSleep, **options: object) -> OpenAIChatClient:
    transport = httpx.MockTransport(handler)
    return OpenAIChatClient(
        "http://llm.test/v1",
        Secret(KEY),
        transport=transport,
        sleep=sleeps,
        **options,  # type: ignore[arg-type]
    )


# --- replies --------------------------------------------------------------------------------


async def test_streamed_reply_arrives_in_pieces_then_completed_with_usage(
    client: OpenAIChatClient, server: FakeLLMServer
) -> None:
    server.script(Reply(text="We close at ten on Sundays.", usage=(42, 9), chunk_size=5))

    events = await collect(client, ask())

    deltas = [e for e in events if isinstance(e, ContentDelta)]
    assert len(deltas) > 1
    assert text_of(events) == "We close at ten on Sundays."
    assert events[-1] == Completed("We close at ten on Sundays.", (), Usage(42, 9), "stop")


async def test_non_streaming_reply_is_parsed_from_json(
    client: OpenAIChatClient, server: FakeLLMServer
) -> None:
    server.script(Reply(text="Ten o'clock.", usage=(30, 4)))

    events = await collect(client, ask(stream=False))

    assert events == [
        ContentDelta("Ten o'clock."),
        Completed("Ten o'clock.", (), Usage(30, 4), "stop"),
    ]
    body = server.requests[0].body
    assert body["stream"] is False
    assert "stream_options" not in body


async def test_missing_usage_is_reported_as_zeros(
    client: OpenAIChatClient, server: FakeLLMServer
) -> None:
    server.script(Reply(text="Hi", send_usage=False), Reply(text="Hi", send_usage=False))

    streamed = await collect(client, ask())
    plain = await collect(client, ask(stream=False))

    for events in (streamed, plain):
        last = events[-1]
        assert isinstance(last, Completed)
        assert last.usage == Usage()


async def test_request_carries_the_body_fields_and_bearer_key(
    client: OpenAIChatClient, server: FakeLLMServer
) -> None:
    await collect(client, ask(temperature=0.1, max_tokens=200))

    (request,) = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.body == {
        "model": "test-model",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": QUESTION},
        ],
        "temperature": 0.1,
        "max_tokens": 200,
        "top_p": 1.0,
        "presence_penalty": 0.0,
        "frequency_penalty": 0.0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


async def test_stop_and_tools_are_sent_only_when_set(
    client: OpenAIChatClient, server: FakeLLMServer
) -> None:
    await collect(client, ask(stop=("\nUser:",), tools=(HANDOFF,)))

    body = server.requests[0].body
    assert body["stop"] == ["\nUser:"]
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "handoff_to_human",
                "description": "Give the thread to a person.",
                "parameters": dict(HANDOFF.parameters),
            },
        }
    ]


async def test_tool_call_is_assembled_from_streamed_fragments(
    client: OpenAIChatClient, server: FakeLLMServer
) -> None:
    arguments = json.dumps({"reason": "the user wants to talk to a manager"})
    server.script(Reply(tool_calls=(("handoff_to_human", arguments),), chunk_size=3))

    events = await collect(client, ask(tools=(HANDOFF,)))

    call = ToolCall("handoff_to_human", arguments)
    assert events[:-1] == [call]
    done = events[-1]
    assert isinstance(done, Completed)
    assert (done.text, done.tool_calls, done.finish_reason) == ("", (call,), "tool_calls")


async def test_tool_calls_and_text_from_a_json_reply(
    client: OpenAIChatClient, server: FakeLLMServer
) -> None:
    server.script(Reply(text="One moment.", tool_calls=(("handoff_to_human", "{}"),)))

    events = await collect(client, ask(stream=False, tools=(HANDOFF,)))

    assert events[:2] == [ContentDelta("One moment."), ToolCall("handoff_to_human", "{}")]
    assert isinstance(events[2], Completed)


async def test_consumer_may_stop_early_and_the_client_stays_usable(
    client: OpenAIChatClient, server: FakeLLMServer
) -> None:
    server.script(Reply(text="a long answer " * 20, chunk_size=4))

    async for event in client.stream(ask()):
        assert isinstance(event, ContentDelta)
        break

    assert text_of(await collect(client, ask())) == "OK"


# --- retries --------------------------------------------------------------------------------


async def test_rate_limit_waits_the_servers_retry_after_then_succeeds(
    client: OpenAIChatClient, server: FakeLLMServer, sleeps: RecordingSleep
) -> None:
    server.script(RateLimited(retry_after="2"), Reply(text="Done."))

    events = await collect(client, ask())

    assert text_of(events) == "Done."
    assert len(server.requests) == 2
    assert sleeps.calls == [2.0]


async def test_a_retry_after_longer_than_a_user_waits_gives_up_at_once(
    server: FakeLLMServer, sleeps: RecordingSleep
) -> None:
    server.script(RateLimited(retry_after="3600"))
    policy = RetryPolicy(max_retry_after=7.0)
    async with OpenAIChatClient(server.base_url, Secret(KEY), retry=policy, sleep=sleeps) as llm:
        with pytest.raises(LLMRateLimited) as caught:
            await collect(llm, ask())

    assert caught.value.retry_after == 3600.0
    assert sleeps.calls == []
    assert len(server.requests) == 1


async def test_retries_stop_at_the_total_time_limit(server: FakeLLMServer) -> None:
    server.default = lambda body: ServerError()
    # Real time (tenacity's stop reads the monotonic clock): wide enough that a busy machine,
    # where one request can take a tenth of a second, still gets a retry in before the stop.
    policy = RetryPolicy(
        max_attempts=50, initial_wait=0.1, max_wait=0.1, jitter=0.0, total_seconds=1.5
    )
    async with OpenAIChatClient(server.base_url, Secret(KEY), retry=policy) as llm:
        with pytest.raises(LLMServerError):
            await collect(llm, ask())

    assert 1 < len(server.requests) < 50


async def test_server_errors_are_retried_with_growing_backoff(
    client: OpenAIChatClient, server: FakeLLMServer, sleeps: RecordingSleep
) -> None:
    server.script(ServerError(), ServerError(503), Reply(text="Back."))

    events = await collect(client, ask())

    assert text_of(events) == "Back."
    assert len(server.requests) == 3
    first, second = sleeps.calls
    assert 0.5 <= first <= 1.0  # initial_wait plus up to 0.5 s of jitter
    assert 1.0 <= second <= 1.5


async def test_server_error_forever_gives_up_after_max_attempts(
    client: OpenAIChatClient, server: FakeLLMServer, sleeps: RecordingSleep
) -> None:
    server.default = lambda body: ServerError(502)

    with pytest.raises(LLMServerError, match="HTTP 502"):
        await collect(client, ask())

    assert len(server.requests) == RetryPolicy().max_attempts
    assert len(sleeps.calls) == RetryPolicy().max_attempts - 1


async def test_rate_limited_forever_raises_rate_limited(
    client: OpenAIChatClient, server: FakeLLMServer
) -> None:
    server.default = lambda body: RateLimited(retry_after=None)

    with pytest.raises(LLMRateLimited) as raised:
        await collect(client, ask())

    assert raised.value.retry_after is None
    assert len(server.requests) == 4


@pytest.mark.parametrize("status", [401, 403])
async def test_auth_errors_are_not_retried(status: int, sleeps: RecordingSleep) -> None:
    calls: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(status, json={"error": {"message": f"Incorrect API key {KEY}"}})

    async with mock_client(handler, sleeps) as llm:
        with pytest.raises(LLMAuthError, match=f"HTTP {status}"):
            await collect(llm, ask())

    assert len(calls) == 1
    assert sleeps.calls == []


async def test_stalled_server_times_out_and_is_retried(
    server: FakeLLMServer, sleeps: RecordingSleep
) -> None:
    server.script(Stall(5), Stall(5))
    policy = RetryPolicy(max_attempts=2)
    url = server.base_url
    async with OpenAIChatClient(url, Secret(KEY), timeout=0.2, retry=policy, sleep=sleeps) as llm:
        with pytest.raises(LLMUnavailable, match="timed out") as raised:
            await collect(llm, ask())

    assert type(raised.value) is LLMUnavailable
    assert len(server.requests) == 2
    assert len(sleeps.calls) == 1


async def test_unreachable_server_is_unavailable_after_retries(sleeps: RecordingSleep) -> None:
    calls: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ConnectError("connection refused", request=request)

    async with mock_client(handler, sleeps, retry=RetryPolicy(max_attempts=3)) as llm:
        with pytest.raises(LLMUnavailable, match="unreachable"):
            await collect(llm, ask())

    assert len(calls) == 3


# --- cut streams ----------------------------------------------------------------------------


async def test_stream_cut_after_text_raises_with_the_partial_text_and_no_retry(
    client: OpenAIChatClient, server: FakeLLMServer, sleeps: RecordingSleep
) -> None:
    server.script(CutStream("We close at ten.", after_chars=8))
    seen: list[LLMEvent] = []

    async def consume() -> None:
        async for event in client.stream(ask()):
            seen.append(event)

    with pytest.raises(LLMStreamCut) as raised:
        await consume()

    assert raised.value.partial == "We close"
    assert text_of(seen) == "We close"
    assert len(server.requests) == 1
    assert sleeps.calls == []


async def test_stream_cut_before_any_text_is_retried(
    client: OpenAIChatClient, server: FakeLLMServer
) -> None:
    server.script(CutStream("ignored", after_chars=0), Reply(text="Whole answer."))

    events = await collect(client, ask())

    assert text_of(events) == "Whole answer."
    assert len(server.requests) == 2


async def test_read_error_after_text_raises_stream_cut(sleeps: RecordingSleep) -> None:
    calls: list[httpx.Request] = []

    async def body() -> AsyncIterator[bytes]:
        yield b'data: {"choices": [{"index": 0, "delta": {"content": "Hel"}}]}\n\n'
        raise httpx.ReadError("connection reset")

    async def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body())

    async with mock_client(handler, sleeps) as llm:
        with pytest.raises(LLMStreamCut) as raised:
            await collect(llm, ask())

    assert raised.value.partial == "Hel"
    assert len(calls) == 1


# --- refusals and garbage -------------------------------------------------------------------


async def test_malformed_body_is_retried_once_then_bad_response(
    client: OpenAIChatClient, server: FakeLLMServer, sleeps: RecordingSleep
) -> None:
    server.default = lambda body: Malformed()

    with pytest.raises(LLMBadResponse, match="not JSON"):
        await collect(client, ask())

    assert len(server.requests) == 2
    assert len(sleeps.calls) == 1


async def test_one_malformed_body_then_success(
    client: OpenAIChatClient, server: FakeLLMServer
) -> None:
    server.script(Malformed(body="data: {oops\n\n", content_type="text/event-stream"))

    assert text_of(await collect(client, ask())) == "OK"
    assert len(server.requests) == 2


async def test_json_that_is_not_a_completion_is_bad_response(
    client: OpenAIChatClient, server: FakeLLMServer
) -> None:
    server.default = lambda body: Malformed(body='{"hello": "world"}')

    with pytest.raises(LLMBadResponse):
        await collect(client, ask(stream=False))


async def test_context_too_long_is_not_retried(
    client: OpenAIChatClient, server: FakeLLMServer, sleeps: RecordingSleep
) -> None:
    server.script(ContextLengthError())

    with pytest.raises(ContextTooLong):
        await collect(client, ask())

    assert len(server.requests) == 1
    assert sleeps.calls == []


@pytest.mark.parametrize(
    "body",
    [
        {  # llama.cpp server
            "error": {
                "code": 400,
                "message": "the request exceeds the available context size, try increasing it",
                "type": "exceed_context_size_error",
            }
        },
        {  # vLLM
            "object": "error",
            "message": "This model's maximum context length is 4096 tokens. However, you "
            "requested 5000 tokens (4400 in the messages, 600 in the completion).",
            "type": "BadRequestError",
            "code": 400,
        },
        {"error": "Input is too long for requested model."},
        "prompt is too long: 210000 tokens > 200000 maximum",
    ],
)
async def test_context_errors_in_other_servers_wording(
    body: object, sleeps: RecordingSleep
) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(400, text=body)
        return httpx.Response(400, json=body)

    async with mock_client(handler, sleeps) as llm:
        with pytest.raises(ContextTooLong):
            await collect(llm, ask())


async def test_other_client_errors_are_bad_response_without_retry(sleeps: RecordingSleep) -> None:
    calls: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        error = {"message": f"no model for '{QUESTION}'", "code": "model_not_found"}
        return httpx.Response(404, json={"error": error})

    async with mock_client(handler, sleeps) as llm:
        with pytest.raises(LLMBadResponse, match="HTTP 404, model_not_found") as raised:
            await collect(llm, ask())

    assert QUESTION not in str(raised.value)
    assert len(calls) == 1


async def test_error_reported_inside_the_stream(sleeps: RecordingSleep) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        chunk = {"error": {"message": "maximum context length exceeded", "code": None}}
        sse = f"data: {json.dumps(chunk)}\n\n"
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, text=sse)

    async with mock_client(handler, sleeps) as llm:
        with pytest.raises(ContextTooLong):
            await collect(llm, ask())


# --- secrets --------------------------------------------------------------------------------


async def test_key_and_message_text_never_leak_into_errors_or_logs(
    server: FakeLLMServer, sleeps: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.script(
        *(RateLimited(), ServerError()),
        ContextLengthError(),
        *(Malformed(), Malformed()),
        CutStream("Partial answer", after_chars=4),
        *(Stall(5), Stall(5)),
    )
    errors: list[LLMError] = []
    policy = RetryPolicy(max_attempts=2)
    url = server.base_url
    async with OpenAIChatClient(url, Secret(KEY), timeout=0.2, retry=policy, sleep=sleeps) as llm:
        for _ in range(5):
            with pytest.raises(LLMError) as raised:
                await collect(llm, ask(max_tokens=1))
            errors.append(raised.value)

    async def echo_key(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": {"message": f"bad key {KEY} for {QUESTION}"}})

    async with mock_client(echo_key, sleeps) as llm:
        with pytest.raises(LLMError) as raised:
            await collect(llm, ask())
        errors.append(raised.value)

    assert {type(e) for e in errors} >= {LLMServerError, ContextTooLong, LLMAuthError}
    for error in errors:
        for shown in (str(error), repr(error), str(error.__cause__), str(error.__context__)):
            assert KEY not in shown
            assert QUESTION not in shown
    assert caplog.records
    assert KEY not in caplog.text
    assert QUESTION not in caplog.text


# --- Retry-After ----------------------------------------------------------------------------


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after(email.utils.formatdate(now + 30, usegmt=True), now=now) == 30.0
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
