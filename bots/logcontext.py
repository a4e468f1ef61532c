"""Which conversation the current code works for, so every log line of a turn can say so."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_conversation: ContextVar[str | None] = ContextVar("bots_conversation", default=None)


@contextmanager
def conversation_scope(conversation_id: str) -> Iterator[None]:
    """Log lines written inside (and in tasks started inside) carry `conversation_id`.

    Restores the previous value rather than resetting a token: the engine's turn is an async
    generator that its caller may close from another context, where a token reset fails.
    """
    previous = _conversation.get()
    _conversation.set(conversation_id)
    try:
        yield
    finally:
        _conversation.set(previous)


def current_conversation() -> str | None:
    return _conversation.get()


class ConversationFilter(logging.Filter):
    """Adds `conversation_id` to every record (None outside a turn); filters nothing out."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.conversation_id = _conversation.get()
        return True
