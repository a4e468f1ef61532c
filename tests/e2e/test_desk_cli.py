"""`bots run slack --http` with BOTS_DESK=zendesk: the ticket is requested by the Slack user."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_slack_cli import SECRET, environment, listening, mention_body, start
from tests.fakes import fake_zendesk
from tests.fakes.fake_slack import FakeSlack
from tests.fakes.fake_zendesk import FakeZendesk
from tests.unit.adapters.slack.test_adapter import signed_headers


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.close()


async def test_the_ticket_is_requested_by_the_slack_user_with_their_shared_email(
    tmp_path: Path, slack: FakeSlack
) -> None:
    slack.add_user("U1", display_name="Alice", real_name="Alice Liddell", email="a@example.com")
    slack.email_scope = True
    with FakeZendesk() as zendesk:
        env = environment(
            tmp_path,
            slack,
            BOTS_DESK="zendesk",
            ZENDESK_URL=zendesk.url,
            ZENDESK_EMAIL=fake_zendesk.EMAIL,
            ZENDESK_API_TOKEN=fake_zendesk.TOKEN,
            SLACK_SHARE_EMAIL_WITH_DESK="true",
            BOTS_HANDOFF_SEMANTIC="off",
        )
        process = await start(env, "--http", "--port", "0")
        try:
            url = await listening(process)
            body = mention_body("1700000000.000100", "can I talk to a real person?")
            async with httpx.AsyncClient() as client:
                answer = await client.post(url, content=body, headers=signed_headers(body, SECRET))
            assert answer.status_code == 200
            for _ in range(150):  # up to 30 s: the ticket is made in the background
                if zendesk.tickets:
                    break
                await asyncio.sleep(0.2)
        finally:
            process.terminate()
            await process.wait()
        (ticket,) = zendesk.tickets.values()
        requester = zendesk.users[ticket.requester_id]
        assert (requester["name"], requester["email"]) == ("Alice", "a@example.com")
