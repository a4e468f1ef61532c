"""What happens to a handed-off thread after the hand-off: claimed, messages, resolved.

Each is a `HandoffUpdate`, sent in the background to every sink that takes updates (the
signed webhook's `handoff.claimed`, `handoff.message`, `handoff.resolved`; a help desk's
comments), so a slow receiver never holds up the chat.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from bots.models import Conversation

log = logging.getLogger(__name__)

CLAIMED, MESSAGE, RESOLVED = "handoff.claimed", "handoff.message", "handoff.resolved"


@dataclass(frozen=True, slots=True)
class HandoffUpdate:
    """One step of a hand-off after it was requested."""

    type: str
    """`handoff.claimed`, `handoff.message` or `handoff.resolved`."""
    conversation: Conversation
    at: datetime
    by: str = ""
    """Who: the staff member's platform id, or an agent's name and desk ("Ana (Zendesk)")."""
    sender: str = ""
    """For a message: "user" or "staff"."""
    text: str = ""
    origin: str = "chat"
    """Where it happened: "chat", or the desk's name ("zendesk") for what an agent did there."""


@runtime_checkable
class UpdateSink(Protocol):
    """A hand-off sink that also hears what happens after the hand-off."""

    async def update(self, update: HandoffUpdate) -> None: ...


class Updates:
    """Sends updates to the sinks that take them, each in a background task."""

    def __init__(self, sinks: Iterable[object]) -> None:
        self._sinks = [sink for sink in sinks if isinstance(sink, UpdateSink)]
        self.tasks: set[asyncio.Task[None]] = set()

    def send(self, update: HandoffUpdate) -> None:
        for sink in self._sinks:
            task = asyncio.create_task(_safely(sink, update))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)


async def _safely(sink: UpdateSink, update: HandoffUpdate) -> None:
    try:
        await sink.update(update)
    except Exception:
        log.exception("a hand-off update (%s) could not be sent", update.type)
