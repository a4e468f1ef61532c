"""Socket Mode: the real slack_sdk socket-mode client, run by `SlackBot.run_socket_mode`,
connects to a local websocket standing in for Slack; envelopes are acknowledged by id and a
redelivered one (`retry_attempt` > 0) gets no second reply."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bots.errors import ConfigError
from bots.store.sqlite import SQLiteStore
from tests.unit.adapters.slack.test_adapter import (
    Rig,
    copy_slack_persona,
    make_rig,
    mention,
    text_of,
)

TS = "1700000001.000100"


@pytest.fixture
def slack_persona_dir(tmp_path: Path) -> Path:
    return copy_slack_persona(tmp_path)


def envelope(envelope_id: str, payload: dict[str, Any], retry: int = 0) -> dict[str, Any]:
    return {
        "envelope_id": envelope_id,
        "type": "events_api",
        "accepts_response_payload": False,
        "retry_attempt": retry,
        "retry_reason": "timeout" if retry else "",
        "payload": payload,
    }


async def acked(rig: Rig, envelope_id: str) -> None:
    await rig.slack.wait_until(
        lambda: any(a.get("envelope_id") == envelope_id for a in rig.slack.acks)
    )


async def test_socket_mode_acknowledges_and_answers_once(
    slack_persona_dir: Path, store: SQLiteStore
) -> None:
    async for rig in make_rig(slack_persona_dir, store, None):
        connected = asyncio.Event()
        serving = asyncio.create_task(rig.bot.run_socket_mode("xapp-test", ready=connected.set))
        try:
            await asyncio.wait_for(connected.wait(), 10)
            assert rig.slack.made("apps.connections.open")
            body = mention(TS, "is there wifi?")
            await rig.slack.send_envelope(envelope("env-1", body))
            await acked(rig, "env-1")
            await rig.slack.wait_for("chat.postMessage")
            # Slack did not see the ack in time and sends the same event again.
            await rig.slack.send_envelope(envelope("env-2", body, retry=1))
            await acked(rig, "env-2")
            await rig.settle()
            (reply,) = rig.shown(TS)
            assert "free Wi-Fi" in text_of(reply)
            assert len(rig.slack.posts()) == 1
        finally:
            serving.cancel()
            await asyncio.gather(serving, return_exceptions=True)


async def test_a_refused_app_token_is_a_plain_error(
    slack_persona_dir: Path, store: SQLiteStore
) -> None:
    async for rig in make_rig(slack_persona_dir, store, None):
        rig.slack.fail("apps.connections.open", "invalid_auth")
        with pytest.raises(ConfigError, match=r"Slack refused SLACK_APP_TOKEN \(invalid_auth\)"):
            await rig.bot.run_socket_mode("xapp-wrong")
