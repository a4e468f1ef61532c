"""Benchmark: the bot's retriever with each embedder, against plain BM25, on labelled FAQ sets.

    python benchmarks/retrieval_models.py --set ../shared/data/faq_stackfaq \
        [--set DIR ...] [--models bm25 lexical use minilm] [--cache DIR]

A set is a folder with `faq.jsonl` and `queries.jsonl` (the shared format; `split: train`
rows become phrasings when the set has a split). `bm25` is the baseline of the data's README
(bm25s over question + answer + train phrasings as one document, English stemming); `lexical`
is the bot with BOTS_SEMANTIC=off; `use` the default install (USE multilingual v3 fused with
the lexical ranking); `minilm` the `semantic` extra. Prints one JSON object; progress on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
import Stemmer

from bots.evals import retrieval as ev
from bots.evals.handoff import ProgressLine, load_jsonl
from bots.knowledge.files import KnowledgeEntry
from bots.retrieval.embedding_cache import EmbeddingCache
from bots.retrieval.embeddings import Embedder


def plain_bm25(entries: list[KnowledgeEntry], queries: list[ev.Query]) -> dict[str, Any]:
    stemmer = Stemmer.Stemmer("english")
    documents = [" ".join((*e.phrasings, e.answer)) for e in entries]
    index = bm25s.BM25()
    index.index(bm25s.tokenize(documents, stopwords="en", stemmer=stemmer, show_progress=False))
    scored = [q for q in queries if q.expected]
    found = {1: 0, 3: 0}
    for query in scored:
        tokens = bm25s.tokenize([query.text], stopwords="en", stemmer=stemmer, show_progress=False)
        scores = index.get_scores(_words(tokens)) if tokens.vocab else np.zeros(len(entries))
        ids = [entries[i].id for i in np.argsort(-scores)]
        rank = next((n for n, i in enumerate(ids[:3], start=1) if i in query.expected), 0)
        found[1] += rank == 1
        found[3] += 0 < rank <= 3
    n = len(scored)
    return {"recall_at_1": round(found[1] / n, 4), "recall_at_3": round(found[3] / n, 4)}


def _words(tokens: Any) -> list[str]:
    reverse = {v: k for k, v in tokens.vocab.items()}
    return [reverse[t] for t in tokens.ids[0]]


def embedder_for(model: str) -> Embedder | None:
    if model == "use":
        from bots.retrieval.embeddings import UniversalSentenceEncoderEmbedder

        return UniversalSentenceEncoderEmbedder()
    if model == "minilm":
        from bots.retrieval.embeddings import MiniLMEmbedder

        return MiniLMEmbedder()
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", type=Path, action="append", required=True, dest="sets")
    parser.add_argument("--models", nargs="+", default=["bm25", "lexical", "use", "minilm"])
    parser.add_argument("--cache", type=Path, help="keep the embedding cache in this folder")
    args = parser.parse_args()
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as directory:
        cache = EmbeddingCache(args.cache or Path(directory))
        for model in args.models:
            embedder = embedder_for(model)
            for folder in args.sets:
                faq = ev.faq_entries(load_jsonl(folder / "faq.jsonl", required=ev.FAQ_FIELDS))
                rows = list(load_jsonl(folder / "queries.jsonl", required=ev.QUERY_FIELDS))
                split = any("split" in row for row in rows)
                entries, queries = ev.split_queries(rows, faq, train_as_phrasings=split)
                print(f"{model} on {folder.name}...", file=sys.stderr)
                if model == "bm25":
                    figures = plain_bm25(entries, queries)
                else:
                    from bots.retrieval.search import Retriever

                    retriever = Retriever(entries, embedder=embedder, cache=cache)
                    progress = ProgressLine(f"{model} {folder.name}", every=200, stream=sys.stderr)
                    report = ev.evaluate_retrieval(retriever, queries, progress=progress)
                    progress.close()
                    figures = {k: v for k, v in report.figures.items() if k != "tradeoff"}
                results.setdefault(folder.name, {})[model] = figures
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
