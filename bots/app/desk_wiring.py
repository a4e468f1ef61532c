"""Building the help-desk connection (bots/desks) from the settings, and running its work.

`desk_run` gives None unless BOTS_DESK names a desk. Otherwise: the desk's API client, the
outbox (running from the start: hand-offs made in `bots chat` are ticketed too), the
connector the engine sends hand-offs to, and, once the engine exists, the relay that brings
agents' replies back, the webhook routes for the ops port and the poller.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from bots.config import Settings
from bots.desks.chatwoot import ChatwootDesk
from bots.desks.connector import DeskConnector, SourcesOf
from bots.desks.outbox import DeskOutbox
from bots.desks.protocol import DeskClient
from bots.desks.receiver import DeskWebhooks
from bots.desks.relay import DeskEngine, DeskRelay, Show
from bots.desks.zendesk import ZendeskDesk
from bots.ops.periodic import repeat
from bots.store import Store
from bots.turn.runtime import PersonaRuntime

if TYPE_CHECKING:
    from bots.ops.server import Route  # prometheus_client only with the ops port

log = logging.getLogger(__name__)


def desk_client(settings: Settings) -> DeskClient | None:
    desks = settings.desks
    if desks.token is None:
        return None
    if desks.desk == "zendesk":
        return ZendeskDesk(desks.url, desks.email, desks.token)
    return ChatwootDesk(desks.url, desks.account_id, desks.inbox_id, desks.token)


@dataclass
class DeskRun:
    """One desk's parts while the bot runs; `start` and `attach` add what needs the engine
    and the platform bot."""

    settings: Settings
    client: DeskClient
    store: Store
    outbox: DeskOutbox
    connector: DeskConnector
    clock: Callable[[], datetime]
    relay: DeskRelay | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self, engine: DeskEngine) -> None:
        """The engine exists: make the relay, and start the outbox."""
        self.relay = DeskRelay(self.store, engine, {self.client.name: self.client}, self.clock)
        self.tasks.append(asyncio.create_task(self.outbox.run_forever()))

    def routes(self) -> dict[str, Route]:
        """The desk's webhook path for the ops port (none without a webhook secret)."""
        secret = self.settings.desks.webhook_secret
        if self.relay is None or secret is None:
            return {}
        webhooks = DeskWebhooks(self.relay, {self.client.name: secret})
        return {path: webhooks.handle for path in webhooks.paths}

    def attach(self, show: Show, *, webhooks_served: bool) -> None:
        """The platform bot exists: agents' replies go to it, and polling starts if set."""
        if self.relay is None:
            return
        self.relay.attach(show)
        seconds = self.settings.desks.poll_seconds
        if not webhooks_served and not seconds:
            log.warning(
                "%s webhooks need the ops port (BOTS_METRICS_PORT); polling every 120 s instead",
                self.client.label,
            )
            seconds = 120
        if seconds:
            relay = self.relay
            self.tasks.append(
                asyncio.create_task(repeat(relay.poll, seconds, f"polling {self.client.label}"))
            )

    async def aclose(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.relay is not None and self.relay.tasks:
            await asyncio.gather(*self.relay.tasks, return_exceptions=True)
        await self.client.aclose()


def knowledge_sources(personas: Mapping[str, PersonaRuntime]) -> SourcesOf:
    """The ticket's "Sources:" lines: each cited entry as its question and link."""

    def sources_of(persona: str, ids: Sequence[str]) -> tuple[str, ...]:
        runtime = personas.get(persona)
        entries = {e.id: e for e in runtime.retriever.entries} if runtime is not None else {}
        shown = []
        for entry_id in ids:
            entry = entries.get(entry_id)
            if entry is None:
                shown.append(entry_id)
            else:
                shown.append(f"{entry.question} ({entry.url})" if entry.url else entry.question)
        return tuple(shown)

    return sources_of


def desk_run(
    settings: Settings,
    store: Store,
    personas: Mapping[str, PersonaRuntime],
    clock: Callable[[], datetime],
) -> DeskRun | None:
    client = desk_client(settings)
    if client is None:
        return None
    outbox = DeskOutbox(store, {client.name: client}, clock)
    connector = DeskConnector(
        client,
        store,
        outbox,
        sources_of=knowledge_sources(personas),
        priorities=settings.desks.priorities,
    )
    return DeskRun(settings, client, store, outbox, connector, clock)
