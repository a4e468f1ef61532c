"""Bursts: which of a user's quick messages are read together, as one question."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from bots.models import IncomingMessage, Role, Turn

# At most this many quick messages are read as one question (a paste split in many parts is
# still bounded).
BURST_LIMIT = 10


def burst_ending(
    turns: Sequence[Turn], message: IncomingMessage, window: timedelta
) -> tuple[int, list[Turn]] | None:
    """Where the burst that ends with `message` starts in `turns`, and its turns, oldest first.

    The burst runs back over the same user's messages with nothing between them, each within
    `window` of the next. An empty burst: the same user wrote again after `message`, and that
    later message answers. None: `message` is not among the turns.
    """
    at = next(
        (
            i
            for i in range(len(turns) - 1, -1, -1)
            if turns[i].role is Role.USER and turns[i].message_id == message.message_id
        ),
        None,
    )
    if at is None:
        return None
    if any(t.role is Role.USER and t.author_id == message.author_id for t in turns[at + 1 :]):
        return at, []
    start = at
    while (
        start > 0
        and at - start + 1 < BURST_LIMIT
        and turns[start - 1].role is Role.USER
        and turns[start - 1].author_id == message.author_id
        and turns[start].created_at - turns[start - 1].created_at <= window
    ):
        start -= 1
    return start, list(turns[start : at + 1])
