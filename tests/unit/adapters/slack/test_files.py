"""Slack file shares end to end: bolt's real event path, authenticated downloads from the fake
Slack, and the image parts the fake model server receives."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bots.adapters.slack.adapter import SlackBot
from bots.adapters.slack.files import SlackFiles
from bots.adapters.slack.stream import StreamTiming
from bots.knowledge.files import load_knowledge
from bots.knowledge.persona import load_persona
from bots.llm.client import OpenAIChatClient
from bots.store.sqlite import SQLiteStore
from bots.turn.attachments import AttachmentLimits
from bots.turn.downloads import Downloads, FileHosts
from bots.turn.engine import Engine
from bots.turn.runtime import PersonaRuntime
from tests.conftest import RecordingSleep
from tests.fakes.fake_llm import FakeLLMServer, Reply, image_urls, message_text
from tests.fakes.fake_slack import FakeSlack
from tests.unit.adapters.slack.test_adapter import (
    CHANNEL,
    SECRET,
    USER,
    FakeClock,
    Rig,
    copy_slack_persona,
    event_body,
)

TOKEN = "xoxb-test-files"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 64


def file_share(ts: str, text: str, files: list[dict[str, Any]]) -> dict[str, Any]:
    """A `message` event of subtype `file_share`, as Slack sends a message with files."""
    event = {
        "type": "message",
        "subtype": "file_share",
        "user": USER,
        "text": text,
        "ts": ts,
        "channel": CHANNEL,
        "channel_type": "im",
        "team": "T0TEAM",
        "upload": False,
        "display_as_bot": False,
        "files": files,
    }
    return event_body(event)


@pytest.fixture
async def rig(
    tmp_path: Path, store: SQLiteStore, llm_client: OpenAIChatClient
) -> AsyncIterator[Rig]:
    copy_slack_persona(tmp_path)
    persona_file = tmp_path / "personas" / "cafe.yaml"
    document = yaml.safe_load(persona_file.read_text(encoding="utf-8"))
    document["model"]["vision"] = True
    persona_file.write_text(yaml.safe_dump(document), encoding="utf-8")
    persona = load_persona(persona_file)
    entries = load_knowledge(tmp_path / "knowledge", persona.knowledge.sets)
    personas = {"cafe": PersonaRuntime.build(persona, entries, None)}
    engine = Engine(store=store, personas=personas, default_persona="cafe", llm=llm_client)
    slack = FakeSlack()
    await slack.start()
    slack.file_token = TOKEN
    downloads = Downloads(AttachmentLimits(max_text_bytes=1_000))
    # The fake Slack is on 127.0.0.1 over http; the real list is Slack's hosts over https.
    hosts = FileHosts(("127.0.0.1",), plain_http=True)
    bot = SlackBot(
        engine,
        personas,
        bot_token=TOKEN,
        signing_secret=SECRET,
        default_persona="cafe",
        api_url=slack.base_url,
        sleep=RecordingSleep(),
        stream_timing=StreamTiming(interval=1.0, clock=FakeClock()),
        files=SlackFiles(downloads, TOKEN, hosts),
    )
    try:
        yield Rig(slack, bot, store)
    finally:
        await bot.wait_idle()
        await bot.aclose()
        await downloads.aclose()
        await slack.close()


async def test_a_shared_screenshot_reaches_the_model_as_an_image_part(
    rig: Rig, llm_server: FakeLLMServer
) -> None:
    llm_server.script(Reply(text="That screen says your card was declined."))
    shared = rig.slack.add_file("error.png", PNG, "image/png")
    assert await rig.deliver(file_share("300.1", "what does this mean?", [shared])) == 200
    await rig.settle()
    assert rig.slack.downloads == [(f"/files-pri/{shared['id']}/error.png", f"Bearer {TOKEN}")]
    sent = llm_server.requests[-1].body["messages"][-1]
    assert image_urls(sent) == ["data:image/png;base64," + base64.b64encode(PNG).decode()]
    assert "card was declined" in rig.slack.shown(CHANNEL, "300.1")[-1]["text"]


async def test_a_redirect_on_slacks_host_is_followed_with_the_token(
    rig: Rig, llm_server: FakeLLMServer
) -> None:
    shared = rig.slack.add_file("error.png", PNG, "image/png", via="redirect")
    assert await rig.deliver(file_share("300.2", "see this", [shared])) == 200
    await rig.settle()
    assert rig.slack.downloads[-1] == (f"/files-pri/{shared['id']}/error.png", f"Bearer {TOKEN}")
    assert len(image_urls(llm_server.requests[-1].body["messages"][-1])) == 1


async def test_a_redirect_to_another_host_is_never_followed(
    rig: Rig, llm_server: FakeLLMServer
) -> None:
    llm_server.script(Reply(text="We open at 8."))
    shared = rig.slack.add_file("error.png", PNG, "image/png", via="away")
    assert await rig.deliver(file_share("300.3", "when do you open?", [shared])) == 200
    await rig.settle()
    sent = llm_server.requests[-1].body["messages"][-1]
    assert image_urls(sent) == []
    reply = rig.slack.shown(CHANNEL, "300.3")[-1]["text"]
    assert "could not read the attached file error.png" in reply


async def test_without_files_read_the_sign_in_page_is_not_taken_for_the_file(
    rig: Rig, llm_server: FakeLLMServer
) -> None:
    rig.slack.file_token = "xoxb-another"  # the token the bot has is refused
    llm_server.script(Reply(text="Here is what I know."))
    log = rig.slack.add_file("app.log", b"ERROR E42", "text/plain")
    assert await rig.deliver(file_share("300.4", "what is wrong?", [log])) == 200
    await rig.settle()
    sent = llm_server.requests[-1].body["messages"][-1]
    assert "Sign in" not in message_text(sent)
    assert (
        "could not read the attached file app.log" in rig.slack.shown(CHANNEL, "300.4")[-1]["text"]
    )


async def test_a_log_file_is_read_as_text_and_a_large_one_is_not(
    rig: Rig, llm_server: FakeLLMServer
) -> None:
    llm_server.script(Reply(text="E42 is a payment error."))
    small = rig.slack.add_file("app.log", b"ERROR E42 payment", "text/plain")
    large = rig.slack.add_file("big.csv", b"a,b\n" * 1_000, "text/csv")
    assert await rig.deliver(file_share("300.5", "what is wrong?", [small, large])) == 200
    await rig.settle()
    text = message_text(llm_server.requests[-1].body["messages"][-1])
    assert '<file name="app.log">\nERROR E42 payment\n</file>' in text
    assert "big.csv" not in text
    assert [path for path, _ in rig.slack.downloads] == [f"/files-pri/{small['id']}/app.log"]
    assert (
        "could not read the attached file big.csv" in rig.slack.shown(CHANNEL, "300.5")[-1]["text"]
    )


def test_slacks_own_file_hosts_only() -> None:
    from bots.adapters.slack.files import SLACK_FILE_HOSTS

    assert SLACK_FILE_HOSTS.allows("https://files.slack.com/files-pri/T1-F1/download/a.png")
    assert SLACK_FILE_HOSTS.allows("https://files-edge.slack.com/files-pri/T1-F1/a.png")
    assert not SLACK_FILE_HOSTS.allows("http://files.slack.com/files-pri/T1-F1/a.png")
    assert not SLACK_FILE_HOSTS.allows("https://files.slack.com.evil.example/a.png")
    assert not SLACK_FILE_HOSTS.allows("https://evilslack.com/a.png")
