"""The multilingual USE embedder: unit vectors, one BLAS thread, languages that meet."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from bots.retrieval.embeddings import Embedder, UniversalSentenceEncoderEmbedder


@pytest.fixture(scope="module")
def embedder() -> UniversalSentenceEncoderEmbedder:
    return UniversalSentenceEncoderEmbedder()


def test_vectors_are_unit_length_float32_rows(embedder: UniversalSentenceEncoderEmbedder) -> None:
    typed: Embedder = embedder
    vectors = typed.embed(["Can I bring my own wine?", "Do you have parking?"])
    assert vectors.shape == (2, 512)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert embedder.embed([]).shape == (0, 512)


def test_a_question_in_another_language_is_closest_to_its_english_twin(
    embedder: UniversalSentenceEncoderEmbedder,
) -> None:
    english = embedder.embed(["Can I bring my own wine?", "Is there parking nearby?"])
    questions = ("¿Puedo traer mi propio vino?", "我可以自带葡萄酒吗？", "ワインを持ち込めますか？")
    for question in questions:
        alike = english @ embedder.embed([question])[0]
        assert alike[0] > alike[1] + 0.3, question


def test_embedding_runs_on_one_blas_thread_and_reports_progress(
    embedder: UniversalSentenceEncoderEmbedder,
) -> None:
    seen: list[tuple[int, list[int]]] = []

    def progress(done: int) -> None:
        threads = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
        seen.append((done, threads))

    texts = [f"question number {n}" for n in range(300)]
    embedder.embed(texts, progress)
    assert [done for done, _ in seen] == [256, 300]
    assert all(threads and set(threads) == {1} for _, threads in seen)


def test_the_same_text_gives_the_same_vector_alone_or_in_a_batch(
    embedder: UniversalSentenceEncoderEmbedder,
) -> None:
    alone = embedder.embed(["What time do you open on Sunday?"])[0]
    batched = embedder.embed(["Hello", "What time do you open on Sunday?", "Bye"])[1]
    assert float(alone @ batched) > 0.9999
