"""The help desk as `build_app` wires it from the settings: sink, outbox, webhook route."""

from __future__ import annotations

from pathlib import Path

import httpx

from bots.app.wiring import attach_desk, build_app
from bots.config import Settings
from bots.models import EngineEvent, IncomingMessage, ThreadKey
from tests.conftest import DATA
from tests.fakes import fake_zendesk
from tests.fakes.fake_zendesk import FakeZendesk


async def test_bots_desk_gives_tickets_and_a_signed_webhook_route(tmp_path: Path) -> None:
    with FakeZendesk() as zendesk:
        settings = Settings.from_env(
            {
                "DATABASE_URL": f"sqlite:///{tmp_path / 'bots.sqlite3'}",
                "BOTS_PERSONAS_DIR": str(DATA / "personas"),
                "BOTS_KNOWLEDGE_DIR": str(DATA / "knowledge"),
                "BOTS_PERSONA": "cafe",
                "BOTS_SEMANTIC": "off",
                "BOTS_HANDOFF_SEMANTIC": "off",
                "BOTS_METRICS_PORT": "0",
                "BOTS_HOST": "127.0.0.1",
                "BOTS_DESK": "zendesk",
                "ZENDESK_URL": zendesk.url,
                "ZENDESK_EMAIL": fake_zendesk.EMAIL,
                "ZENDESK_API_TOKEN": fake_zendesk.TOKEN,
                "ZENDESK_WEBHOOK_SECRET": "hook",
            },
            data_dir=tmp_path,
        )
        async with build_app(settings, None, bursts=False) as app:
            assert app.desks is not None
            assert app.ops_port is not None
            shown: list[EngineEvent] = []

            async def render(event: EngineEvent, key: ThreadKey) -> None:
                shown.append(event)

            attach_desk(app, render)
            key = ThreadKey("console", "local", "term", "1")
            message = IncomingMessage(key, "me", "I want to talk to a human", "m1")
            async for _ in app.engine.handle(message):
                pass
            await app.engine.aclose()
            await app.desks.outbox.run_due()  # the running outbox may have made it already
            assert len(zendesk.tickets) == 1
            [ticket] = zendesk.tickets.values()
            url = f"http://127.0.0.1:{app.ops_port}/desks/zendesk"
            headers, body = zendesk.webhook(str(ticket.id), "not-the-secret")
            async with httpx.AsyncClient() as http:
                assert (await http.post(url, content=body, headers=headers)).status_code == 401
                headers, body = zendesk.webhook(str(ticket.id), "hook")
                assert (await http.post(url, content=body, headers=headers)).status_code == 200
