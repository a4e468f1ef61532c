"""The desks' webhooks over real HTTP on the ops port: 401 without a signature, 200 with."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client import CollectorRegistry

from bots.desks.zendesk import ZendeskDesk
from bots.models import StaffReply
from bots.ops.health import HealthCheck
from bots.ops.server import serve_ops
from bots.secret import Secret
from bots.store.sqlite import SQLiteStore
from bots.turn.runtime import PersonaRuntime
from tests.fakes import fake_zendesk
from tests.fakes.fake_zendesk import FakeZendesk
from tests.support.desk_rig import WEBHOOK_SECRET, desk_bot


@pytest.fixture
def zendesk() -> Iterator[FakeZendesk]:
    with FakeZendesk() as fake:
        yield fake


async def test_the_ops_port_verifies_and_routes_desk_webhooks(
    store: SQLiteStore,
    cafe_runtime: PersonaRuntime,
    zendesk: FakeZendesk,
    caplog: pytest.LogCaptureFixture,
) -> None:
    desk = ZendeskDesk(zendesk.url, fake_zendesk.EMAIL, Secret(fake_zendesk.TOKEN))
    async with desk_bot(store, cafe_runtime, desk) as bot:
        await bot.say("I want to talk to a human")
        await bot.settle()
        ticket_id = await bot.ticket_id()
        zendesk.reply(ticket_id, zendesk.agent("Ana"), "Hello from the desk")
        routes = {"/desks/zendesk": bot.webhooks.handle}
        loop = asyncio.get_running_loop()
        with serve_ops("127.0.0.1", 0, CollectorRegistry(), HealthCheck({}), loop, routes) as port:
            url = f"http://127.0.0.1:{port}/desks/zendesk"
            async with httpx.AsyncClient() as http:
                headers, body = zendesk.webhook(ticket_id, "forged-secret")
                caplog.set_level(logging.INFO)
                refused = await http.post(url, content=body, headers=headers)
                assert refused.status_code == 401
                assert body.decode() not in caplog.text
                headers, body = zendesk.webhook(ticket_id, WEBHOOK_SECRET)
                accepted = await http.post(url, content=body, headers=headers)
                assert accepted.status_code == 200
                metrics = await http.get(f"http://127.0.0.1:{port}/metrics")
                assert metrics.status_code == 200  # the ops port still serves its own
        await asyncio.gather(*bot.relay.tasks)
        assert [e.text for e in bot.shown if isinstance(e, StaffReply)] == ["Hello from the desk"]
