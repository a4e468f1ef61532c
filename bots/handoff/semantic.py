"""The hand-off detector in any language: the rule tables, then the nearest labelled examples."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from bots.handoff.detect import detect
from bots.handoff.examples import ASKS, NOT_ASKS
from bots.retrieval.embeddings import Embedder

# Tuned on the shared hand-off sets and the FAQ question sets (docs/handoff.md): an ask must be
# this close to an example ask, and closer by `MIN_MARGIN` to it than to any example that is
# not an ask. The margin is what reads negation: "I don't want a bot" sits by the asks, "no
# need for a person" by the non-asks, though both are close to "a person".
MIN_SIMILARITY = 0.60
MIN_MARGIN = 0.0
# A request for a person is short; a long message is a question that may mention one, and
# the rules still read it.
MAX_CHARS = 200


class HandoffDetector:
    """Whether a message asks for a person: the rule tables first, then the examples.

    The rules (bots.handoff.detect) are precise in en, es, fr, de, pt and it; the examples
    carry the decision in every language the embedder knows and for indirect asks the rules
    miss ("do you have human support?"). Without an embedder it is the rules alone.
    """

    def __init__(
        self,
        embedder: Embedder | None,
        *,
        asks: Mapping[str, Sequence[str]] = ASKS,
        not_asks: Mapping[str, Sequence[str]] = NOT_ASKS,
        min_similarity: float = MIN_SIMILARITY,
        min_margin: float = MIN_MARGIN,
    ) -> None:
        self._embedder = embedder
        self._ask_texts = [text for texts in asks.values() for text in texts]
        self._not_texts = [text for texts in not_asks.values() for text in texts]
        self._min_similarity = min_similarity
        self._min_margin = min_margin
        self._asks: np.ndarray | None = None
        self._not_asks: np.ndarray | None = None

    def __call__(self, text: str) -> bool:
        return self.wants_human(text)

    def wants_human(self, text: str) -> bool:
        if detect(text) is not None:
            return True
        if self._embedder is None or not text.strip() or len(text) > MAX_CHARS:
            return False
        vector = self._embedder.embed([text])[0]
        return self.similar_to_asks(vector)

    def scores(self, vector: np.ndarray) -> tuple[float, float]:
        """The similarity of a message's vector to the nearest ask and the nearest non-ask."""
        asks, not_asks = self._example_vectors()
        return float(np.max(asks @ vector)), float(np.max(not_asks @ vector))

    def similar_to_asks(self, vector: np.ndarray) -> bool:
        ask, not_ask = self.scores(vector)
        return ask >= self._min_similarity and ask - not_ask >= self._min_margin

    def warm(self) -> None:
        """Embed the examples now (at start), not on the first message."""
        self._example_vectors()

    def _example_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        if self._asks is None or self._not_asks is None:
            assert self._embedder is not None
            vectors = self._embedder.embed([*self._ask_texts, *self._not_texts])
            self._asks = vectors[: len(self._ask_texts)]
            self._not_asks = vectors[len(self._ask_texts) :]
        return self._asks, self._not_asks
