"""The desk's side back into the chat: agents' replies into the thread, solved -> resolved.

A webhook only says which ticket changed; the relay then reads the ticket from the desk's API
(`DeskClient.ticket_state`) and applies what is new. So a redelivered webhook, a webhook and
a poll of the same change, or two processes doing it at once apply it once: each reply is
recorded under its own event id (the store's processed events, as for chat messages), and
"solved" moves the ticket's status once (a conditional UPDATE). Polling (`poll`) is the same
sync run over the open tickets, for desks whose webhooks cannot reach the bot.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Protocol

from bots.desks.protocol import DeskClient, DeskRefused, DeskUnavailable
from bots.models import EngineEvent, HandoffClaimed, HandoffResolved, StaffReply, ThreadKey
from bots.store import Store

log = logging.getLogger(__name__)

POLL_BATCH = 50
"""At most this many open tickets are read per poll (two API calls each)."""


class DeskEngine(Protocol):
    """What the relay asks of the engine (bots/turn/engine.py `Engine`)."""

    async def desk_reply(
        self, key: ThreadKey, event_id: str, author: str, text: str, desk: str
    ) -> list[EngineEvent]: ...

    async def resolve(self, key: ThreadKey, staff_id: str | None) -> EngineEvent: ...


Show = Callable[[EngineEvent], Awaitable[None]]
"""The platform adapter's way to show an engine event in its thread."""


class DeskRelay:
    """Applies what agents did in the desks to the chat threads."""

    def __init__(
        self,
        store: Store,
        engine: DeskEngine,
        desks: Mapping[str, DeskClient],
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._engine = engine
        self._desks = dict(desks)
        self._clock = clock
        self._show: Show | None = None
        # One sync per ticket at a time in this process; a lock goes once nobody holds it.
        self._locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self.tasks: set[asyncio.Task[int]] = set()

    def attach(self, show: Show) -> None:
        """Called once the platform bot exists: events go to it from then on."""
        self._show = show

    def nudge(self, desk: str, ticket_id: str) -> None:
        """A webhook said the ticket changed: sync it in the background (answer the desk now)."""
        task = asyncio.create_task(self._sync_logged(desk, ticket_id))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def sync(self, desk_name: str, ticket_id: str) -> int:
        """Apply what is new on the ticket; how many events went to the thread."""
        desk = self._desks.get(desk_name)
        if desk is None:
            return 0
        lock = self._locks.get((desk_name, ticket_id))
        if lock is None:
            lock = self._locks[(desk_name, ticket_id)] = asyncio.Lock()
        async with lock:
            return await self._sync(desk, ticket_id)

    async def poll(self) -> int:
        """Sync the open tickets (the fallback for webhooks that cannot reach the bot)."""
        shown = 0
        for ticket in (await self._store.open_desk_tickets())[:POLL_BATCH]:
            shown += await self._sync_logged(ticket.desk, ticket.ticket_id) or 0
        return shown

    async def _sync_logged(self, desk: str, ticket_id: str) -> int:
        try:
            return await self.sync(desk, ticket_id)
        except (DeskUnavailable, DeskRefused) as exc:
            log.warning("could not read a %s ticket (%s); the next poll tries again", desk, exc)
        except Exception:
            log.exception("syncing a %s ticket failed", desk)
        return 0

    async def _sync(self, desk: DeskClient, ticket_id: str) -> int:
        ticket = await self._store.desk_ticket(desk.name, ticket_id)
        if ticket is None or ticket.status != "open":
            return 0  # not ours, or done with
        conversation = await self._store.get_conversation_by_id(ticket.conversation_id)
        if conversation is None:
            return 0
        state = await desk.ticket_state(ticket_id)
        shown = 0
        for reply in state.replies:
            number = int(reply.reply_id) if reply.reply_id.isdigit() else None
            if number is not None and ticket.last_reply is not None and number <= ticket.last_reply:
                continue  # posted before (its event id may be gone with retention)
            event_id = f"desk:{desk.name}:{ticket_id}:{reply.reply_id}"
            for event in await self._engine.desk_reply(
                conversation.key, event_id, reply.author_name, reply.text, desk.name
            ):
                if isinstance(event, StaffReply | HandoffClaimed):
                    shown += await self._shown(event)
            if number is not None:
                await self._store.mark_desk_replied(desk.name, ticket_id, number)
        if state.solved and await self._store.set_desk_ticket_status(
            desk.name, ticket_id, "solved", self._clock()
        ):
            who = f"{state.solved_by or 'an agent'} ({desk.label})"
            event = await self._engine.resolve(conversation.key, who)
            if isinstance(event, HandoffResolved):
                shown += await self._shown(event)
        return shown

    async def _shown(self, event: EngineEvent) -> int:
        if self._show is None:
            log.warning("a desk event arrived before the platform bot was ready; not shown")
            return 0
        await self._show(event)
        return 1
