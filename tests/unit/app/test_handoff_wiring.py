"""The bot's hand-off detector reuses the retriever's multilingual model: one load a process."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bots.app.handoff_wiring import handoff_detector
from bots.config import Settings
from bots.retrieval.embeddings import USE_MULTILINGUAL, Progress


class CountingEmbedder:
    """Stands in for the retriever's USE model: unit vectors, and how many texts it saw."""

    name = USE_MULTILINGUAL

    def __init__(self) -> None:
        self.texts = 0

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        self.texts += len(texts)
        rng = np.random.default_rng(len(texts))
        vectors = rng.normal(size=(len(texts), 8)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_the_detector_embeds_its_examples_with_the_shared_model() -> None:
    shared = CountingEmbedder()
    detector = handoff_detector(Settings.from_env({}), background=False, shared=shared)
    assert shared.texts > 100  # the labelled asks and look-alikes, embedded once
    detector("can I talk to a real person please")
    assert shared.texts > 100
