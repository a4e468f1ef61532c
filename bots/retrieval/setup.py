"""Which retriever the bot builds: lexical, or fused with local embeddings when installed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bots.knowledge.files import KnowledgeEntry
from bots.knowledge.persona import MatchLevel
from bots.retrieval.embedding_cache import EmbeddingCache
from bots.retrieval.embeddings import Embedder, Progress, local_embedder
from bots.retrieval.search import Retriever

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetrievalSetup:
    """Builds every persona's retriever the same way; the default is lexical only."""

    embedder: Embedder | None = None
    cache: EmbeddingCache | None = None

    def build(
        self,
        entries: Sequence[KnowledgeEntry],
        progress: Progress | None = None,
        match: MatchLevel = "normal",
    ) -> Retriever:
        if self.embedder is not None and progress is None:
            progress = _LogProgress(len(entries))
        return Retriever(
            entries, embedder=self.embedder, cache=self.cache, match=match, progress=progress
        )


def retrieval_setup(
    semantic: bool,
    cache_dir: Path,
    load_embedder: Callable[[str], Embedder | None] = local_embedder,
    model: str = "use",
) -> RetrievalSetup:
    """Semantic retrieval with the named local model when `semantic` is on and it loads."""
    embedder = load_embedder(model) if semantic else None
    if embedder is None:
        log.info("retrieval: lexical (BM25)")
        return RetrievalSetup()
    log.info("retrieval: BM25 fused with %s embeddings, cache in %s", embedder.name, cache_dir)
    return RetrievalSetup(embedder=embedder, cache=EmbeddingCache(cache_dir))


class _LogProgress:
    """Logs embedding progress about every 10%: a large knowledge base takes minutes once."""

    def __init__(self, entries: int) -> None:
        self._entries = entries
        self._next = 0

    def __call__(self, done: int) -> None:
        if done >= self._next:
            log.info("embedding knowledge (%d entries): %d phrasings done", self._entries, done)
            self._next = done + max(1000, self._entries // 10)
