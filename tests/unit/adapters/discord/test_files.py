"""Discord attachments end to end: discord.py's real gateway path, downloads from the fake's
CDN, and the image parts the fake model server receives."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bots.adapters.discord.files import DISCORD_FILE_HOSTS, DiscordFiles
from bots.llm.client import OpenAIChatClient
from bots.store.sqlite import SQLiteStore
from bots.turn.attachments import AttachmentLimits
from bots.turn.downloads import Downloads, FileHosts
from tests.fakes.fake_discord import FakeDiscord, user_message
from tests.fakes.fake_llm import FakeLLMServer, Reply, image_urls, message_text
from tests.support.discord_rig import Rig, running_bot

PNG = b"\x89PNG\r\n\x1a\n" + b"\x02" * 64


@pytest.fixture
async def downloads() -> AsyncIterator[Downloads]:
    made = Downloads(AttachmentLimits(max_image_bytes=1_000))
    yield made
    await made.aclose()


def local_cdn(downloads: Downloads) -> DiscordFiles:
    # The fake's CDN is on 127.0.0.1 over http; the real list is Discord's CDN over https.
    return DiscordFiles(downloads, FileHosts(("127.0.0.1",), plain_http=True))


def last_user_message(server: FakeLLMServer) -> dict[str, object]:
    return server.requests[-1].body["messages"][-1]


def final_text(rig: Rig) -> str:
    return str(rig.fake.messages[next(reversed(rig.fake.messages))]["content"])


async def test_a_screenshot_with_a_mention_reaches_the_model_as_an_image_part(
    tmp_path: Path,
    store: SQLiteStore,
    llm_client: OpenAIChatClient,
    llm_server: FakeLLMServer,
    downloads: Downloads,
) -> None:
    llm_server.script(Reply(text="That is the login error screen."))
    async with running_bot(
        tmp_path, store, llm_client, files=lambda fake: local_cdn(downloads), vision=True
    ) as rig:
        question = user_message("what is this error?")
        question["attachments"] = [rig.fake.attachment("shot.png", PNG, "image/png")]
        await rig.send(question)
        assert len(rig.fake.cdn_requests) == 1
        sent = last_user_message(llm_server)
        assert image_urls(sent) == ["data:image/png;base64," + base64.b64encode(PNG).decode()]
        assert final_text(rig) == "That is the login error screen."


async def test_a_bare_mention_with_only_a_picture_opens_a_thread_and_says_it_cannot_see(
    tmp_path: Path,
    store: SQLiteStore,
    llm_client: OpenAIChatClient,
    llm_server: FakeLLMServer,
    downloads: Downloads,
) -> None:
    async with running_bot(
        tmp_path, store, llm_client, files=lambda fake: local_cdn(downloads)
    ) as rig:
        question = user_message("")
        question["attachments"] = [rig.fake.attachment("shot.png", PNG, "image/png")]
        await rig.send(question)
        assert "can't see images" in final_text(rig)
        assert "Shall I get a person?" in final_text(rig)
        assert llm_server.requests == []


async def test_a_text_file_without_a_content_type_is_read_and_a_large_image_is_not(
    tmp_path: Path,
    store: SQLiteStore,
    llm_client: OpenAIChatClient,
    llm_server: FakeLLMServer,
    downloads: Downloads,
) -> None:
    llm_server.script(Reply(text="E42 is a payment error."))
    async with running_bot(
        tmp_path, store, llm_client, files=lambda fake: local_cdn(downloads), vision=True
    ) as rig:
        question = user_message("what went wrong?")
        big = b"\x89PNG\r\n\x1a\n" + b"\x00" * 2_000
        question["attachments"] = [
            rig.fake.attachment("server.log", b"ERROR E42 payment", None),
            rig.fake.attachment("huge.png", big, "image/png"),
        ]
        await rig.send(question)
        sent = last_user_message(llm_server)
        assert '<file name="server.log">\nERROR E42 payment\n</file>' in message_text(sent)
        assert image_urls(sent) == []
        assert len(rig.fake.cdn_requests) == 1  # the large image was never downloaded
        assert "could not read the attached file huge.png" in final_text(rig)


async def test_discords_own_file_hosts_only() -> None:
    allowed = DISCORD_FILE_HOSTS
    assert allowed.allows("https://cdn.discordapp.com/attachments/1/2/a.png?ex=1")
    assert allowed.allows("https://media.discordapp.net/attachments/1/2/a.png")
    assert not allowed.allows("http://cdn.discordapp.com/attachments/1/2/a.png")
    assert not allowed.allows("https://cdn.discordapp.com.evil.example/a.png")
    assert not allowed.allows("https://example.com/a.png")


def test_fake_discord_attachment_shape() -> None:
    fake = FakeDiscord()
    data = fake.attachment("a.png", PNG, "image/png")
    assert set(data) >= {"id", "filename", "size", "url", "proxy_url", "content_type"}
