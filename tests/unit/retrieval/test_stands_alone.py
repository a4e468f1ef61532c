"""A short message that alone matches an entry surely is a question of its own, unless it
opens with "and", "what about"...; and a follow-up's earlier messages are not embedded again."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from bots.knowledge.files import load_knowledge
from bots.retrieval.embeddings import Progress, UniversalSentenceEncoderEmbedder
from bots.retrieval.followup import continues
from bots.retrieval.search import Retriever
from tests.support.paths import REPO_ROOT


class CountingEmbedder:
    """The real USE model, counting the texts it is asked to embed."""

    def __init__(self) -> None:
        self._model = UniversalSentenceEncoderEmbedder()
        self.name = self._model.name
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        self.texts.extend(texts)
        return self._model.embed(texts, progress)


@pytest.fixture(scope="module")
def embedder() -> CountingEmbedder:
    return CountingEmbedder()


def retriever(persona: str, embedder: CountingEmbedder) -> Retriever:
    entries = list(load_knowledge(REPO_ROOT / "knowledge", [persona]))
    return Retriever(entries, embedder=embedder, match="strict")


def test_a_short_question_sure_of_its_entry_stands_alone(embedder: CountingEmbedder) -> None:
    found = retriever("helpdesk", embedder).search(
        "how do I delete my account?", earlier=["Can clients pay online?"]
    )
    assert found.best is not None
    assert found.best.entry.id == "delete-account"


def test_and_or_what_about_keeps_the_earlier_question(embedder: CountingEmbedder) -> None:
    found = retriever("restaurant", embedder).search(
        "what about on the terrace?", earlier=["Are dogs allowed?"]
    )
    assert found.best is not None
    assert found.best.entry.id == "pets"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("and the toilets?", True),
        ("What about cash?", True),
        ("¿y los postres?", True),
        ("et le dimanche ?", True),
        ("und am Sonntag?", True),
        ("is it free?", False),
        ("Android?", False),
        ("how do I delete my account?", False),
    ],
)
def test_continuation_words(text: str, expected: bool) -> None:
    assert continues(text) is expected


def test_the_earlier_messages_vectors_are_reused(embedder: CountingEmbedder) -> None:
    found = retriever("restaurant", embedder)
    embedder.texts.clear()
    found.search("Can I bring my own wine?")
    found.search("which days?", earlier=["Can I bring my own wine?"])
    assert embedder.texts == ["Can I bring my own wine?", "which days?"]
