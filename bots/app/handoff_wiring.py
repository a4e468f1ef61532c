"""Building the hand-off detector the bot and `bots eval handoff` use, from the settings."""

from __future__ import annotations

import logging

from bots.config import Settings
from bots.handoff.semantic import HandoffDetector
from bots.language.identify import LanguageIdentifier

log = logging.getLogger(__name__)


def handoff_detector(settings: Settings, *, rules_only: bool = False) -> HandoffDetector:
    """Rules plus multilingual examples; the rules alone when switched off or not installed."""
    if rules_only or not settings.semantic_handoff:
        return HandoffDetector(None)
    try:
        from bots.retrieval.embeddings import UniversalSentenceEncoderEmbedder

        embedder = UniversalSentenceEncoderEmbedder()
        detector = HandoffDetector(embedder, language_of=LanguageIdentifier().identify)
    except ImportError as exc:  # an install without the embedding package
        log.warning("hand-off detector: rules only (%s)", exc)
        return HandoffDetector(None)
    detector.warm()
    return detector
