"""Reading whole numbers and lists from environment settings, with errors in plain words."""

from __future__ import annotations

from collections.abc import Mapping

from bots.errors import ConfigError


def optional_count(environ: Mapping[str, str], name: str, *, minimum: int = 1) -> int | None:
    """A whole number of at least `minimum`, or None when the variable is unset or empty."""
    raw = environ.get(name, "").strip().replace("_", "")
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {raw!r}")
    return value


def words(environ: Mapping[str, str], name: str) -> list[str]:
    """A comma-separated list, lower-cased, without blanks."""
    raw = environ.get(name, "")
    return [part.strip().lower() for part in raw.split(",") if part.strip()]
