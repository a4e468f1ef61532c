"""Settings, read once from the environment at the edge into a frozen object."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bots.desks.settings import DeskSettings
from bots.errors import ConfigError
from bots.llm.pricing import PriceTable
from bots.secret import Secret
from bots.store.privacy import PrivacySettings
from bots.turn.attachments import AttachmentLimits
from bots.turn.deadline import DEFAULT_TURN_TIMEOUT
from bots.turn.limits import LimitSettings

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_HOST = "0.0.0.0"
"""All interfaces: what a container's port mapping and a Procfile host's router need
(docs/operations.md says why this default, and when to set 127.0.0.1)."""
MAX_TURN_TIMEOUT = 600.0


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
    help_channels: frozenset[str] = frozenset()
    """SLACK_HELP_CHANNELS: every top-level question there is answered without a mention."""

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
            help_channels=frozenset(_words(environ.get("SLACK_HELP_CHANNELS", ""))),
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
class DiscordSettings:
    """What `bots run discord` needs; all optional until that command runs."""

    bot_token: Secret | None = None
    application_id: str | None = None
    api_url: str | None = None
    gateway_url: str | None = None
    shard_count: int | None = None
    shard_ids: tuple[int, ...] | None = None
    channel_personas: Mapping[str, str] = field(default_factory=dict)
    guild_personas: Mapping[str, str] = field(default_factory=dict)
    message_content: bool = True
    ignore_other_bots: bool = True
    forum_channels: tuple[str, ...] = ()
    """Forum channels answered as a help desk (DISCORD_FORUM_CHANNELS), besides the personas'."""
    help_channels: frozenset[str] = frozenset()
    """DISCORD_HELP_CHANNELS: every top-level question there is answered without a mention."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> DiscordSettings:
        token = environ.get("DISCORD_BOT_TOKEN", "").strip()
        count = _optional_int(environ, "DISCORD_SHARD_COUNT")
        ids = tuple(_int_list(environ, "DISCORD_SHARD_IDS")) or None
        if count is not None and count < 1:
            raise ConfigError("DISCORD_SHARD_COUNT must be at least 1")
        if ids is not None and count is None:
            raise ConfigError("DISCORD_SHARD_IDS needs DISCORD_SHARD_COUNT (the total shards)")
        if ids is not None and count is not None and not all(0 <= i < count for i in ids):
            raise ConfigError(f"DISCORD_SHARD_IDS must be between 0 and {count - 1}")
        return cls(
            bot_token=Secret(token) if token else None,
            application_id=environ.get("DISCORD_APPLICATION_ID", "").strip() or None,
            api_url=environ.get("DISCORD_API_URL", "").strip() or None,
            gateway_url=environ.get("DISCORD_GATEWAY_URL", "").strip() or None,
            shard_count=count,
            shard_ids=ids,
            channel_personas=_pairs("DISCORD_CHANNEL_PERSONAS", environ),
            guild_personas=_pairs("DISCORD_GUILD_PERSONAS", environ),
            message_content=_switch(environ, "DISCORD_MESSAGE_CONTENT", default=True),
            ignore_other_bots=_switch(environ, "DISCORD_IGNORE_BOTS", default=True),
            forum_channels=tuple(str(i) for i in _int_list(environ, "DISCORD_FORUM_CHANNELS")),
            help_channels=frozenset(_words(environ.get("DISCORD_HELP_CHANNELS", ""))),
        )


def _optional_int(environ: Mapping[str, str], name: str) -> int | None:
    raw = environ.get(name, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None


def _int_list(environ: Mapping[str, str], name: str) -> list[int]:
    try:
        return [int(part) for part in _words(environ.get(name, ""))]
    except ValueError:
        raise ConfigError(f"{name} must look like 0,1,2; got {environ.get(name)!r}") from None


@dataclass(frozen=True)
class Settings:
    api_key: Secret | None = None
    base_url: str = DEFAULT_BASE_URL
    model_override: str | None = None
    database_url: str = ""
    personas_dir: Path = Path("personas")
    knowledge_dir: Path = Path("knowledge")
    pending_file: str = "pending.yaml"
    """Where "Save as FAQ" writes suggested entries in a set (BOTS_PENDING_FILE)."""
    default_persona: str = "restaurant"
    llm_timeout_seconds: float = 60.0
    llm_max_attempts: int = 4
    turn_timeout_seconds: float = DEFAULT_TURN_TIMEOUT
    """Each turn's deadline, the model's stream included (BOTS_TURN_TIMEOUT)."""
    context_window: int | None = None
    """BOTS_CONTEXT_WINDOW: the model's window for servers that do not say (caps every persona)."""
    max_tokens: int | None = None
    """BOTS_MAX_TOKENS: the reply's room in tokens, for every persona."""
    log_level: str = "WARNING"
    log_format: str = "text"
    log_file: Path | None = None
    """BOTS_LOG_FILE: log lines go to this file instead of stderr."""
    console_log_file: Path = Path("console.log")
    """Where `bots chat` and `bots ask` log when stderr is the user's terminal (so no log line
    lands among the answers): BOTS_LOG_FILE, else console.log in the data folder."""
    metrics_port: int | None = None
    host: str = DEFAULT_HOST
    link_hosts: frozenset[str] = frozenset()
    """Hosts the model may link to besides the knowledge's own (BOTS_LINK_HOSTS)."""
    """The address `bots run slack --http` and the metrics port listen on (BOTS_HOST)."""
    prices: PriceTable = field(default_factory=PriceTable)
    handoff_webhook_url: str | None = None
    handoff_webhook_secret: Secret | None = None
    slack: SlackSettings = SlackSettings()
    discord: DiscordSettings = DiscordSettings()
    limits: LimitSettings = field(default_factory=LimitSettings)
    attachments: AttachmentLimits = field(default_factory=AttachmentLimits)
    """Which attached files are downloaded and read (BOTS_ATTACHMENT_*)."""
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    desks: DeskSettings = field(default_factory=DeskSettings)
    """BOTS_DESK and its desk's settings: hand-offs as Zendesk or Chatwoot tickets."""
    semantic_retrieval: bool = True
    """Fuse local sentence embeddings into retrieval (BOTS_SEMANTIC)."""
    embedding_model: str = "use"
    """Which local model: "use" (multilingual, the default install) or "minilm" (the
    English-only `bots[semantic]` extra) (BOTS_EMBEDDINGS)."""
    cache_dir: Path = Path(".cache")
    semantic_handoff: bool = True
    """Read asks for a person in any language with sentence embeddings (BOTS_HANDOFF_SEMANTIC)."""
    burst_seconds: float = 0.0
    """Messages of one user this close together are answered once, as one (BOTS_BURST_SECONDS)."""
    studio_password: Secret | None = None
    """The studio's editor login (BOTS_STUDIO_PASSWORD); needed to listen beyond loopback."""
    studio_viewer_password: Secret | None = None
    """The studio's read-only login: conversations only (BOTS_STUDIO_VIEWER_PASSWORD)."""

    @property
    def llm_enabled(self) -> bool:
        return self.api_key is not None

    @classmethod
    def from_env(cls, environ: Mapping[str, str], *, data_dir: Path | None = None) -> Settings:
        """Build settings from an environment mapping (the CLI passes the process environment)."""
        key = environ.get("OPENAI_API_KEY", "").strip()
        database_url = environ.get("DATABASE_URL", "").strip()
        directory = data_dir if data_dir is not None else default_data_dir()
        if not database_url:
            database_url = f"sqlite:///{directory / 'bots.sqlite3'}"
        log_file = Path(raw_log) if (raw_log := environ.get("BOTS_LOG_FILE", "").strip()) else None
        return cls(
            api_key=Secret(key) if key else None,
            base_url=_base_url(environ.get("OPENAI_BASE_URL", "")),
            model_override=environ.get("BOTS_MODEL", "").strip() or None,
            database_url=database_url,
            personas_dir=Path(environ.get("BOTS_PERSONAS_DIR", "") or "personas"),
            knowledge_dir=Path(environ.get("BOTS_KNOWLEDGE_DIR", "") or "knowledge"),
            pending_file=environ.get("BOTS_PENDING_FILE", "").strip() or "pending.yaml",
            default_persona=environ.get("BOTS_PERSONA", "").strip() or "restaurant",
            llm_timeout_seconds=_positive_float(environ, "BOTS_LLM_TIMEOUT", 60.0),
            llm_max_attempts=int(_positive_float(environ, "BOTS_LLM_ATTEMPTS", 4)),
            turn_timeout_seconds=_turn_timeout(environ),
            **_model_sizes(environ),
            log_level=_log_level(environ.get("BOTS_LOG_LEVEL", "")),
            log_file=log_file,
            console_log_file=log_file or directory / "console.log",
            **_observability(environ),
            **_webhook(environ),
            slack=SlackSettings.from_env(environ),
            discord=DiscordSettings.from_env(environ),
            limits=LimitSettings.from_env(environ),
            attachments=AttachmentLimits.from_env(environ),
            privacy=PrivacySettings.from_env(environ),
            desks=DeskSettings.from_env(environ),
            semantic_retrieval=_switch(environ, "BOTS_SEMANTIC", default=True),
            link_hosts=_link_hosts(environ),
            embedding_model=_embedding_model(environ),
            cache_dir=Path(environ.get("BOTS_CACHE_DIR", "").strip() or default_cache_dir()),
            semantic_handoff=_switch(environ, "BOTS_HANDOFF_SEMANTIC", default=True),
            burst_seconds=_seconds(environ, "BOTS_BURST_SECONDS", DEFAULT_BURST_SECONDS),
            studio_password=_optional_secret(environ, "BOTS_STUDIO_PASSWORD"),
            studio_viewer_password=_optional_secret(environ, "BOTS_STUDIO_VIEWER_PASSWORD"),
        )


def _optional_secret(environ: Mapping[str, str], name: str) -> Secret | None:
    value = environ.get(name, "").strip()
    return Secret(value) if value else None


# The smallest window a prompt (fixed rules, a question, one FAQ entry, a reply) can live in,
# as the persona schema's `model.context_window` minimum says.
MIN_CONTEXT_WINDOW = 512


def _model_sizes(environ: Mapping[str, str]) -> dict[str, Any]:
    """BOTS_CONTEXT_WINDOW and BOTS_MAX_TOKENS, whole numbers that leave room for a prompt."""
    window = _optional_int(environ, "BOTS_CONTEXT_WINDOW")
    max_tokens = _optional_int(environ, "BOTS_MAX_TOKENS")
    if window is not None and window < MIN_CONTEXT_WINDOW:
        raise ConfigError(
            f"BOTS_CONTEXT_WINDOW must be at least {MIN_CONTEXT_WINDOW} tokens, got {window}"
        )
    if max_tokens is not None and max_tokens < 16:
        raise ConfigError(f"BOTS_MAX_TOKENS must be at least 16 tokens, got {max_tokens}")
    if window is not None and max_tokens is not None and max_tokens > window // 2:
        raise ConfigError(
            f"BOTS_MAX_TOKENS ({max_tokens}) must be at most half of BOTS_CONTEXT_WINDOW "
            f"({window}), to leave room for the conversation and the FAQ"
        )
    return {"context_window": window, "max_tokens": max_tokens}


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


_HOST_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def _listen_host(environ: Mapping[str, str]) -> str:
    """BOTS_HOST: an IPv4 address or a host name to listen on (not a URL, not a port)."""
    raw = environ.get("BOTS_HOST", "").strip()
    if not raw:
        return DEFAULT_HOST
    try:
        return str(ipaddress.IPv4Address(raw))
    except ValueError:
        pass
    if _is_host_name(raw):
        return raw  # a host name such as localhost; a dotted number is a mistyped address
    raise ConfigError(
        "BOTS_HOST must be an address to listen on, such as 127.0.0.1 (this machine only) "
        f"or 0.0.0.0 (every interface), got {raw!r}"
    )


def _is_host_name(text: str) -> bool:
    labels = text.split(".")
    return all(_HOST_LABEL.fullmatch(label) for label in labels) and not labels[-1].isdigit()


def _link_hosts(environ: Mapping[str, str]) -> frozenset[str]:
    """BOTS_LINK_HOSTS: comma-separated host names the model's links may go to."""
    hosts = [part.strip().lower() for part in environ.get("BOTS_LINK_HOSTS", "").split(",")]
    for host in hosts:
        if host and not _is_host_name(host):
            raise ConfigError(
                "BOTS_LINK_HOSTS takes host names separated by commas, such as "
                f"docs.example.com,status.example.com; got {host!r}"
            )
    return frozenset(host for host in hosts if host)


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_LOG_FORMATS = ("text", "json")


def _observability(environ: Mapping[str, str]) -> dict[str, Any]:
    """BOTS_LOG_FORMAT, BOTS_METRICS_PORT (unset: no metrics server), BOTS_HOST, BOTS_PRICES."""
    log_format = environ.get("BOTS_LOG_FORMAT", "").strip().lower() or "text"
    if log_format not in _LOG_FORMATS:
        raise ConfigError(f"BOTS_LOG_FORMAT must be text or json, got {log_format!r}")
    raw_port = environ.get("BOTS_METRICS_PORT", "").strip()
    port: int | None = None
    if raw_port:
        if not raw_port.isdigit() or int(raw_port) > 65535:
            raise ConfigError(
                f"BOTS_METRICS_PORT must be a port number (0 picks a free one), got {raw_port!r}"
            )
        port = int(raw_port)
    prices = PriceTable.parse(environ.get("BOTS_PRICES", ""))
    return {
        "log_format": log_format,
        "metrics_port": port,
        "host": _listen_host(environ),
        "prices": prices,
    }


# The local sentence-embedding models retrieval can fuse (bots/retrieval/embeddings.py).
EMBEDDING_MODELS = ("use", "minilm")
_ON = ("1", "true", "yes", "on")
_OFF = ("0", "false", "no", "off")


def _embedding_model(environ: Mapping[str, str]) -> str:
    model = environ.get("BOTS_EMBEDDINGS", "").strip().lower() or "use"
    if model not in EMBEDDING_MODELS:
        raise ConfigError(
            f"BOTS_EMBEDDINGS must be one of {', '.join(EMBEDDING_MODELS)}, not {model!r}"
        )
    return model


def _switch(environ: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in _ON + _OFF:
        raise ConfigError(f"{name} must be on or off (or 1/0, true/false, yes/no), got {raw!r}")
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


def _turn_timeout(environ: Mapping[str, str]) -> float:
    seconds = _positive_float(environ, "BOTS_TURN_TIMEOUT", DEFAULT_TURN_TIMEOUT)
    if seconds > MAX_TURN_TIMEOUT:
        raise ConfigError(
            f"BOTS_TURN_TIMEOUT must be at most {MAX_TURN_TIMEOUT:g} seconds (a person is "
            f"waiting for the answer), got {seconds:g}"
        )
    return seconds


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


# Chat users often send one question as several quick lines ("hi" / "my order" / "it's late");
# waiting this long after a message for the next one answers them once, together.
DEFAULT_BURST_SECONDS = 2.0
MAX_BURST_SECONDS = 30.0


def _seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    """A wait in seconds: 0 turns it off; more than MAX_BURST_SECONDS would feel like silence."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not 0 <= value <= MAX_BURST_SECONDS:
        raise ConfigError(f"{name} must be between 0 and {MAX_BURST_SECONDS:g}, got {raw!r}")
    return value
