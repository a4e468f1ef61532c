"""Building "Save as FAQ" (bots.turn.faq_suggestions) from the settings, for build_app."""

from __future__ import annotations

from pathlib import Path

from bots.config import Settings
from bots.errors import ConfigError, KnowledgeError
from bots.knowledge.pending import PendingFaq
from bots.llm.client import ChatModel
from bots.store import Store
from bots.turn.engine import utc_now
from bots.turn.faq_suggestions import CheckSet, FaqSuggestions, SuggestionCheck
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
    check = checks_for(library.personas_dir, library.knowledge_dir)
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


def checks_for(personas_dir: Path, knowledge_dir: Path) -> CheckSet:
    """The checks after a save; `bots check`'s code loads on the first save, not at start."""

    def check(set_name: str, entry_id: str) -> SuggestionCheck:
        from bots.app.suggestion_check import check_suggestion_set

        return check_suggestion_set(personas_dir, knowledge_dir, set_name, entry_id)

    return check
