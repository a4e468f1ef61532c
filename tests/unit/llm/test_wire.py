"""The chat-completions wire format on its own: bodies out, JSON and SSE in, error bodies."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from httpx_sse import EventSource

from bots.errors import (
    ContextTooLong,
    LLMAuthError,
    LLMBadResponse,
    LLMRateLimited,
    LLMServerError,
    LLMStreamCut,
)
from bots.llm.types import (
    ChatMessage,
    ChatRequest,
    Completed,
    ContentDelta,
    LLMEvent,
    ToolCall,
    ToolSpec,
)
from bots.llm.wire import (
    Garbled,
    completion_events,
    parse_retry_after,
    request_body,
    sse_events,
    status_error,
)
from bots.models import Usage
from bots.secret import Secret

KEY = Secret("sk-test-wire-0123456789")
TOOL = ToolSpec("handoff_to_human", "Get a person.", {"type": "object", "properties": {}})


def chat(**fields: Any) -> ChatRequest:
    return ChatRequest("gpt-4o-mini", (ChatMessage("user", "hours?"),), **fields)


# --- the request body -------------------------------------------------------------------------


def test_a_streamed_request_asks_for_usage_and_leaves_out_empty_stop_and_tools() -> None:
    body = request_body(chat(temperature=0.1, max_tokens=50))
    assert body == {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "hours?"}],
        "temperature": 0.1,
        "max_tokens": 50,
        "top_p": 1.0,
        "presence_penalty": 0.0,
        "frequency_penalty": 0.0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    json.dumps(body)  # it must be plain JSON


def test_stop_words_and_tools_go_out_in_openai_form() -> None:
    body = request_body(chat(stop=("\n\n",), tools=(TOOL,), stream=False))
    assert body["stop"] == ["\n\n"]
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "handoff_to_human",
                "description": "Get a person.",
                "parameters": {"type": "object", "properties": {}},
            },
        }
    ]
    assert "stream_options" not in body


# --- error statuses ---------------------------------------------------------------------------


def response(status: int, body: str = "", **headers: str) -> httpx.Response:
    return httpx.Response(status, text=body, headers=headers)


def test_a_refused_key_is_an_auth_error_that_never_quotes_the_body() -> None:
    error = status_error(response(401, f'{{"error": "bad key {KEY.reveal()}"}}'), KEY)
    assert isinstance(error, LLMAuthError)
    assert KEY.reveal() not in str(error)
    assert "401" in str(error)


def test_rate_limits_and_server_errors_carry_retry_after() -> None:
    limited = status_error(response(429, "slow down", **{"retry-after": "7"}), KEY)
    assert isinstance(limited, LLMRateLimited)
    assert limited.retry_after == 7.0
    down = status_error(response(503), KEY)
    assert isinstance(down, LLMServerError)
    assert down.retry_after is None


@pytest.mark.parametrize(
    "body",
    [
        '{"error": {"code": "context_length_exceeded", "message": "no"}}',
        '{"error": {"message": "This model\'s maximum context length is 8192 tokens"}}',
        "the request exceeds the available context size",  # llama.cpp, plain text
        '{"error": "input is too long for requested model"}',  # a bare string error
    ],
)
def test_servers_wording_of_a_too_long_prompt_is_context_too_long(body: str) -> None:
    assert isinstance(status_error(response(400, body), KEY), ContextTooLong)


def test_a_refused_request_names_an_identifier_code_but_never_free_text() -> None:
    coded = status_error(response(400, '{"error": {"code": "invalid_model", "message": "x"}}'), KEY)
    assert type(coded) is LLMBadResponse
    assert str(coded) == "LLM API rejected the request (HTTP 400, invalid_model)"
    quoted = '{"error": {"type": "the user asked: my card 4111 is lost", "message": "no"}}'
    assert (
        str(status_error(response(422, quoted), KEY)) == "LLM API rejected the request (HTTP 422)"
    )


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC).timestamp()
    later = format_datetime(datetime(2026, 12, 2, 12, 0, 30, tzinfo=UTC), usegmt=True)
    assert parse_retry_after("2.5") == 2.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after(later, now=now) == 30.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


# --- a whole JSON completion ------------------------------------------------------------------


def test_a_json_completion_gives_its_text_tool_calls_and_usage() -> None:
    raw = {
        "choices": [
            {
                "message": {
                    "content": "We open at 9.",
                    # Some servers send the arguments as an object, not JSON text.
                    "tool_calls": [
                        {"function": {"name": "handoff_to_human", "arguments": {"reason": "x"}}}
                    ],
                },
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 5},
    }
    call = ToolCall("handoff_to_human", '{"reason": "x"}')
    assert completion_events(raw) == [
        ContentDelta("We open at 9."),
        call,
        Completed("We open at 9.", (call,), Usage(12, 5), "stop"),
    ]


def test_usage_that_is_not_a_positive_count_is_zero() -> None:
    raw = {
        "choices": [{"message": {"content": ""}}],
        "usage": {"prompt_tokens": True, "completion_tokens": -4},
    }
    assert completion_events(raw) == [Completed("", (), Usage(0, 0), None)]


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ([], Garbled),
        ({"choices": []}, Garbled),
        ({"choices": "no"}, Garbled),
        ({"choices": [{"message": {"content": 3}}]}, Garbled),
        ({"choices": [{"message": {"tool_calls": [{"function": {}}]}}]}, Garbled),
        ({"error": {"message": "prompt is too long"}}, ContextTooLong),
        ({"error": {"message": "overloaded"}}, LLMServerError),
    ],
)
def test_a_body_that_is_no_completion_is_a_clear_error(raw: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        completion_events(raw)


# --- a streamed completion --------------------------------------------------------------------


def stream_of(*chunks: object, done: bool = True) -> EventSource:
    lines = [f"data: {json.dumps(chunk)}\n\n" for chunk in chunks]
    if done:
        lines.append("data: [DONE]\n\n")
    body = ": keep-alive comment\n\n" + "".join(lines)
    return EventSource(
        httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body.encode())
    )


async def events(source: EventSource) -> list[LLMEvent]:
    return [event async for event in sse_events(source)]


def delta(**fields: object) -> dict[str, object]:
    return {"choices": [{"delta": fields}]}


async def test_text_arrives_piece_by_piece_then_completed_with_usage() -> None:
    got = await events(
        stream_of(
            delta(role="assistant"),
            delta(content="We open "),
            delta(content="at 9."),
            {"choices": [{"delta": {}, "finish_reason": "stop"}]},
            {"choices": [], "usage": {"prompt_tokens": 20, "completion_tokens": 4}},
        )
    )
    assert got == [
        ContentDelta("We open "),
        ContentDelta("at 9."),
        Completed("We open at 9.", (), Usage(20, 4), "stop"),
    ]


async def test_tool_call_fragments_are_put_back_together_with_or_without_index() -> None:
    indexed = [
        delta(tool_calls=[{"index": 0, "id": "a", "function": {"name": "handoff_to_human"}}]),
        delta(tool_calls=[{"index": 0, "function": {"arguments": '{"rea'}}]),
        delta(tool_calls=[{"index": 0, "function": {"arguments": 'son": "angry"}'}}]),
    ]
    # Some servers leave `index` out: each `id` starts a new call.
    unindexed = [
        delta(tool_calls=[{"id": "a", "function": {"name": "handoff_to_human"}}]),
        delta(tool_calls=[{"function": {"arguments": '{"reason": "angry"}'}}]),
    ]
    call = ToolCall("handoff_to_human", '{"reason": "angry"}')
    for chunks in (indexed, unindexed):
        got = await events(stream_of(*chunks))
        assert got == [call, Completed("", (call,), Usage(), None)]


async def test_a_stream_that_stops_before_it_finished_keeps_the_partial_text() -> None:
    with pytest.raises(LLMStreamCut) as cut:
        await events(stream_of(delta(content="We open"), done=False))
    assert cut.value.partial == "We open"


async def test_a_finish_reason_without_done_still_completes() -> None:
    finished = {"choices": [{"delta": {"content": "Hi"}, "finish_reason": "length"}]}
    got = await events(stream_of(finished, done=False))
    assert got[-1] == Completed("Hi", (), Usage(), "length")


async def test_an_error_in_the_middle_of_a_stream_is_raised() -> None:
    with pytest.raises(ContextTooLong):
        await events(stream_of(delta(content="a"), {"error": {"code": "context_length_exceeded"}}))
    with pytest.raises(Garbled):
        await events(stream_of(["not", "a", "chunk"]))
