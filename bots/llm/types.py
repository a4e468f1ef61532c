"""Value objects of a chat-model call: the request, the streamed events, the ChatModel protocol."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Protocol

from bots.models import Usage


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: str
    content: str
    images: tuple[str, ...] = ()
    """Image URLs (`data:` URLs) sent with the text as image content parts."""


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A function the model may call; `parameters` is its JSON schema."""

    name: str
    description: str
    parameters: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class ChatRequest:
    model: str
    messages: tuple[ChatMessage, ...]
    temperature: float = 0.3
    max_tokens: int = 600
    top_p: float = 1.0
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    stop: tuple[str, ...] = ()
    tools: tuple[ToolSpec, ...] = ()
    stream: bool = True


@dataclass(frozen=True, slots=True)
class ContentDelta:
    """A piece of reply text, in arrival order."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A function call by the model; `arguments` is the raw JSON text the model produced."""

    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class Completed:
    """Always the last event of a successful call. `usage` is zeros when the server sent none."""

    text: str
    tool_calls: tuple[ToolCall, ...]
    usage: Usage
    finish_reason: str | None


LLMEvent = ContentDelta | ToolCall | Completed


class ChatModel(Protocol):
    """What the engine needs from a language model; tests pass their own implementations."""

    def stream(self, request: ChatRequest) -> AsyncIterator[LLMEvent]: ...
