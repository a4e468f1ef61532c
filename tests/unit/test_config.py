"""Settings: read once from an environment mapping, with one-line errors for bad values."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bots.config import DEFAULT_BASE_URL, Settings
from bots.errors import ConfigError
from bots.secret import Secret


def test_defaults_need_nothing(tmp_path: Path) -> None:
    settings = Settings.from_env({}, data_dir=tmp_path)
    assert settings.api_key is None
    assert not settings.llm_enabled
    assert settings.base_url == DEFAULT_BASE_URL
    assert settings.database_url == f"sqlite:///{tmp_path / 'bots.sqlite3'}"


def test_values_are_read(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "OPENAI_API_KEY": " sk-abc ",
            "OPENAI_BASE_URL": "http://localhost:8080/v1/",
            "BOTS_MODEL": "llama3.1",
            "DATABASE_URL": "sqlite:///x.db",
            "BOTS_LOG_LEVEL": "info",
        },
        data_dir=tmp_path,
    )
    assert settings.api_key == Secret("sk-abc")
    assert settings.base_url == "http://localhost:8080/v1"
    assert settings.model_override == "llama3.1"
    assert settings.database_url == "sqlite:///x.db"
    assert settings.log_level == "INFO"


def test_the_key_never_shows_itself() -> None:
    settings = Settings.from_env({"OPENAI_API_KEY": "sk-very-secret"}, data_dir=Path("."))
    assert "sk-very-secret" not in repr(settings)
    assert "sk-very-secret" not in str(settings.api_key)
    assert settings.api_key is not None
    assert settings.api_key.reveal() == "sk-very-secret"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("OPENAI_BASE_URL", "localhost:8080", "OPENAI_BASE_URL must be a web address"),
        ("BOTS_LOG_LEVEL", "verbose", "BOTS_LOG_LEVEL must be one of"),
        ("BOTS_LLM_TIMEOUT", "soon", "BOTS_LLM_TIMEOUT must be a number"),
        ("BOTS_LLM_ATTEMPTS", "0", "BOTS_LLM_ATTEMPTS must be greater than zero"),
        ("BOTS_TURN_TIMEOUT", "0", "BOTS_TURN_TIMEOUT must be greater than zero"),
        ("BOTS_TURN_TIMEOUT", "3600", "BOTS_TURN_TIMEOUT must be at most 600 seconds"),
        ("BOTS_HANDOFF_WEBHOOK_URL", "https://desk.example/hook", "WEBHOOK_SECRET is empty"),
        ("BOTS_HOST", "http://0.0.0.0", "BOTS_HOST must be an address to listen on"),
        ("BOTS_HOST", "127.0.0.1:8080", "BOTS_HOST must be an address to listen on"),
        ("BOTS_HOST", "127.0.0.256", "BOTS_HOST must be an address to listen on"),
    ],
)
def test_bad_values_are_one_line_errors(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({name: value}, data_dir=Path("."))


def test_webhook_settings(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "BOTS_HANDOFF_WEBHOOK_URL": "https://desk.example/hook",
            "BOTS_HANDOFF_WEBHOOK_SECRET": "whsec",
        },
        data_dir=tmp_path,
    )
    assert settings.handoff_webhook_url == "https://desk.example/hook"
    assert settings.handoff_webhook_secret == Secret("whsec")
    assert "whsec" not in repr(settings)


def test_slack_settings(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_STAFF_USERS": "U1, U2",
            "SLACK_CHANNEL_PERSONAS": "C1=restaurant,C2=helpdesk",
        },
        data_dir=tmp_path,
    )
    assert settings.slack.bot_token == Secret("xoxb-1")
    assert settings.slack.staff_users == frozenset({"U1", "U2"})
    assert settings.slack.channel_personas == {"C1": "restaurant", "C2": "helpdesk"}
    assert "xoxb-1" not in repr(settings)


def test_a_malformed_channel_map_is_a_one_line_error() -> None:
    with pytest.raises(ConfigError, match="SLACK_CHANNEL_PERSONAS must look like"):
        Settings.from_env({"SLACK_CHANNEL_PERSONAS": "C1:restaurant"}, data_dir=Path("."))


def test_the_listen_address_is_every_interface_unless_bots_host_says(tmp_path: Path) -> None:
    assert Settings.from_env({}, data_dir=tmp_path).host == "0.0.0.0"
    for host in ("127.0.0.1", "localhost", "bot.internal"):
        assert Settings.from_env({"BOTS_HOST": f" {host} "}, data_dir=tmp_path).host == host


def test_the_turn_timeout_is_read_once_with_a_default_under_two_minutes() -> None:
    assert Settings.from_env({}, data_dir=Path(".")).turn_timeout_seconds == 90
    settings = Settings.from_env({"BOTS_TURN_TIMEOUT": "45"}, data_dir=Path("."))
    assert settings.turn_timeout_seconds == 45


def test_burst_and_semantic_handoff_settings() -> None:
    from bots.config import DEFAULT_BURST_SECONDS

    assert Settings.from_env({}).burst_seconds == DEFAULT_BURST_SECONDS
    assert Settings.from_env({}).semantic_handoff is True
    assert Settings.from_env({"BOTS_BURST_SECONDS": "0"}).burst_seconds == 0.0
    assert Settings.from_env({"BOTS_HANDOFF_SEMANTIC": "off"}).semantic_handoff is False
    with pytest.raises(ConfigError, match="BOTS_BURST_SECONDS must be between 0 and 30"):
        Settings.from_env({"BOTS_BURST_SECONDS": "45"})
    with pytest.raises(ConfigError, match="BOTS_BURST_SECONDS must be a number of seconds"):
        Settings.from_env({"BOTS_BURST_SECONDS": "soon"})


def test_model_size_overrides_for_servers_that_say_nothing(tmp_path: Path) -> None:
    env = {"BOTS_CONTEXT_WINDOW": "2048", "BOTS_MAX_TOKENS": "300"}
    settings = Settings.from_env(env, data_dir=tmp_path)
    assert (settings.context_window, settings.max_tokens) == (2048, 300)
    assert Settings.from_env({}, data_dir=tmp_path).context_window is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"BOTS_CONTEXT_WINDOW": "lots"}, "BOTS_CONTEXT_WINDOW must be a whole number"),
        ({"BOTS_CONTEXT_WINDOW": "256"}, "BOTS_CONTEXT_WINDOW must be at least 512 tokens"),
        ({"BOTS_MAX_TOKENS": "8"}, "BOTS_MAX_TOKENS must be at least 16 tokens"),
        (
            {"BOTS_CONTEXT_WINDOW": "1024", "BOTS_MAX_TOKENS": "600"},
            "BOTS_MAX_TOKENS (600) must be at most half of BOTS_CONTEXT_WINDOW (1024)",
        ),
    ],
)
def test_bad_model_sizes_are_plain_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        Settings.from_env(env, data_dir=Path("."))


def test_discord_forum_channels_are_read_as_ids_and_bad_ones_are_named() -> None:
    settings = Settings.from_env({"DISCORD_FORUM_CHANNELS": "123, 456"})
    assert settings.discord.forum_channels == ("123", "456")
    with pytest.raises(ConfigError, match="DISCORD_FORUM_CHANNELS"):
        Settings.from_env({"DISCORD_FORUM_CHANNELS": "help-forum"})
