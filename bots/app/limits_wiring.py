"""Building the limits, retention and redaction the settings ask for (for the CLI's app)."""

from __future__ import annotations

from bots.config import Settings
from bots.llm.client import ChatModel
from bots.store import Store
from bots.store.privacy import PrivacySettings, Retention
from bots.turn.engine import utc_now
from bots.turn.limits import Limits
from bots.turn.redact import RedactingChatModel, Redactor


def guarded_llm(llm: ChatModel | None, privacy: PrivacySettings) -> ChatModel | None:
    """The model client, wrapped so that it never sees what `BOTS_REDACT` names."""
    if llm is None or not privacy.redact:
        return llm
    return RedactingChatModel(llm, Redactor(privacy.redact, privacy.phone_region))


def limits_and_retention(settings: Settings, store: Store) -> tuple[Limits, Retention | None]:
    """The Engine's `limits` and `retention` arguments."""
    days = settings.privacy.retention_days
    return Limits(settings.limits, store, utc_now), Retention(store, days) if days else None
