"""Finding the knowledge entries that answer a question, with a confidence.

Lexical (BM25, always) and, when an Embedder is given, semantic (sentence vectors) scores are
fused into one ranking. The bot, `bots eval retrieval` and the benchmarks all use this class.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from bots.knowledge.files import KnowledgeEntry
from bots.knowledge.persona import MatchLevel
from bots.retrieval.embedding_cache import EmbeddingCache
from bots.retrieval.embeddings import USE_MULTILINGUAL, Embedder, Progress
from bots.retrieval.followup import Part, continues, question_parts
from bots.retrieval.lexical import LexicalIndex

# "No confident match" below these bars, per the persona's `knowledge.match` setting.
# Lexical mode's confidence is the share of the question's informative words the entry
# covers; semantic mode's is how alike (cosine similarity of the model's vectors) the
# entry's closest phrasing is, plus LEAD_WEIGHT times its lead over the next entry's.
# "normal" is chosen on the trade-off curves (docs/benchmarks.md): at least half of
# out-of-scope questions abstained on while under 10% of in-scope ones are. "strict" suits a
# small hand-written FAQ, where "I don't know" beats a loosely related answer. The "semantic"
# bars are all-MiniLM-L6-v2's; each other model has its own (its similarities run lower or
# higher), keyed by the embedder's name.
MATCH_BARS: Mapping[str, Mapping[MatchLevel, float]] = {
    "lexical": {"loose": 0.05, "normal": 0.10, "strict": 0.20},
    "semantic": {"loose": 0.40, "normal": 0.45, "strict": 0.50},
    USE_MULTILINGUAL: {"loose": 0.40, "normal": 0.45, "strict": 0.60},
}
# USE's confidence adds its lead over the runner-up: an off-topic question is moderately
# alike to several entries at once ("what's 17 times 23?" to every opening-hours entry), a
# question an entry answers is alike to that one. Measured on evals/ (docs/benchmarks.md):
# at the strict bar, wrong answers to off-topic questions and paraphrases fell from 6.7% to
# 4.4% at equal right answers. MiniLM's bars were set without it, so it keeps 0.
LEAD_WEIGHT: Mapping[str, float] = {USE_MULTILINGUAL: 1.0}
# A short message that alone matches an entry this surely (confidence, lead included) is a
# question of its own, not a follow-up: "how do I delete my account?" after "can clients pay
# online?". Unless it opens with "and", "what about"... (followup.continues): "what about on
# the terrace?" after "are dogs allowed?" matches the terrace entry as surely. Measured on
# evals/*/followups.jsonl (docs/benchmarks.md): every bar from 0.85 to 0.95 gave the same
# R@1 (47 -> 48 of 54); lower bars cost more elliptical follow-ups than they won back.
# USE only: the other modes' confidences are on other scales, and were not measured.
STANDS_ALONE: Mapping[str, float] = {USE_MULTILINGUAL: 0.9}
# Semantic mode ranks the CANDIDATES entries most alike to the question by
# similarity + LEXICAL_WEIGHT x lexical confidence (coverage of the question's rare words):
# the embeddings decide, shared rare words (names, codes, products) break near-ties.
# Measured (docs/benchmarks.md): any weight from 0.1 to 0.2 beats embeddings alone on every
# set; BM25 scores in place of coverage helped two sets and hurt the third.
LEXICAL_WEIGHT = 0.2
# USE leans on the lexical side more: measured (docs/benchmarks.md) top-3 on hint3 0.929 ->
# 0.945 and stackfaq 0.914 -> 0.928 going from 0.2 to 0.5; a question in another language
# shares no words with the entries, so its ranking does not change.
LEXICAL_WEIGHTS: Mapping[str, float] = {USE_MULTILINGUAL: 0.5}
CANDIDATES = 20
# An answer is worded unlike a question: its similarity counts at this share.
ANSWER_WEIGHT = 0.9
# Ranking (not confidence) also adds this share of the answer's similarity: an entry whose
# question and answer are both alike to the question beats one with only a close question.
# Measured (docs/benchmarks.md, faq_stackfaq, the one set with answers): 0.1 raised top-1 and
# top-3; 0.2 and more cost top-1, as the answer starts to outweigh the question.
ANSWER_EVIDENCE = 0.1
# Ranking blends the closest phrasing with the mean of the NEIGHBOURS closest, half and half:
# a k-nearest-neighbour vote, so one stray phrasing that happens to be close does not outrank
# an entry that several phrasings agree on. Measured (docs/benchmarks.md): better top-1 and
# top-3 on both sets with many phrasings per entry; no change where entries have one.
NEIGHBOURS = 3
NEIGHBOUR_SHARE = 0.5
# A large knowledge base is searched in two steps: every vector compared in a projection onto
# its PROJECTED_DIMENSIONS main directions (PCA), then the PROJECTED_ENTRIES entries closest
# there compared exactly, over all their vectors. Reading 50,000 full vectors per question is
# what it costs (77 MB; memory bound); the projection reads a sixth. Measured
# (docs/benchmarks.md): with the two steps forced on and only 20 entries passed on, the same
# recall, MRR and abstention on stackfaq and banking77.
# Below PROJECT_FROM_VECTORS every vector is compared exactly: it is cheap.
PROJECT_FROM_VECTORS = 20_000
# Question vectors kept for reuse: a follow-up's earlier messages were searched before.
RECENT_QUERIES = 256
PROJECTED_DIMENSIONS = 64
PROJECTED_ENTRIES = 200
# The projection is fitted on this many vectors drawn at random (fixed seed: repeatable).
PROJECTION_SAMPLE = 5_000


@dataclass(frozen=True, slots=True)
class ScoredEntry:
    entry: KnowledgeEntry
    score: float
    """Ranks entries for one question; not comparable across questions."""
    confidence: float
    """How surely this entry answers the question (coverage, or similarity with embeddings)."""

    def answers(self, bar: float) -> bool:
        """Whether this hit is good enough to answer from, at the given confidence bar."""
        return self.confidence >= bar


@dataclass(frozen=True, slots=True)
class RetrievalResult:
    query: str
    hits: tuple[ScoredEntry, ...]
    confident: bool
    """False means "no confident match": no entry is good enough to answer from."""

    @property
    def best(self) -> ScoredEntry | None:
        return self.hits[0] if self.hits else None


class Retriever:
    """An in-memory index over a fixed set of entries. Build once, search many times."""

    def __init__(
        self,
        entries: Sequence[KnowledgeEntry],
        *,
        embedder: Embedder | None = None,
        cache: EmbeddingCache | None = None,
        match: MatchLevel = "normal",
        min_confidence: float | None = None,
        progress: Progress | None = None,
        project_from: int = PROJECT_FROM_VECTORS,
    ) -> None:
        """`match` ("loose", "normal", "strict") picks the bar for this mode;
        `min_confidence` sets one outright. `project_from` is the number of vectors from
        which the semantic search goes in two steps (lower it to measure that on a small
        knowledge base)."""
        self.entries = tuple(entries)
        self._lexical = LexicalIndex(self.entries)
        self._semantic = (
            _SemanticIndex(self.entries, embedder, cache, progress, project_from)
            if embedder is not None
            else None
        )
        if self._semantic is None:
            bars = MATCH_BARS["lexical"]
        else:
            bars = MATCH_BARS.get(self._semantic.model, MATCH_BARS["semantic"])
        default = bars[match]
        self.min_confidence = default if min_confidence is None else min_confidence

    @property
    def mode(self) -> str:
        """ "lexical", or "semantic:<model>" when sentence vectors are fused in."""
        return "lexical" if self._semantic is None else f"semantic:{self._semantic.model}"

    def search(self, query: str, k: int = 5, earlier: Sequence[str] = ()) -> RetrievalResult:
        """The entries that answer `query`; `earlier` are the person's previous messages in
        the conversation, oldest first: a short follow-up is read with them (followup.py).

        When reading it with them finds an entry but not confidently, and the message alone
        finds the same entry confidently, the message alone wins: "is there parking?" after
        "hello?" is a question of its own. (Taking the message alone whenever it is confident
        answered "how much is it?" after "kids menu?" from the price list: measured on
        evals/*/followups.jsonl, docs/benchmarks.md.)
        """
        if not self.entries:
            return RetrievalResult(query=query, hits=(), confident=False)
        parts = question_parts(query, earlier)
        if len(parts) == 1:
            return self._search(query, parts, k)
        alone = self._search(query, parts[:1], k)
        bar = STANDS_ALONE.get(self._semantic.model) if self._semantic is not None else None
        sure = alone.best is not None and bar is not None and alone.best.confidence >= bar
        if sure and not continues(query):
            return alone
        result = self._search(query, parts, k)
        if not result.confident and result.best is not None:
            same = alone.best is not None and alone.best.entry.id == result.best.entry.id
            if alone.confident and same:
                return alone
        return result

    def _search(self, query: str, parts: Sequence[Part], k: int) -> RetrievalResult:
        # Lexically, a follow-up's words and the earlier messages' words are one question.
        text = " ".join(part.text for part in parts)
        if self._semantic is None:
            lexical = self._lexical.score(text)
            hits = self._lexical_hits(lexical.terms, lexical.scores, k)
        else:
            hits = self._fused_hits(parts, self._lexical.terms(text), k)
        confident = bool(hits) and hits[0].answers(self.min_confidence)
        return RetrievalResult(query=query, hits=hits, confident=confident)

    def _lexical_hits(
        self, terms: Sequence[str], scores: np.ndarray, k: int
    ) -> tuple[ScoredEntry, ...]:
        return tuple(
            ScoredEntry(self.entries[i], float(scores[i]), self._lexical_confidence(terms, i))
            for i in _top_k(scores, k)
            if scores[i] > 0
        )

    def _lexical_confidence(self, terms: Sequence[str], entry: int) -> float:
        if not self._lexical.asked_about(terms, entry):
            return 0.0
        return self._lexical.coverage(terms, entry)

    def _fused_hits(
        self, parts: Sequence[Part], terms: Sequence[str], k: int
    ) -> tuple[ScoredEntry, ...]:
        assert self._semantic is not None
        semantic = self._semantic
        similarity, answers, phrasings = semantic.similarity(parts, max(k, CANDIDATES))
        lead_weight = LEAD_WEIGHT.get(semantic.model, 0.0)
        lexical_weight = LEXICAL_WEIGHTS.get(semantic.model, LEXICAL_WEIGHT)
        candidates = _top_k(similarity, max(k, CANDIDATES))
        hits = []
        for i in candidates:
            alike = float(similarity[i])
            vote = (1 - NEIGHBOUR_SHARE) * alike + NEIGHBOUR_SHARE * semantic.vote(phrasings, i)
            evidence = ANSWER_EVIDENCE * float(answers[i])
            fused = vote + evidence + lexical_weight * self._lexical_confidence(terms, i)
            confidence = alike + lead_weight * _lead(similarity, candidates, i)
            hits.append(ScoredEntry(self.entries[i], fused, confidence))
        hits.sort(key=lambda hit: -hit.score)
        return tuple(hits[:k])


class _SemanticIndex:
    """One vector per phrasing and answer; an entry is as alike as its closest phrasing.

    (Or its answer, at ANSWER_WEIGHT, when that is closer.)
    """

    def __init__(
        self,
        entries: Sequence[KnowledgeEntry],
        embedder: Embedder,
        cache: EmbeddingCache | None,
        progress: Progress | None,
        project_from: int = PROJECT_FROM_VECTORS,
    ) -> None:
        self.model = embedder.name
        self._embedder = embedder
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._recent_lock = threading.Lock()
        texts = [text for entry in entries for text in entry.phrasings]
        counts = [len(entry.phrasings) for entry in entries]
        self._starts = np.cumsum([0, *counts[:-1]], dtype=np.int64)
        self._ends = self._starts + np.asarray(counts, dtype=np.int64)
        answered = [n for n, entry in enumerate(entries) if entry.answer.strip()]
        self._answered = np.asarray(answered, dtype=np.int64)
        # Each entry's row in the answers' vectors, or -1 when it has no answer.
        self._answer_row = np.full(len(entries), -1, dtype=np.int64)
        self._answer_row[self._answered] = np.arange(len(answered))
        texts += [entries[n].answer for n in answered]
        if cache is not None:
            vectors = cache.vectors(embedder, texts, progress)
        else:
            vectors = embedder.embed(texts, progress)
        self._phrasings = vectors[: len(texts) - len(answered)]
        self._answers = vectors[len(texts) - len(answered) :]
        self._projection: _Projection | None = None
        if len(vectors) >= project_from:
            self._projection = _Projection(vectors, len(self._phrasings))

    def similarity(
        self, parts: Sequence[Part], depth: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """How alike the question is to each entry's closest phrasing (or weighted answer),
        to each entry's answer (0 without one), and to each phrasing.

        A follow-up with earlier messages (parts) gets each part's similarities, weighted and
        averaged: the entry must be alike to what was asked before and to what is asked now,
        possibly through different phrasings. (Measured against one blended vector on
        evals/*/followups.jsonl, docs/benchmarks.md: higher top-1.) With a projection, only
        the entries closest in it (at least `depth` of them) are compared exactly; the others
        are -inf, as are their phrasings.
        """
        vectors = self._vectors([part.text for part in parts])
        if len(parts) == 1:
            return self._similarity(vectors[0], depth)
        found = [self._similarity(vector, depth) for vector in vectors]
        total = sum(part.weight for part in parts)

        def blend(n: int) -> np.ndarray:
            weighted = sum(part.weight * f[n] for part, f in zip(parts, found, strict=True))
            return np.asarray(weighted, dtype=np.float32) / total

        return blend(0), blend(1), blend(2)

    def _vectors(self, texts: Sequence[str]) -> np.ndarray:
        """The texts' vectors, embedding only those not among the RECENT_QUERIES last ones: a
        follow-up is searched alone and with the earlier messages, which were themselves
        searched a turn before."""
        with self._recent_lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._recent))
        fresh = self._embedder.embed(missing) if missing else ()
        with self._recent_lock:
            known = {**self._recent, **dict(zip(missing, fresh, strict=True))}
            for text, vector in zip(missing, fresh, strict=True):
                self._recent[text] = vector
                self._recent.move_to_end(text)
            while len(self._recent) > RECENT_QUERIES:
                self._recent.popitem(last=False)
        return np.stack([known[text] for text in texts])

    def _similarity(
        self, vector: np.ndarray, depth: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._projection is None:
            phrasings = self._phrasings @ vector
            answers = self._per_entry(self._answers @ vector)
            return self._best(phrasings, answers), answers, phrasings
        return self._two_step(vector, self._projection, max(depth, PROJECTED_ENTRIES))

    def _per_entry(self, answers: np.ndarray) -> np.ndarray:
        """Per entry, from one value per answer: 0 for the entries without an answer."""
        spread = np.zeros(len(self._starts), dtype=np.float32)
        spread[self._answered] = answers
        return spread

    def _best(self, phrasings: np.ndarray, answers: np.ndarray) -> np.ndarray:
        best = np.maximum.reduceat(phrasings, self._starts)
        if len(self._answered):
            best[self._answered] = np.maximum(
                best[self._answered], ANSWER_WEIGHT * answers[self._answered]
            )
        return best

    def _two_step(
        self, vector: np.ndarray, projection: _Projection, entries: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rough_phrasings, rough_answers = projection.similarity(vector)
        rough = self._best(rough_phrasings, self._per_entry(rough_answers))
        chosen = np.asarray(_top_k(rough, entries), dtype=np.int64)
        # The chosen entries' phrasing rows, all of them, in one gather.
        lengths = self._ends[chosen] - self._starts[chosen]
        offsets = np.repeat(self._starts[chosen] - np.cumsum(lengths) + lengths, lengths)
        rows = offsets + np.arange(int(lengths.sum()))
        phrasings = np.full(len(self._phrasings), -np.inf, dtype=np.float32)
        phrasings[rows] = self._phrasings[rows] @ vector
        answers = np.zeros(len(self._starts), dtype=np.float32)
        with_answer = chosen[self._answer_row[chosen] >= 0]
        answers[with_answer] = self._answers[self._answer_row[with_answer]] @ vector
        best = np.full(len(self._starts), -np.inf, dtype=np.float32)
        best[chosen] = np.maximum.reduceat(phrasings[rows], np.cumsum(lengths) - lengths)
        best[with_answer] = np.maximum(best[with_answer], ANSWER_WEIGHT * answers[with_answer])
        return best, answers, phrasings

    def vote(self, phrasings: np.ndarray, entry: int) -> float:
        """The mean similarity of the entry's NEIGHBOURS closest phrasings (all, if fewer)."""
        own = phrasings[self._starts[entry] : self._ends[entry]]
        if len(own) > NEIGHBOURS:
            own = np.partition(own, len(own) - NEIGHBOURS)[-NEIGHBOURS:]
        return float(own.mean())


class _Projection:
    """The knowledge's vectors projected onto their main directions, for a first rough pass.

    numpy's eigen-decomposition, not a vector-search library: this is one matrix product per
    question. The chosen entries' scores are then the full vectors' own; an entry the rough
    pass ranks too far down is missed.
    """

    def __init__(self, vectors: np.ndarray, phrasings: int) -> None:
        rng = np.random.default_rng(0)
        size = min(len(vectors), PROJECTION_SAMPLE)
        sample = vectors[rng.choice(len(vectors), size=size, replace=False)]
        # The uncentred second moment: its main directions keep dot products, not distances
        # from the mean, which is what the question's similarity is.
        _, directions = np.linalg.eigh(sample.T @ sample)
        self._basis = np.ascontiguousarray(directions[:, -PROJECTED_DIMENSIONS:], np.float32)
        projected = vectors @ self._basis
        self._phrasings = np.ascontiguousarray(projected[:phrasings])
        self._answers = np.ascontiguousarray(projected[phrasings:])

    def similarity(self, vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rough similarities to every phrasing and every answer."""
        reduced = vector @ self._basis
        return self._phrasings @ reduced, self._answers @ reduced


def _lead(similarity: np.ndarray, ranked: Sequence[int], entry: int) -> float:
    """How much more alike the entry is than the most alike other entry (0 when alone)."""
    if len(ranked) < 2:
        return 0.0
    other = ranked[1] if entry == ranked[0] else ranked[0]
    lead = float(similarity[entry] - similarity[other])
    return lead if np.isfinite(lead) else 0.0


def _top_k(scores: np.ndarray, k: int) -> list[int]:
    k = min(k, len(scores))
    candidates = np.argpartition(-scores, k - 1)[:k]
    return sorted(candidates.tolist(), key=lambda i: (-scores[i], i))
