"""`bots eval retrieval`: the bot's own retriever scored on labelled FAQ questions."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bots.errors import BotsError
from bots.evals.handoff import Progress
from bots.knowledge.files import KnowledgeEntry
from bots.retrieval.search import RetrievalResult, Retriever

# A row has a `query`, or `turns` (a conversation: the last one is scored); checked per row.
QUERY_FIELDS: Mapping[str, type] = {}
FAQ_FIELDS: Mapping[str, type] = {"id": str, "question": str}
# Confidence bars for the abstention trade-off curve (the bot uses the retriever's own bar).
TRADEOFF_BARS = tuple(round(0.05 * n, 2) for n in range(15))
MISSES_KEPT = 20


@dataclass(frozen=True)
class Query:
    text: str
    expected: frozenset[str]
    """The entry ids that answer it; empty for an out-of-scope question."""
    earlier: tuple[str, ...] = ()
    """The person's earlier messages in the conversation, oldest first."""
    lang: str | None = None
    """The question's language (a row's `lang`), for per-language figures."""


@dataclass
class RetrievalReport:
    figures: dict[str, Any]
    misses: list[tuple[str, str, str]] = field(default_factory=list)
    """(question, expected id, what came first) for wrong or abstained in-scope questions."""


def faq_entries(rows: Iterable[Mapping[str, Any]]) -> list[KnowledgeEntry]:
    """Entries from the shared FAQ format (`id`, `question`, `answer`, optional extras)."""
    return [
        KnowledgeEntry(
            id=str(row["id"]),
            question=str(row["question"]),
            answer=str(row.get("answer") or ""),
            also_asked=tuple(str(q) for q in row.get("also_asked") or ()),
            url=row.get("url") if isinstance(row.get("url"), str) else None,
        )
        for row in rows
    ]


def split_queries(
    rows: Iterable[Mapping[str, Any]], entries: Sequence[KnowledgeEntry], train_as_phrasings: bool
) -> tuple[list[KnowledgeEntry], list[Query]]:
    """The entries to index and the queries to score.

    With `train_as_phrasings`, `split: train` rows become extra phrasings of their entry and
    only `split: test` rows are scored; otherwise every row is scored.
    """
    known = {entry.id for entry in entries}
    extra: dict[str, list[str]] = {}
    queries: list[Query] = []
    for number, row in enumerate(rows, start=1):
        faq_id = row.get("faq_id")
        if faq_id is not None and str(faq_id) not in known:
            raise BotsError(f"query {number}: faq_id {faq_id!r} is not an entry of the FAQ")
        split = row.get("split")
        if train_as_phrasings and split == "train":
            if faq_id is not None:
                extra.setdefault(str(faq_id), []).append(_turns(row, number)[-1])
            continue
        if train_as_phrasings and split not in (None, "test"):
            continue
        relevant = row.get("relevant_faq_ids") or ([faq_id] if faq_id is not None else [])
        *earlier, text = _turns(row, number)
        lang = row.get("lang")
        queries.append(
            Query(
                text,
                frozenset(str(r) for r in relevant),
                earlier=tuple(earlier),
                lang=str(lang) if lang is not None else None,
            )
        )
    indexed = [
        KnowledgeEntry(
            id=e.id,
            question=e.question,
            answer=e.answer,
            also_asked=e.also_asked + tuple(extra.get(e.id, ())),
            url=e.url,
            tags=e.tags,
            source=e.source,
        )
        for e in entries
    ]
    return indexed, queries


def _turns(row: Mapping[str, Any], number: int) -> list[str]:
    """A row's messages, oldest first: its `turns`, or its one `query`."""
    turns = row.get("turns")
    if turns is None:
        query = row.get("query")
        if not isinstance(query, str):
            raise BotsError(f"query {number}: needs a string `query` or a list of `turns`")
        return [query]
    if not turns or not isinstance(turns, list) or not all(isinstance(t, str) for t in turns):
        raise BotsError(f"query {number}: `turns` must be a non-empty list of strings")
    return list(turns)


def evaluate_retrieval(
    retriever: Retriever, queries: Sequence[Query], k: int = 3, progress: Progress | None = None
) -> RetrievalReport:
    """Recall@1/@3, MRR, abstention in and out of scope, and speed, with the bot's retriever."""
    depth = max(k, 3)
    found_1 = found_3 = found_k = 0
    reciprocal = 0.0
    seconds = 0.0
    in_scope_best: list[float] = []  # the confidence of the top hit
    out_scope_best: list[float] = []
    report = RetrievalReport(figures={})
    tally = _Tally()
    by_lang: dict[str, _Tally] = {}
    for count, query in enumerate(queries, start=1):
        started = time.perf_counter()
        result = retriever.search(query.text, k=depth, earlier=query.earlier)
        seconds += time.perf_counter() - started
        best = result.best
        top = best.confidence if best else 0.0
        tally.add(query, result)
        if query.lang is not None:
            by_lang.setdefault(query.lang, _Tally()).add(query, result)
        if not query.expected:
            out_scope_best.append(top)
        else:
            in_scope_best.append(top)
            ids = [hit.entry.id for hit in result.hits]
            rank = next((n for n, i in enumerate(ids, start=1) if i in query.expected), 0)
            found_1 += rank == 1
            found_3 += 0 < rank <= 3
            found_k += 0 < rank <= k
            reciprocal += 1 / rank if rank else 0.0
            if rank != 1 or not result.confident:
                _keep_miss(report, query, ids[0] if ids else "(no confident match)")
        if progress is not None:
            progress(count)
    n = len(in_scope_best)
    report.figures = {
        "n": n,
        "recall_at_1": _share(found_1, n),
        "recall_at_3": _share(found_3, n),
        "mrr": _share(reciprocal, n),
        "ms_per_query": round(1000 * seconds / len(queries), 3) if queries else 0.0,
        "n_out_of_scope": len(out_scope_best),
        "abstain_rate_out_of_scope": _abstain(out_scope_best, retriever.min_confidence),
        "false_abstain_rate": _abstain(in_scope_best, retriever.min_confidence),
        **tally.answered(),
        "k": k,
        f"recall_at_{k}": _share(found_k, n),
        "entries": len(retriever.entries),
        "retriever": retriever.mode,
        "min_confidence": retriever.min_confidence,
        "tradeoff": [
            {
                "min_confidence": bar,
                "abstain_rate_out_of_scope": _abstain(out_scope_best, bar),
                "false_abstain_rate": _abstain(in_scope_best, bar),
            }
            for bar in sorted({*TRADEOFF_BARS, retriever.min_confidence})
        ],
    }
    if by_lang:
        report.figures["by_lang"] = {lang: by_lang[lang].figures() for lang in sorted(by_lang)}
    return report


@dataclass
class _Tally:
    """Counts for the answered figures, overall or for one language."""

    in_scope: int = 0
    out_of_scope: int = 0
    found_1: int = 0
    found_3: int = 0
    right: int = 0
    """In-scope questions whose top entry is right and clears the bar: answered right."""
    wrong: int = 0
    """Questions whose top entry clears the bar but does not answer them: answered wrong."""

    def add(self, query: Query, result: RetrievalResult) -> None:
        ids = [hit.entry.id for hit in result.hits[:3]]
        top_right = bool(ids) and ids[0] in query.expected
        if query.expected:
            self.in_scope += 1
            self.found_1 += top_right
            self.found_3 += any(i in query.expected for i in ids)
            self.right += result.confident and top_right
        else:
            self.out_of_scope += 1
        self.wrong += result.confident and not top_right

    def answered(self) -> dict[str, float]:
        return {
            "answered_right": _share(self.right, self.in_scope),
            "answered_wrong": _share(self.wrong, self.in_scope + self.out_of_scope),
        }

    def figures(self) -> dict[str, float]:
        return {
            "n": self.in_scope,
            "n_out_of_scope": self.out_of_scope,
            "recall_at_1": _share(self.found_1, self.in_scope),
            "recall_at_3": _share(self.found_3, self.in_scope),
            **self.answered(),
        }


def _abstain(best: Sequence[float], bar: float) -> float:
    abstained = sum(1 for confidence in best if confidence < bar)
    return _share(abstained, len(best))


def _share(part: float, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _keep_miss(report: RetrievalReport, query: Query, got: str) -> None:
    if len(report.misses) < MISSES_KEPT:
        report.misses.append((query.text, ", ".join(sorted(query.expected)), got))
