"""Benchmark: index build time and time per query of the bot's retriever, by knowledge size.

    python benchmarks/retrieval_speed.py [--sizes 1000 10000] [--queries 500]
        [--semantic [use|minilm]]
        [--cache DIR] [--pool N] [--questions QUERIES.jsonl]

With --semantic the retriever fuses sentence embeddings: USE multilingual v3 (the default
install's; `--semantic` alone) or all-MiniLM-L6-v2 (`--semantic minilm`, the bots[semantic]
extra); each size is built twice against an on-disk cache: cold (every phrasing
embedded, progress on stderr) and warm (a restart with unchanged knowledge). The cache is a
fresh temporary folder unless --cache names one: then a second run starts warm (so a cold
build can use every core and the timed run one core). --pool N draws the entries' texts
from N distinct questions, answers and phrasings: each entry still has its own five vectors,
so a question costs the same, but a cold build embeds 3 x N texts instead of 5 per entry.
--questions asks the first --queries questions of a file in the eval format (`query` per
line, e.g. ../shared/data/faq_banking77/queries.jsonl): real questions' lengths, where the
made-up ones split into many more word pieces and so cost the embedding more.

Prints one JSON object (progress on stderr). Entries are synthetic but shaped like FAQ
entries: a question, three phrasings and a two-sentence answer drawn from a 3,000-word
vocabulary, so term statistics resemble a real knowledge base rather than random noise.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bots.evals.handoff import ProgressLine, load_jsonl
from bots.knowledge.files import KnowledgeEntry
from bots.retrieval.embedding_cache import EmbeddingCache
from bots.retrieval.embeddings import Embedder
from bots.retrieval.search import Retriever


def vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(size)]


def sentence(rng: random.Random, words: list[str], n: int) -> str:
    # Zipf-like choice: a few words are common, most are rare, as in real text.
    return " ".join(words[min(int(rng.paretovariate(1.1)) - 1, len(words) - 1)] for _ in range(n))


def entries(
    n: int, rng: random.Random, words: list[str], pool: int | None = None
) -> list[KnowledgeEntry]:
    if pool is None:
        return [
            KnowledgeEntry(
                id=f"e{i}",
                question=sentence(rng, words, 8) + "?",
                answer=sentence(rng, words, 30),
                also_asked=tuple(sentence(rng, words, 6) for _ in range(3)),
            )
            for i in range(n)
        ]
    # Texts drawn from `pool` distinct ones per kind: the index still holds five vectors per
    # entry (what a question's time depends on), but a cold build embeds 3 x pool texts.
    questions = [sentence(rng, words, 8) + "?" for _ in range(pool)]
    answers = [sentence(rng, words, 30) for _ in range(pool)]
    phrasings = [sentence(rng, words, 6) for _ in range(pool)]
    return [
        KnowledgeEntry(
            id=f"e{i}",
            question=rng.choice(questions),
            answer=rng.choice(answers),
            also_asked=tuple(rng.sample(phrasings, 3)),
        )
        for i in range(n)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument(
        "--semantic",
        nargs="?",
        const="use",
        choices=("use", "minilm"),
        help="fuse sentence embeddings: use (the default install's) or minilm",
    )
    parser.add_argument("--cache", type=Path, help="keep the embedding cache in this folder")
    parser.add_argument(
        "--pool",
        type=int,
        help="draw entries' texts from this many distinct ones per kind (a cheaper cold build)",
    )
    parser.add_argument("--questions", type=Path, help="ask these questions (eval JSONL)")
    args = parser.parse_args()
    load_at_start = [round(n, 2) for n in os.getloadavg()]
    embedder: Embedder | None = None
    if args.semantic:
        from bots.retrieval.embeddings import local_embedder

        embedder = local_embedder(args.semantic)
    rng = random.Random(7)
    words = vocabulary(rng)
    rng.shuffle(words)
    results = []
    for size in args.sizes:
        print(f"building {size} entries...", file=sys.stderr)
        knowledge = entries(size, rng, words, args.pool)
        figures: dict[str, float] = {}
        with tempfile.TemporaryDirectory() as directory:
            cache = EmbeddingCache(args.cache or Path(directory)) if embedder else None
            for build_kind in ("index_build_seconds", "warm_cache_build_seconds")[
                : 2 if embedder else 1
            ]:
                progress = ProgressLine(f"{build_kind} {size}", every=1, stream=sys.stderr)
                started = time.perf_counter()
                retriever = Retriever(knowledge, embedder=embedder, cache=cache, progress=progress)
                figures[build_kind] = round(time.perf_counter() - started, 3)
                progress.close()
        if args.questions:
            rows = load_jsonl(args.questions, required={"query": str})
            questions = [row["query"] for _, row in zip(range(args.queries), rows, strict=False)]
        else:
            questions = [sentence(rng, words, rng.randint(2, 12)) for _ in range(args.queries)]
        timings = []
        cpu = []  # this thread's CPU time: what the search costs, whatever else the core runs
        for question in questions:
            t0, c0 = time.perf_counter(), time.thread_time()
            retriever.search(question, k=5)
            cpu.append((time.thread_time() - c0) * 1000)
            timings.append((time.perf_counter() - t0) * 1000)
        timings.sort()
        cpu.sort()
        results.append(
            {
                "entries": size,
                "retriever": retriever.mode,
                "distinct_texts_per_kind": args.pool,
                "questions": str(args.questions or "made-up"),
                **figures,
                "ms_per_query_p50": round(statistics.median(timings), 3),
                "ms_per_query_p99": round(timings[int(len(timings) * 0.99) - 1], 3),
                "ms_per_query_mean": round(statistics.fmean(timings), 3),
                "cpu_ms_per_query_p50": round(statistics.median(cpu), 3),
                "cpu_ms_per_query_mean": round(statistics.fmean(cpu), 3),
                "cpu_ms_per_query_p99": round(cpu[int(len(cpu) * 0.99) - 1], 3),
            }
        )
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    load = [round(n, 2) for n in os.getloadavg()]
    print(
        json.dumps(
            {
                "machine": machine,
                "load_average_at_start": load_at_start,
                "load_average": load,
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
