"""`bots run discord` and `bots discord invite-url` as an operator runs them, and their settings."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import discord
import pytest

from bots.config import DiscordSettings
from bots.errors import ConfigError
from tests.fakes.fake_discord import GENERAL_ID, TOKEN, FakeDiscord, user_message
from tests.support.cli_runner import ROOT, clean_env, run_bots


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    yield server
    await server.close()


def environment(tmp_path: Path, fake: FakeDiscord, **extra: str) -> dict[str, str]:
    return clean_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'discord.sqlite3'}",
        DISCORD_BOT_TOKEN=TOKEN,
        DISCORD_API_URL=fake.api_url,
        DISCORD_GATEWAY_URL=fake.gateway_url,
        **extra,
    )


async def start(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bots",
        "run",
        "discord",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )


async def test_run_discord_answers_a_mention_in_a_new_thread(
    tmp_path: Path, fake: FakeDiscord
) -> None:
    process = await start(environment(tmp_path, fake))
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        assert "logged in" in line
        await fake.wait_for("PUT", r"/applications/\d+/commands", seconds=30)
        await fake.wait_connected(seconds=30)
        question = user_message("Do you have oat milk?")
        await fake.dispatch("MESSAGE_CREATE", question)
        await fake.wait_for("POST", f"/channels/{question['id']}/messages", seconds=30)
        [thread] = fake.made("POST", f"/channels/{GENERAL_ID}/messages/\\d+/threads")
        assert thread.body["name"] == "Do you have oat milk?"
    finally:
        process.terminate()
        await process.wait()


async def test_a_refused_token_is_one_line_naming_the_variable(
    tmp_path: Path, fake: FakeDiscord
) -> None:
    fake.refuse_token = True
    process = await start(environment(tmp_path, fake))
    _out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    lines = [line for line in err.decode().splitlines() if line.strip()]
    assert lines == [
        "error: Discord refused DISCORD_BOT_TOKEN; copy it again from the Developer Portal "
        "(Bot > Reset Token)"
    ]


async def test_a_refused_message_content_intent_is_one_line(
    tmp_path: Path, fake: FakeDiscord
) -> None:
    fake.refuse_message_content = True
    process = await start(environment(tmp_path, fake))
    _out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    lines = [line for line in err.decode().splitlines() if line.strip()]
    assert len(lines) == 1
    assert "Message Content intent" in lines[0]
    assert "DISCORD_MESSAGE_CONTENT=0" in lines[0]


def test_a_missing_token_is_one_line() -> None:
    result = run_bots(["run", "discord"])
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: DISCORD_BOT_TOKEN is not set (Developer Portal > Bot > Reset Token)"
    ]


def test_invite_url_has_exactly_the_needed_permissions_and_scopes() -> None:
    result = run_bots(["discord", "invite-url", "--application-id", "123456789012345678"])
    assert result.returncode == 0, result.stderr
    url = result.stdout.strip()
    assert url.startswith("https://discord.com/oauth2/authorize?client_id=123456789012345678")
    assert "scope=bot+applications.commands" in url
    bits = int(url.split("permissions=")[1].split("&")[0])
    granted = {name for name, on in discord.Permissions(bits) if on}
    assert granted == {  # iterating Permissions names view_channel by its old alias
        "read_messages",
        "send_messages",
        "send_messages_in_threads",
        "create_public_threads",
        "embed_links",
        "read_message_history",
        "manage_threads",  # forum posts: their tags, archiving and locking when solved
    }


def test_invite_url_without_an_application_id_says_where_to_find_it() -> None:
    result = run_bots(["discord", "invite-url"])
    assert result.returncode == 2
    assert "DISCORD_APPLICATION_ID" in result.stderr


def test_settings_read_shards_mappings_and_flags() -> None:
    settings = DiscordSettings.from_env(
        {
            "DISCORD_BOT_TOKEN": "secret-token-value",
            "DISCORD_SHARD_COUNT": "4",
            "DISCORD_SHARD_IDS": "2,3",
            "DISCORD_CHANNEL_PERSONAS": "111=cafe",
            "DISCORD_GUILD_PERSONAS": "222=helpdesk",
            "DISCORD_MESSAGE_CONTENT": "0",
        }
    )
    assert (settings.shard_count, settings.shard_ids) == (4, (2, 3))
    assert settings.channel_personas == {"111": "cafe"}
    assert settings.guild_personas == {"222": "helpdesk"}
    assert settings.message_content is False
    assert settings.ignore_other_bots is True
    assert "secret-token-value" not in repr(settings)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"DISCORD_SHARD_IDS": "0"}, "needs DISCORD_SHARD_COUNT"),
        ({"DISCORD_SHARD_COUNT": "2", "DISCORD_SHARD_IDS": "2"}, "between 0 and 1"),
        ({"DISCORD_SHARD_COUNT": "two"}, "whole number"),
        ({"DISCORD_MESSAGE_CONTENT": "maybe"}, "must be on or off"),
        ({"DISCORD_CHANNEL_PERSONAS": "111"}, "DISCORD_CHANNEL_PERSONAS"),
    ],
)
def test_bad_settings_are_clear_errors(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        DiscordSettings.from_env(environ)
