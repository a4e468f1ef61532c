"""An on-disk cache of sentence vectors, so a restart does not re-embed unchanged knowledge."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bots.retrieval.embeddings import Embedder, Progress

log = logging.getLogger(__name__)

# Bump when the way vectors are made changes (text preparation, pooling, normalisation).
CODE_VERSION = "1"
_DIGEST_BYTES = 16


class EmbeddingCache:
    """Knowledge vectors kept per text, keyed by the text's hash, the model and CODE_VERSION.

    One file per model and code version holds every text seen, so editing one FAQ entry
    re-embeds that entry's phrasings only. Files are replaced atomically: a crash mid-write
    leaves the old file, and two processes writing at once cost a cache miss, never a bad
    vector. An unreadable file is treated as empty (and logged), never as an error.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, embedder: Embedder) -> Path:
        safe_name = "".join(c if c.isalnum() or c in "-_." else "_" for c in embedder.name)
        return self.directory / f"{safe_name}-v{CODE_VERSION}.npz"

    def vectors(
        self, embedder: Embedder, texts: Sequence[str], progress: Progress | None = None
    ) -> np.ndarray:
        """The vectors of `texts`, embedding (and storing) only those not cached yet.

        Only knowledge goes here: people's questions are never written to disk.
        """
        path = self.path(embedder)
        keys = [_digest(text) for text in texts]
        known = self._load(path)
        missing = list(dict.fromkeys(k for k in keys if k not in known))
        if missing:
            log.info("embedding %d new knowledge texts (%d cached)", len(missing), len(known))
            by_key = dict(zip(keys, texts, strict=True))
            fresh = embedder.embed([by_key[k] for k in missing], progress)
            known.update(zip(missing, fresh, strict=True))
            self._save(path, known)
        if progress is not None:
            progress(len(texts))
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([known[k] for k in keys]).astype(np.float32, copy=False)

    def _load(self, path: Path) -> dict[bytes, np.ndarray]:
        try:
            with np.load(path, allow_pickle=False) as data:
                keys, vectors = data["keys"], data["vectors"]
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError) as exc:
            log.warning("ignoring unreadable embedding cache %s (%s)", path, exc)
            return {}
        if keys.ndim != 2 or keys.shape[1] != _DIGEST_BYTES or len(keys) != len(vectors):
            log.warning("ignoring malformed embedding cache %s", path)
            return {}
        return {key.tobytes(): vector for key, vector in zip(keys, vectors, strict=True)}

    def _save(self, path: Path, known: dict[bytes, np.ndarray]) -> None:
        keys = np.frombuffer(b"".join(known), dtype=np.uint8).reshape(-1, _DIGEST_BYTES)
        vectors = np.stack(list(known.values())).astype(np.float32)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.directory, suffix=".npz.tmp")
        except OSError as exc:  # a read-only disk costs the next start time, not the answer
            log.warning("could not write embedding cache %s (%s)", path, exc)
            return
        try:
            with os.fdopen(handle, "wb") as file:
                np.savez(file, keys=keys, vectors=vectors)
            os.replace(temporary, path)
        except OSError as exc:
            Path(temporary).unlink(missing_ok=True)
            log.warning("could not write embedding cache %s (%s)", path, exc)


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=_DIGEST_BYTES).digest()
