"""BOTS_DESK and its settings: read once, every mistake a plain sentence."""

from __future__ import annotations

import pytest

from bots.desks.settings import DeskSettings
from bots.errors import ConfigError

ZENDESK = {
    "BOTS_DESK": "zendesk",
    "ZENDESK_SUBDOMAIN": "acme",
    "ZENDESK_EMAIL": "bot@acme.example",
    "ZENDESK_API_TOKEN": "zd-secret-value",
}


def test_no_desk_by_default() -> None:
    assert DeskSettings.from_env({}).desk == ""


def test_zendesk_from_its_subdomain_polls_without_a_webhook_secret() -> None:
    settings = DeskSettings.from_env(ZENDESK)
    assert settings.url == "https://acme.zendesk.com"
    assert settings.poll_seconds == 120
    signed = DeskSettings.from_env(
        {**ZENDESK, "ZENDESK_WEBHOOK_SECRET": "s", "BOTS_DESK_PRIORITY": "limit=urgent"}
    )
    assert signed.poll_seconds == 0
    assert signed.priorities == {"limit": "urgent"}
    assert "zd-secret-value" not in repr(signed)


@pytest.mark.parametrize(
    ("environ", "says"),
    [
        ({"BOTS_DESK": "freshdesk"}, "BOTS_DESK takes zendesk or chatwoot"),
        ({**ZENDESK, "ZENDESK_API_TOKEN": ""}, "ZENDESK_API_TOKEN is not set"),
        ({"BOTS_DESK": "chatwoot", "CHATWOOT_API_TOKEN": "t"}, "CHATWOOT_URL"),
        ({**ZENDESK, "BOTS_DESK_POLL_SECONDS": "5"}, "at least 30"),
        ({**ZENDESK, "BOTS_DESK_PRIORITY": "user_asked=asap"}, "reason=priority"),
        (
            {
                "BOTS_DESK": "chatwoot",
                "CHATWOOT_URL": "https://cw.example",
                "CHATWOOT_API_TOKEN": "t",
                "CHATWOOT_ACCOUNT_ID": "one",
            },
            "CHATWOOT_ACCOUNT_ID must be a number",
        ),
    ],
)
def test_mistakes_are_plain(environ: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        DeskSettings.from_env(environ)
