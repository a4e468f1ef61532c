"""The operations settings: metrics port, log format and prices, read once from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from bots.config import Settings
from bots.errors import ConfigError
from bots.models import Usage


def settings(**env: str) -> Settings:
    return Settings.from_env(env, data_dir=Path("/tmp/unused"))


def test_defaults_are_off_and_text() -> None:
    plain = settings()
    assert plain.metrics_port is None
    assert plain.log_format == "text"
    assert plain.prices.cost("gpt-4o-mini", Usage(1000, 1000)) == 0


def test_values_are_read() -> None:
    read = settings(BOTS_METRICS_PORT="9100", BOTS_LOG_FORMAT="JSON", BOTS_PRICES="m=1/2")
    assert read.metrics_port == 9100
    assert read.log_format == "json"
    assert read.prices.cost("m", Usage(1000, 1000)) == pytest.approx(3)


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("BOTS_METRICS_PORT", "http", "BOTS_METRICS_PORT must be a port number"),
        ("BOTS_METRICS_PORT", "70000", "BOTS_METRICS_PORT must be a port number"),
        ("BOTS_LOG_FORMAT", "xml", "BOTS_LOG_FORMAT must be text or json"),
        ("BOTS_PRICES", "gpt-4o=cheap", "BOTS_PRICES"),
    ],
)
def test_bad_values_are_clear_errors(name: str, value: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        settings(**{name: value})
