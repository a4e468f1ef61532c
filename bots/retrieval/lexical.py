"""Lexical scoring of knowledge entries for a question: BM25 (bm25s) plus word coverage."""

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
from rapidfuzz import process
from rapidfuzz.distance import OSA, JaroWinkler

from bots.knowledge.files import KnowledgeEntry

# Coverage counts a question word found only in an answer at this weight (see coverage).
ANSWER_ONLY_WEIGHT = 0.5
# Coverage weighs a question word the knowledge never uses at this multiple of the rarity
# weight a word in no entry has (BM25's idf at a document frequency of 0): such a word is
# the strongest sign that the question is about something else ("hotel", "football"). A
# number the knowledge never uses weighs nothing: it is a value (a size, a pincode, an
# order number), not a topic. Measured (docs/benchmarks.md): at equal in-scope abstention,
# more out-of-scope questions abstained on, with the sets' own and with foreign (clinc150)
# questions.
UNKNOWN_WORD_WEIGHT = 2.0
# An entry scores its best single phrasing plus its whole text as one bag of words: the best
# phrasing rewards a close paraphrase, the bag gathers evidence spread over many phrasings.
# Measured with `bots eval retrieval` (docs/benchmarks.md): the sum beat either part alone.
BAG_WEIGHT = 1.0
# Ranking adds BM25 over the words' letter trigrams ("#park#" -> "#pa", "par", "ark", "rk#"),
# at this weight against the words' BM25, each scaled to its best entry for the question,
# among the entries that share a word with the question: it weighs what whole words miss
# (misspellings the typo repair leaves, compounds, word forms the stemmer keeps apart).
# Measured (docs/benchmarks.md): top-3 up on all three sets, about flat for weights 0.3 to
# 0.8; 4- and 5-letter grams gained less.
GRAM_WEIGHT = 0.5
_GRAM = 3
# Words are runs of two or more letters, or runs of digits: "8inch" is "8" and "inch", "6ft"
# is "6" and "ft", so sizes, days and amounts match however they are glued to their unit.
# Measured with `bots eval retrieval` (docs/benchmarks.md): equal or better on every set.
_WORD = re.compile(r"(?u)[^\W\d_]{2,}|\d+")
# Chinese and Japanese are written without spaces, so a sentence would be one "word" that
# matches nothing (and the typo repair would bend it toward some knowledge word). Their runs
# are split into overlapping two-character words instead (the CJK bigrams of Lucene's
# CJKAnalyzer): "自带酒水" is "自带", "带酒", "酒水", which match knowledge written in the
# language and, against knowledge in another, stay unknown words that lower the confidence.
# Korean (Hangul) has spaces between words and stays whole. (The multilingual embeddings
# carry cross-lingual matching; this keeps the lexical side honest.)
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
# Chat filler carries no topic; left in, "yes please" matches whichever answer says "yes".
_CHAT_FILLER = "yes yeah yep please pls thanks thank thx hi hello hey ok okay sure great cool"
_STOPWORDS = frozenset(STOPWORDS_EN_PLUS) | frozenset(_CHAT_FILLER.split())
# Typo tolerance: a question word the knowledge never uses is read as the knowledge word one
# edit away (a swap of two letters is one edit), two for words of 8 letters or more; words
# under 5 letters are left alone ("talking" must not become "parking": that is two edits).
_TYPO_MIN_LENGTH = 5
_TYPO_LONG_WORD = 8


@dataclass(frozen=True, slots=True)
class LexicalScores:
    terms: tuple[str, ...]
    """The question's informative words, stemmed, in order, without repeats."""
    scores: np.ndarray
    """One BM25-based score per entry (0 where no word matches)."""


class LexicalIndex:
    """BM25 over each entry's phrasings and its whole text, and how much of a question it covers."""

    def __init__(self, entries: Sequence[KnowledgeEntry]) -> None:
        self.size = len(entries)
        self._stemmer = Stemmer.Stemmer("english")
        texts, starts = _documents(entries)
        self._starts = np.asarray(starts, dtype=np.int64)
        # Each entry's bag is its last document: the one before the next entry's first.
        self._bags = np.asarray([*starts[1:], len(texts)][: len(starts)], dtype=np.int64) - 1
        self._phrasing_mask = np.ones(len(texts), dtype=np.float32)
        self._phrasing_mask[self._bags] = 0.0
        self._index = bm25s.BM25()
        self._unknown_idf = math.log(1 + (self.size + 0.5) / 0.5)
        documents = [self.analyze(text) for text in texts]
        # Knowledge words by length: a word n edits away is within n letters of the typo's
        # length, so a lookup scans a few lengths, not the whole vocabulary.
        self._spellings: dict[int, list[str]] = {}
        vocabulary = {w for t in texts for w in _words(t) if w not in _STOPWORDS}
        for word in sorted(vocabulary):
            self._spellings.setdefault(len(word), []).append(word)
        # bm25s cannot index a corpus without a single word ("Q?" / "A.").
        if any(documents):
            self._index.index(documents, show_progress=False)
        seen: dict[str, list[str]] = {}
        grams = [_trigrams(doc, seen) for doc in documents]
        self._gram_index = bm25s.BM25()
        self._gram_vocabulary = frozenset(g for doc in grams for g in doc)
        if self._gram_vocabulary:
            self._gram_index.index(grams, show_progress=False)
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

    def analyze(self, text: str) -> list[str]:
        words = [w for w in _words(text) if w not in _STOPWORDS]
        return list(self._stemmer.stemWords(words))

    def terms(self, query: str) -> tuple[str, ...]:
        """The question's informative words, stemmed, typos mended, in order, without repeats."""
        words = [w for w in _words(query) if w not in _STOPWORDS]
        stems = self._stemmer.stemWords(words)
        return tuple(dict.fromkeys(self._mend(w, t) for w, t in zip(words, stems, strict=True)))

    def _mend(self, word: str, stem: str) -> str:
        """The stem of the knowledge word `word` was likely meant as, or `stem` itself."""
        if stem in self._idf or len(word) < _TYPO_MIN_LENGTH or not self._spellings:
            return stem
        if word.isdigit():  # a number one digit off is another number (a pincode, an amount)
            return stem
        if _CJK_RUN.match(word):  # two characters: one edit away is another word entirely
            return stem
        edits = 2 if len(word) >= _TYPO_LONG_WORD else 1
        lengths = range(len(word) - edits, len(word) + edits + 1)
        candidates = [w for n in lengths for w in self._spellings.get(n, ())]
        # rapidfuzz rather than a hand-written edit distance: C speed over many candidates.
        found = process.extract(
            word, candidates, scorer=OSA.distance, score_cutoff=edits, limit=None
        )
        if not found:
            return stem
        # Among the closest, a word with the same first letter (people rarely mistype the
        # first), then the most alike by Jaro-Winkler, which favours a shared beginning:
        # "adress" is "address", not "dress", though both are one edit away.
        best = min(
            found,
            key=lambda f: (f[1], f[0][0] != word[0], -JaroWinkler.similarity(word, f[0])),
        )
        return str(self._stemmer.stemWord(best[0]))

    def score(self, query: str) -> LexicalScores:
        terms = self.terms(query)
        known = [term for term in terms if term in self._idf]
        if not known:
            return LexicalScores(terms, np.zeros(self.size, dtype=np.float32))
        words = _scaled(self._entry_scores(self._index.get_scores(known)))
        # Letters only reorder the entries that share a word with the question: an entry
        # alike in spelling alone ("prime" and "price") is no candidate to show the model.
        grams = [g for g in _trigrams(terms) if g in self._gram_vocabulary]
        spelling = _scaled(self._entry_scores(self._gram_index.get_scores(grams)))
        return LexicalScores(terms, np.where(words > 0, words + GRAM_WEIGHT * spelling, 0.0))

    def _entry_scores(self, doc_scores: np.ndarray) -> np.ndarray:
        """Each entry's best phrasing plus its whole text as one bag, from per-document scores."""
        best_phrasing = np.maximum.reduceat(doc_scores * self._phrasing_mask, self._starts)
        combined: np.ndarray = best_phrasing + BAG_WEIGHT * doc_scores[self._bags]
        return combined

    def asked_about(self, terms: Sequence[str], entry: int) -> bool:
        """A word of the question is among the entry's phrasings, or two are in its answer.

        One word that merely occurs in an answer ("hello" in an e-mail address) is chance.
        """
        if not self._phrasing_terms[entry].isdisjoint(terms):
            return True
        return len(self._entry_terms[entry].intersection(terms)) >= 2

    def coverage(self, terms: Sequence[str], entry: int) -> float:
        """How much of the question the entry answers, by rarity-weighted words.

        Words found in the entry's question or phrasings count fully; words found only in
        its answer count half, so a lone common word ("hello", "yes") that happens to sit in
        some answer is not taken for a match.
        """
        weights = {t: self._weight(t) for t in terms}
        total = sum(weights.values())
        asked, anywhere = self._phrasing_terms[entry], self._entry_terms[entry]
        found = sum(
            w if t in asked else ANSWER_ONLY_WEIGHT * w for t, w in weights.items() if t in anywhere
        )
        return found / total if total else 0.0

    def _weight(self, term: str) -> float:
        known = self._idf.get(term)
        if known is not None:
            return known
        return 0.0 if term.isdigit() else UNKNOWN_WORD_WEIGHT * self._unknown_idf


def _words(text: str) -> list[str]:
    """The text's words, lowercased; runs of Chinese or Japanese characters as bigrams."""
    words: list[str] = []
    for word in _WORD.findall(text.lower()):
        start = 0
        for run in _CJK_RUN.finditer(word):
            if run.start() > start:
                words += _WORD.findall(word[start : run.start()])
            chars = run.group()
            words += [chars[i : i + 2] for i in range(max(1, len(chars) - 1))]
            start = run.end()
        if start == 0:
            words.append(word)
        elif start < len(word):
            words += _WORD.findall(word[start:])
    return words


def _trigrams(words: Sequence[str], seen: dict[str, list[str]] | None = None) -> list[str]:
    """Each word's letter trigrams, its ends marked ("#ok#" -> "#ok", "ok#"; "#a#" whole).

    `seen` keeps each word's trigrams while a whole knowledge base is split: it repeats the
    same few thousand words many times over.
    """
    grams: list[str] = []
    for word in words:
        own = seen.get(word) if seen is not None else None
        if own is None:
            marked = f"#{word}#"
            own = [marked[i : i + _GRAM] for i in range(max(1, len(marked) - _GRAM + 1))]
            if seen is not None:
                seen[word] = own
        grams += own
    return grams


def _scaled(scores: np.ndarray) -> np.ndarray:
    """Scores divided by the best one, so two scorings can be weighed against each other."""
    best = float(scores.max()) if len(scores) else 0.0
    return scores / best if best > 0 else scores


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
