"""Settings, read once from the environment at the edge into a frozen object."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bots.errors import ConfigError

DEFAULT_BASE_URL = "https://api.openai.com/v1"


class Secret:
    """A string that never shows itself in repr, str or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def default_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("bots", appauthor=False))


def default_cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("bots", appauthor=False))


@dataclass(frozen=True)
class SlackSettings:
    """What `bots run slack` needs; all optional until that command runs."""

    bot_token: Secret | None = None
    app_token: Secret | None = None
    signing_secret: Secret | None = None
    api_url: str | None = None
    staff_users: frozenset[str] = frozenset()
    channel_personas: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> SlackSettings:
        def secret(name: str) -> Secret | None:
            value = environ.get(name, "").strip()
            return Secret(value) if value else None

        return cls(
            bot_token=secret("SLACK_BOT_TOKEN"),
            app_token=secret("SLACK_APP_TOKEN"),
            signing_secret=secret("SLACK_SIGNING_SECRET"),
            api_url=environ.get("SLACK_API_URL", "").strip() or None,
            staff_users=frozenset(_words(environ.get("SLACK_STAFF_USERS", ""))),
            channel_personas=_pairs("SLACK_CHANNEL_PERSONAS", environ),
        )


def _words(raw: str) -> list[str]:
    return [part.strip() for part in raw.replace(";", ",").split(",") if part.strip()]


def _pairs(name: str, environ: Mapping[str, str]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in _words(environ.get(name, "")):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ConfigError(
                f"{name} must look like C0123=restaurant,C0456=helpdesk; got {item!r}"
            )
        pairs[key.strip()] = value.strip()
    return pairs


@dataclass(frozen=True)
class Settings:
    api_key: Secret | None = None
    base_url: str = DEFAULT_BASE_URL
    model_override: str | None = None
    database_url: str = ""
    personas_dir: Path = Path("personas")
    knowledge_dir: Path = Path("knowledge")
    default_persona: str = "restaurant"
    llm_timeout_seconds: float = 60.0
    llm_max_attempts: int = 4
    log_level: str = "WARNING"
    handoff_webhook_url: str | None = None
    handoff_webhook_secret: Secret | None = None
    slack: SlackSettings = SlackSettings()
    semantic_retrieval: bool = True
    """Fuse local embeddings into retrieval when `bots[semantic]` is installed (BOTS_SEMANTIC)."""
    cache_dir: Path = Path(".cache")

    @property
    def llm_enabled(self) -> bool:
        return self.api_key is not None

    @classmethod
    def from_env(cls, environ: Mapping[str, str], *, data_dir: Path | None = None) -> Settings:
        """Build settings from an environment mapping (the CLI passes the process environment)."""
        key = environ.get("OPENAI_API_KEY", "").strip()
        database_url = environ.get("DATABASE_URL", "").strip()
        if not database_url:
            directory = data_dir if data_dir is not None else default_data_dir()
            database_url = f"sqlite:///{directory / 'bots.sqlite3'}"
        return cls(
            api_key=Secret(key) if key else None,
            base_url=_base_url(environ.get("OPENAI_BASE_URL", "")),
            model_override=environ.get("BOTS_MODEL", "").strip() or None,
            database_url=database_url,
            personas_dir=Path(environ.get("BOTS_PERSONAS_DIR", "") or "personas"),
            knowledge_dir=Path(environ.get("BOTS_KNOWLEDGE_DIR", "") or "knowledge"),
            default_persona=environ.get("BOTS_PERSONA", "").strip() or "restaurant",
            llm_timeout_seconds=_positive_float(environ, "BOTS_LLM_TIMEOUT", 60.0),
            llm_max_attempts=int(_positive_float(environ, "BOTS_LLM_ATTEMPTS", 4)),
            log_level=_log_level(environ.get("BOTS_LOG_LEVEL", "")),
            **_webhook(environ),
            slack=SlackSettings.from_env(environ),
            semantic_retrieval=_switch(environ, "BOTS_SEMANTIC", default=True),
            cache_dir=Path(environ.get("BOTS_CACHE_DIR", "").strip() or default_cache_dir()),
        )


def _webhook(environ: Mapping[str, str]) -> dict[str, Any]:
    url = environ.get("BOTS_HANDOFF_WEBHOOK_URL", "").strip()
    secret = environ.get("BOTS_HANDOFF_WEBHOOK_SECRET", "").strip()
    if not url:
        return {}
    if not secret:
        raise ConfigError(
            "BOTS_HANDOFF_WEBHOOK_URL is set but BOTS_HANDOFF_WEBHOOK_SECRET is empty; "
            "set a secret so the help desk can check the signature"
        )
    parsed = urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError("BOTS_HANDOFF_WEBHOOK_URL must be an http(s) web address")
    return {"handoff_webhook_url": url, "handoff_webhook_secret": Secret(secret)}


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_ON = ("1", "true", "yes", "on")
_OFF = ("0", "false", "no", "off")


def _switch(environ: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in _ON + _OFF:
        raise ConfigError(f"{name} must be on or off, got {raw!r}")
    return raw in _ON


def _log_level(raw: str) -> str:
    level = raw.strip().upper() or "WARNING"
    if level not in _LOG_LEVELS:
        raise ConfigError(f"BOTS_LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}, got {raw!r}")
    return level


def _base_url(raw: str) -> str:
    url = raw.strip() or DEFAULT_BASE_URL
    parsed = urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(
            f"OPENAI_BASE_URL must be a web address such as {DEFAULT_BASE_URL}, got {url!r}"
        )
    return url.rstrip("/")


def _positive_float(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be greater than zero, got {raw!r}")
    return value
