"""Finding the knowledge entries that answer a question (BM25 via bm25s), with a confidence."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

from bots.knowledge import KnowledgeEntry

# Coverage counts a question word found only in an answer at this weight (see _coverage).
ANSWER_ONLY_WEIGHT = 0.5
# An entry scores its best single phrasing plus its whole text as one bag of words: the best
# phrasing rewards a close paraphrase, the bag gathers evidence spread over many phrasings.
# Measured with `bots eval retrieval` (docs/benchmarks.md): the sum beat either part alone.
BAG_WEIGHT = 1.0
# "No confident match" below this coverage (see Retriever._coverage).
MIN_COVERAGE = 0.3
_WORD = re.compile(r"(?u)\b\w\w+\b")
# Chat filler carries no topic; left in, "yes please" matches whichever answer says "yes".
_CHAT_FILLER = "yes yeah yep please pls thanks thank thx hi hello hey ok okay sure great cool"
_STOPWORDS = frozenset(STOPWORDS_EN_PLUS) | frozenset(_CHAT_FILLER.split())


@dataclass(frozen=True, slots=True)
class ScoredEntry:
    entry: KnowledgeEntry
    score: float
    coverage: float
    """Share of the question's informative words (weighted by rarity) found in the entry."""
    asked: bool = True
    """Some word of the question is among the entry's phrasings (or two are in its answer)."""

    def answers(self, min_coverage: float) -> bool:
        """Whether this hit is good enough to answer from, at the given coverage bar."""
        return self.asked and self.coverage >= min_coverage


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
        self, entries: Sequence[KnowledgeEntry], *, min_coverage: float = MIN_COVERAGE
    ) -> None:
        self.entries = tuple(entries)
        self.min_coverage = min_coverage
        self._stemmer = Stemmer.Stemmer("english")
        texts, starts = _documents(self.entries)
        self._starts = np.asarray(starts, dtype=np.int64)
        # Each entry's bag is its last document: the one before the next entry's first.
        self._bags = np.asarray([*starts[1:], len(texts)][: len(starts)], dtype=np.int64) - 1
        self._phrasing_mask = np.ones(len(texts), dtype=np.float32)
        self._phrasing_mask[self._bags] = 0.0
        self._index = bm25s.BM25()
        self._entry_terms: list[frozenset[str]] = []
        self._phrasing_terms: list[frozenset[str]] = []
        self._idf: dict[str, float] = {}
        if not texts:
            return
        documents = [self._analyze(text) for text in texts]
        self._index.index(documents, show_progress=False)
        bounds = [*starts, len(documents)]
        self._entry_terms = [
            frozenset(term for doc in documents[bounds[n] : bounds[n + 1]] for term in doc)
            for n in range(len(starts))
        ]
        # The last document of each entry is the full text; the others are its phrasings.
        self._phrasing_terms = [
            frozenset(term for doc in documents[bounds[n] : bounds[n + 1] - 1] for term in doc)
            for n in range(len(starts))
        ]
        self._idf = _idf(self._entry_terms)
        self._unknown_idf = math.log(1 + (len(self.entries) + 0.5) / 0.5)

    def search(self, query: str, k: int = 5) -> RetrievalResult:
        terms = self._query_terms(query)
        known = [term for term in terms if term in self._idf]
        if not self.entries or not known:
            return RetrievalResult(query=query, hits=(), confident=False)
        doc_scores = self._index.get_scores(known)
        best_phrasing = np.maximum.reduceat(doc_scores * self._phrasing_mask, self._starts)
        entry_scores = best_phrasing + BAG_WEIGHT * doc_scores[self._bags]
        top = _top_k(entry_scores, k)
        hits = tuple(
            ScoredEntry(
                entry=self.entries[i],
                score=float(entry_scores[i]),
                coverage=self._coverage(terms, i),
                asked=self._asked_about(terms, i),
            )
            for i in top
            if entry_scores[i] > 0
        )
        confident = bool(hits) and hits[0].answers(self.min_coverage)
        return RetrievalResult(query=query, hits=hits, confident=confident)

    def _analyze(self, text: str) -> list[str]:
        words = [w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS]
        return list(self._stemmer.stemWords(words))

    def _query_terms(self, query: str) -> list[str]:
        return list(dict.fromkeys(self._analyze(query)))

    def _asked_about(self, terms: list[str], entry: int) -> bool:
        """A word of the question is among the entry's phrasings, or two are in its answer.

        One word that merely occurs in an answer ("hello" in an e-mail address) is chance.
        """
        if not self._phrasing_terms[entry].isdisjoint(terms):
            return True
        return len(self._entry_terms[entry].intersection(terms)) >= 2

    def _coverage(self, terms: list[str], entry: int) -> float:
        """How much of the question the entry answers, by rarity-weighted words.

        Words found in the entry's question or phrasings count fully; words found only in
        its answer count half, so a lone common word ("hello", "yes") that happens to sit in
        some answer is not taken for a match.
        """
        weights = {t: self._idf.get(t, self._unknown_idf) for t in terms}
        total = sum(weights.values())
        asked, anywhere = self._phrasing_terms[entry], self._entry_terms[entry]
        found = sum(
            w if t in asked else ANSWER_ONLY_WEIGHT * w for t, w in weights.items() if t in anywhere
        )
        return found / total if total else 0.0


def _documents(entries: Sequence[KnowledgeEntry]) -> tuple[list[str], list[int]]:
    """Per entry: one document per phrasing, then one bag of all its text (always last)."""
    texts: list[str] = []
    starts: list[int] = []
    for entry in entries:
        starts.append(len(texts))
        texts.extend(entry.phrasings)
        texts.append(" ".join((*entry.phrasings, entry.answer, *entry.tags)))
    return texts, starts


def _idf(entry_terms: list[frozenset[str]]) -> dict[str, float]:
    frequency = Counter(term for terms in entry_terms for term in terms)
    n = len(entry_terms)
    return {term: math.log(1 + (n - df + 0.5) / (df + 0.5)) for term, df in frequency.items()}


def _top_k(scores: np.ndarray, k: int) -> list[int]:
    k = min(k, len(scores))
    candidates = np.argpartition(-scores, k - 1)[:k]
    return sorted(candidates.tolist(), key=lambda i: (-scores[i], i))
