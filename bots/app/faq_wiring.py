"""Building "Save as FAQ" (bots.turn.faq_suggestions) from the settings, for build_app."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from bots.app.suggestion_check import check_suggestion_set
from bots.config import Settings
from bots.errors import ConfigError, KnowledgeError
from bots.knowledge.pending import PendingFaq
from bots.llm.client import ChatModel
from bots.store import Store
from bots.turn.engine import utc_now
from bots.turn.faq_suggestions import FaqSuggestions
from bots.turn.library import PersonaLibrary


def pending_faq(settings: Settings, knowledge_root: Path) -> PendingFaq:
    """The pending files under the knowledge folder; a bad BOTS_PENDING_FILE is a one-line
    error at start."""
    try:
        return PendingFaq(knowledge_root, settings.pending_file)
    except KnowledgeError as problem:
        raise ConfigError(f"BOTS_PENDING_FILE: {problem.detail}") from None


def faq_suggestions(
    settings: Settings,
    store: Store,
    library: PersonaLibrary,
    default_persona: str,
    llm: ChatModel | None,
) -> FaqSuggestions:
    check = partial(check_suggestion_set, library.personas_dir, library.knowledge_dir)
    return FaqSuggestions(
        store=store,
        personas=library,
        default_persona=default_persona,
        pending=pending_faq(settings, library.knowledge_dir),
        clock=utc_now,
        llm=llm,
        check=check,
        reload=library.reload,
    )
