"""The help-desk settings, read once from the environment (`Settings.desks`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bots.errors import ConfigError
from bots.secret import Secret

DESKS = ("zendesk", "chatwoot")
PRIORITIES = ("low", "normal", "high", "urgent")
REASONS = (
    "user_asked",
    "model_tool",
    "no_answer",
    "llm_unavailable",
    "feedback",
    "staff",
    "limit",
)
MIN_POLL_SECONDS = 30
DEFAULT_POLL_SECONDS = 120


@dataclass(frozen=True)
class DeskSettings:
    desk: str = ""
    """BOTS_DESK: "zendesk", "chatwoot", or "" (the Slack/Discord notice only, the default)."""
    url: str = ""
    email: str = ""
    """Zendesk: the agent whose API token it is (ZENDESK_EMAIL)."""
    token: Secret | None = None
    account_id: str = ""
    inbox_id: str = ""
    webhook_secret: Secret | None = None
    poll_seconds: int = 0
    """0: no polling (webhooks only)."""
    priorities: Mapping[str, str] = field(default_factory=dict)
    """Hand-off reason -> Zendesk priority (BOTS_DESK_PRIORITY)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> DeskSettings:
        desk = environ.get("BOTS_DESK", "").strip().lower()
        if not desk:
            return cls()
        if desk not in DESKS:
            raise ConfigError(f"BOTS_DESK takes zendesk or chatwoot, got {desk!r}")
        prefix = desk.upper()
        url = _url(environ, prefix)
        token = _required(environ, f"{prefix}_API_TOKEN")
        secret = environ.get(f"{prefix}_WEBHOOK_SECRET", "").strip()
        return cls(
            desk=desk,
            url=url,
            email=_required(environ, "ZENDESK_EMAIL") if desk == "zendesk" else "",
            token=Secret(token),
            account_id=_number(environ, "CHATWOOT_ACCOUNT_ID") if desk == "chatwoot" else "",
            inbox_id=_number(environ, "CHATWOOT_INBOX_ID") if desk == "chatwoot" else "",
            webhook_secret=Secret(secret) if secret else None,
            poll_seconds=_poll(environ, webhooks=bool(secret)),
            priorities=_priorities(environ),
        )


def _url(environ: Mapping[str, str], prefix: str) -> str:
    raw = environ.get(f"{prefix}_URL", "").strip()
    subdomain = environ.get("ZENDESK_SUBDOMAIN", "").strip() if prefix == "ZENDESK" else ""
    if not raw and subdomain:
        raw = f"https://{subdomain}.zendesk.com"
    if not raw:
        also = " (or ZENDESK_SUBDOMAIN)" if prefix == "ZENDESK" else ""
        raise ConfigError(f"BOTS_DESK is {prefix.lower()} but {prefix}_URL{also} is not set")
    parsed = urlsplit(raw)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"{prefix}_URL must be an http(s) web address")
    return raw.rstrip("/")


def _required(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is not set (needed for BOTS_DESK)")
    return value


def _number(environ: Mapping[str, str], name: str) -> str:
    value = _required(environ, name)
    if not value.isdigit():
        raise ConfigError(f"{name} must be a number, got {value!r}")
    return value


def _poll(environ: Mapping[str, str], *, webhooks: bool) -> int:
    raw = environ.get("BOTS_DESK_POLL_SECONDS", "").strip()
    if not raw:
        return 0 if webhooks else DEFAULT_POLL_SECONDS
    if not raw.isdigit():
        raise ConfigError(f"BOTS_DESK_POLL_SECONDS must be a whole number, got {raw!r}")
    seconds = int(raw)
    if seconds and seconds < MIN_POLL_SECONDS:
        raise ConfigError(
            f"BOTS_DESK_POLL_SECONDS must be 0 (off) or at least {MIN_POLL_SECONDS}: the desks "
            "rate-limit their APIs"
        )
    return seconds


def _priorities(environ: Mapping[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for pair in environ.get("BOTS_DESK_PRIORITY", "").split(","):
        if not pair.strip():
            continue
        reason, _, priority = (part.strip().lower() for part in pair.partition("="))
        if reason not in REASONS or priority not in PRIORITIES:
            raise ConfigError(
                f"BOTS_DESK_PRIORITY takes reason=priority pairs (reasons: {', '.join(REASONS)};"
                f" priorities: {', '.join(PRIORITIES)}), got {pair.strip()!r}"
            )
        found[reason] = priority
    return found
