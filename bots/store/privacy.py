"""Privacy settings, and retention: deleting messages older than the configured number of days.

What is sent to the model and what is stored, for how long, is in docs/privacy.md.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bots.env_values import optional_count, words
from bots.errors import ConfigError
from bots.store import Store

log = logging.getLogger(__name__)

REDACTABLE = ("email", "phone", "card")
RETENTION_EVERY = timedelta(hours=1)


@dataclass(frozen=True)
class PrivacySettings:
    retention_days: int | None = None
    """Delete messages older than this many days; None keeps them."""
    redact: frozenset[str] = frozenset()
    """What to hide from the model: any of "email", "phone", "card"."""
    phone_region: str = "US"
    """Where phone numbers written without a country code are from (ISO 3166 code)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> PrivacySettings:
        kinds = words(environ, "BOTS_REDACT")
        if kinds == ["all"]:
            kinds = list(REDACTABLE)
        unknown = [kind for kind in kinds if kind not in REDACTABLE]
        if unknown:
            raise ConfigError(
                f"BOTS_REDACT takes {', '.join(REDACTABLE)} (or all), comma-separated; "
                f"unknown: {', '.join(unknown)}"
            )
        region = environ.get("BOTS_PHONE_REGION", "").strip().upper() or "US"
        if len(region) != 2 or not region.isalpha():
            raise ConfigError(
                f"BOTS_PHONE_REGION must be a two-letter country code, got {region!r}"
            )
        return cls(
            retention_days=optional_count(environ, "BOTS_RETENTION_DAYS"),
            redact=frozenset(kinds),
            phone_region=region,
        )


class Retention:
    """Deletes turns older than `days` (see `Store.delete_turns_before`), at most hourly.

    The engine's `tick` calls `run_if_due` every minute or so; each process keeps its own
    schedule, and a second process deleting the same rows finds nothing left to delete.
    """

    def __init__(self, store: Store, days: int, every: timedelta = RETENTION_EVERY) -> None:
        self._store = store
        self._keep = timedelta(days=days)
        self._every = every
        self._last: datetime | None = None

    async def run_if_due(self, now: datetime) -> int | None:
        """Delete what is too old if the last run was long enough ago: turns deleted, or None."""
        if self._last is not None and now - self._last < self._every:
            return None
        self._last = now
        deleted = await self._store.delete_turns_before(now - self._keep)
        if deleted:
            log.info("retention deleted turns=%d older_than_days=%d", deleted, self._keep.days)
        return deleted
