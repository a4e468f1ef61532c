"""The 👀 reaction on a question whose answer is slow to show, and only then.

A reaction costs two Web API calls (`reactions.add`, `reactions.remove`) for every answer,
twice the cost of a short answer itself (one `chat.postMessage`). It tells the person the
bot is working, which only matters while nothing else shows: so it is added only when the
answer has not started showing `after` seconds into the turn, and removed only when it
was added. A quick answer makes no reaction calls at all (issue 22).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

WORKING_REACTION = "eyes"

Call = Callable[..., Awaitable[dict[str, Any] | None]]


class WorkingSign:
    """Started with the turn; `end` when the turn is over (removes the reaction if shown)."""

    def __init__(
        self,
        call: Call,
        *,
        channel: str,
        timestamp: str,
        after: float,
        showing: Callable[[], bool],
    ) -> None:
        """`call` makes one Web API call; `showing` says whether the answer shows already."""
        self._call = call
        self._where = {"channel": channel, "timestamp": timestamp, "name": WORKING_REACTION}
        self._after = after
        self._showing = showing
        self._task: asyncio.Task[None] | None = None
        self._adding = False
        self._added = False

    def start(self) -> None:
        # A task even when `after` is 0: the answer's first words never wait for the reaction.
        self._task = asyncio.create_task(self._add_later())

    async def _add_later(self) -> None:
        if self._after > 0:
            await asyncio.sleep(self._after)
        if self._showing():
            return  # the answer itself shows the bot is working
        self._adding = True
        self._added = await self._call("reactions_add", **self._where) is not None

    async def end(self) -> None:
        task = self._task
        if task is None:
            return
        if not self._adding:
            task.cancel()
        # `wait` rather than `await`: a cancelled task must not cancel the turn's cleanup.
        await asyncio.wait([task])
        if not task.cancelled() and task.exception() is not None:
            return  # `call` logs its own failures; nothing was added
        if self._added:
            await self._call("reactions_remove", **self._where)
