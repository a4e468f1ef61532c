"""Building the help-channel question detector the bots and `bots eval help-channel` use."""

from __future__ import annotations

from bots.config import Settings
from bots.retrieval.embeddings import USE_MULTILINGUAL, Embedder, local_embedder
from bots.turn.help_channel import QuestionDetector


def question_detector(
    settings: Settings, *, rules_only: bool = False, shared: Embedder | None = None
) -> QuestionDetector:
    """Rules plus multilingual examples; the rules alone when BOTS_SEMANTIC is off, with
    `rules_only`, or when the embedding model does not load. `shared` is the retriever's USE
    model, reused so a process holds one copy."""
    if rules_only or not settings.semantic_retrieval:
        return QuestionDetector(None)
    if shared is not None and shared.name == USE_MULTILINGUAL:
        return QuestionDetector(shared)
    return QuestionDetector(local_embedder("use"))
