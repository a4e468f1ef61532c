"""`/support`: the thread named by its link, its state for anyone, hand-off/claim/resolve for
staff only; acknowledged before any work. Through the real bolt app, against a fake Slack."""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path
from urllib.parse import urlencode

import pytest

from bots.adapters.slack.command import USAGE, Command, parse, thread_from_link
from bots.models import ConversationState, ThreadKey
from bots.store.sqlite import SQLiteStore
from tests.fakes.fake_slack import TEAM_ID
from tests.support.paths import REPO_ROOT
from tests.unit.adapters.slack.test_adapter import (
    CHANNEL,
    STAFF,
    SUPPORT,
    USER,
    Rig,
    copy_slack_persona,
    make_rig,
    mention,
    text_of,
)

TS = "1700000001.000100"
LINK = f"https://fake.slack.com/archives/{CHANNEL}/p1700000001000100"
THREAD = ThreadKey("slack", TEAM_ID, CHANNEL, TS)
REPLY_LINK = (
    f"https://fake.slack.com/archives/{CHANNEL}/p1700000002000100?thread_ts={TS}&cid={CHANNEL}"
)


@pytest.fixture
def slack_persona_dir(tmp_path: Path) -> Path:
    return copy_slack_persona(tmp_path)


@pytest.fixture
async def rig(slack_persona_dir: Path, store: SQLiteStore):  # type: ignore[no-untyped-def]
    async for made in make_rig(slack_persona_dir, store, None):
        yield made


def command(rig: Rig, text: str, user: str = STAFF, response_url: str | None = None) -> str:
    return urlencode(
        {
            "token": "legacy",
            "team_id": TEAM_ID,
            "team_domain": "fake",
            "channel_id": SUPPORT,
            "channel_name": "support",
            "user_id": user,
            "user_name": "someone",
            "command": "/support",
            "text": text,
            "api_app_id": "A0APP",
            "response_url": response_url or rig.slack.response_url(),
            "trigger_id": "1.2.3",
        }
    )


async def run(rig: Rig, text: str, user: str = STAFF) -> str:
    assert await rig.deliver(command(rig, text, user)) == 200
    await rig.settle()
    response = rig.slack.responses[-1]
    assert response["response_type"] == "ephemeral"
    return str(response["text"])


def test_links_name_threads() -> None:
    assert thread_from_link(LINK, TEAM_ID) == THREAD
    assert thread_from_link(f"<{LINK}>", TEAM_ID) == THREAD
    assert thread_from_link(REPLY_LINK, TEAM_ID) == THREAD
    assert thread_from_link("https://example.com/archives/x", TEAM_ID) is None
    assert thread_from_link("not a link", TEAM_ID) is None


def test_commands_parse_and_bad_ones_explain_themselves() -> None:
    assert parse(LINK, TEAM_ID) == Command("status", THREAD)
    assert parse(f"handoff {LINK} angry customer", TEAM_ID) == Command(
        "handoff", THREAD, "angry customer"
    )
    assert parse(f"RESOLVE {LINK}", TEAM_ID) == Command("resolve", THREAD)
    assert parse("", TEAM_ID) == USAGE
    assert str(parse("resolve", TEAM_ID)).startswith("Which thread?")
    assert "not a link to a Slack message: `nonsense`" in str(parse("nonsense", TEAM_ID))


async def test_status_shows_the_threads_state(rig: Rig) -> None:
    assert await run(rig, LINK, user=USER) == (
        "The assistant has not been asked anything in that thread."
    )
    await rig.deliver(mention(TS, "is there wifi?"))
    await rig.settle()
    assert await run(rig, LINK, user=USER) == "The assistant is answering in that thread."
    assert rig.slack.posts(SUPPORT) == []


async def test_staff_hand_off_and_resolve_by_command(rig: Rig) -> None:
    await rig.deliver(mention(TS, "is there wifi?"))
    await rig.settle()
    answer = await run(rig, f"handoff {LINK} needs a refund")
    assert answer.startswith("Handed to the team")
    told = rig.shown(TS)[-1]
    assert "A person from our team will take it from here." in told["text"]
    (support,) = rig.slack.posts(SUPPORT)
    assert "needs a refund" in text_of(support)
    assert await run(rig, LINK, user=USER) == "That thread is waiting for someone from the team."

    assert (await run(rig, f"resolve {LINK}")).startswith("Handed back to the assistant")
    assert "You're back with the assistant" in rig.shown(TS)[-1]["text"]
    (update,) = rig.slack.made("chat.update")
    assert update["ts"] == support["posted_ts"]
    assert f"Resolved by <@{STAFF}>" in text_of(update)
    conversation = await rig.store.get_conversation(THREAD)
    assert conversation is not None
    assert conversation.state is ConversationState.RESOLVED
    assert (await run(rig, f"resolve {LINK}")).startswith("Nothing to do.")


async def test_non_staff_are_refused_politely(rig: Rig) -> None:
    await rig.deliver(mention(TS, "is there wifi?"))
    await rig.settle()
    for action in ("handoff", "claim", "resolve"):
        answer = await run(rig, f"{action} {LINK}", user=USER)
        assert answer.startswith("Sorry, only the support team")
    assert rig.slack.posts(SUPPORT) == []
    assert len(rig.shown(TS)) == 1
    conversation = await rig.store.get_conversation(THREAD)
    assert conversation is not None
    assert conversation.state is ConversationState.BOT


async def test_the_command_is_acknowledged_before_any_work(
    slack_persona_dir: Path, store: SQLiteStore
) -> None:
    gate = asyncio.Event()

    async def slow_staff_check(user: str) -> bool:
        await gate.wait()  # a directory lookup that takes its time
        return True

    async for rig in make_rig(slack_persona_dir, store, None, is_staff=slow_staff_check):
        # The request returns 200 (the ack) while the work is still waiting.
        assert await rig.deliver(command(rig, f"handoff {LINK}")) == 200
        assert rig.slack.responses == []
        assert rig.slack.posts() == []
        gate.set()
        await rig.settle()
        assert rig.slack.responses[-1]["text"].startswith("Handed to the team")


def closed_port() -> int:
    """A port nothing listens on (bound, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("where", ["expired", "unreachable"])
async def test_a_reply_that_cannot_reach_its_response_url_is_one_plain_warning(
    rig: Rig, caplog: pytest.LogCaptureFixture, where: str
) -> None:
    """docs/slack.md: no Slack error becomes a traceback. An expired response_url (Slack's
    404) and one nobody answers at are each one WARNING line; the next command works."""
    url = (
        rig.slack.response_url("expired-1")
        if where == "expired"
        else f"http://127.0.0.1:{closed_port()}/respond/1"
    )
    caplog.set_level(logging.INFO)
    assert await rig.deliver(command(rig, LINK, response_url=url)) == 200
    await rig.settle()
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [(r.levelname, r.exc_info) for r in loud] == [("WARNING", None)], loud
    assert "response_url" in loud[0].getMessage()
    assert (await run(rig, LINK)).startswith("The assistant has not been asked")


def test_the_manifest_registers_the_command_on_the_events_path() -> None:
    import yaml

    manifest = yaml.safe_load((REPO_ROOT / "slack-manifest.yaml").read_text())
    (support,) = manifest["features"]["slash_commands"]
    assert support["command"] == "/support"
    assert support["url"].endswith("/slack/events")
    settings = manifest["settings"]
    assert settings["interactivity"]["request_url"].endswith("/slack/events")
    assert settings["event_subscriptions"]["request_url"].endswith("/slack/events")
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    # commands for /support; the history scopes also find hand-off messages after a restart.
    assert {"commands", "chat:write", "channels:history", "groups:history"} <= scopes


async def test_the_command_comes_over_http_on_the_events_path(rig: Rig) -> None:
    import aiohttp

    from tests.unit.adapters.slack.test_adapter import SECRET, signed_headers

    raw = command(rig, f"handoff {LINK} over http")
    async with rig.bot.serve_http("127.0.0.1", 0) as port, aiohttp.ClientSession() as http:
        url = f"http://127.0.0.1:{port}/slack/events"
        async with http.post(url, data=raw, headers=signed_headers(raw, SECRET)) as response:
            assert response.status == 200
        async with http.post(url, data=raw, headers=signed_headers(raw, "wrong")) as response:
            assert response.status == 401
        await rig.slack.wait_until(lambda: bool(rig.slack.responses))
        await rig.settle()
    assert rig.slack.responses[-1]["text"].startswith("Handed to the team")
    assert len(rig.slack.posts(SUPPORT)) == 1


async def test_the_command_comes_over_socket_mode(rig: Rig) -> None:
    from urllib.parse import parse_qsl

    connected = asyncio.Event()
    serving = asyncio.create_task(rig.bot.run_socket_mode("xapp-test", ready=connected.set))
    try:
        await asyncio.wait_for(connected.wait(), 10)
        payload = dict(parse_qsl(command(rig, LINK, user=USER)))
        envelope = {
            "envelope_id": "cmd-1",
            "type": "slash_commands",
            "accepts_response_payload": True,
            "payload": payload,
        }
        await rig.slack.send_envelope(envelope)
        await rig.slack.wait_until(lambda: {"envelope_id": "cmd-1"} in rig.slack.acks)
        await rig.slack.wait_until(lambda: bool(rig.slack.responses))
        await rig.settle()
        assert rig.slack.responses[-1]["text"] == (
            "The assistant has not been asked anything in that thread."
        )
    finally:
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)
