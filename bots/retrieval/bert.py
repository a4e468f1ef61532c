"""A BERT sentence encoder run in numpy: weights from safetensors, tokens from HF tokenizers.

Written by hand because no well-kept library runs a BERT forward pass without a deep-learning
runtime: sentence-transformers needs PyTorch (about 1.3 GB), and ONNX Runtime needs an ONNX
export, which the weights package does not ship. The forward pass of a 6-layer encoder is a few
dozen matrix products, and numpy's BLAS does those as fast as PyTorch on one core for the
short texts a support bot sees (docs/benchmarks.md). It reproduces sentence-transformers'
vectors (mean pooling, then unit length) to a cosine similarity of 0.99999 or better, which a
test checks wherever PyTorch is installed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

# Abramowitz & Stegun 7.1.26: erf to within 1.5e-7, below float32's own rounding at these
# magnitudes. numpy has no erf, and BERT's GELU is the exact (erf) one, not the tanh fit.
_ERF_P = 0.3275911
_ERF_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


@dataclass(frozen=True, slots=True)
class _Layer:
    qkv: np.ndarray  # (3 * hidden, hidden): query, key and value in one product
    qkv_bias: np.ndarray
    attention_out: np.ndarray
    attention_out_bias: np.ndarray
    attention_norm: tuple[np.ndarray, np.ndarray]
    up: np.ndarray
    up_bias: np.ndarray
    down: np.ndarray
    down_bias: np.ndarray
    output_norm: tuple[np.ndarray, np.ndarray]


class BertSentenceEncoder:
    """A sentence-transformers BERT model folder (config.json, model.safetensors, tokenizer.json)
    turned into mean-pooled, unit-length sentence vectors."""

    def __init__(self, folder: Path, max_tokens: int | None = None) -> None:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        if config.get("hidden_act") != "gelu" or config.get("model_type") != "bert":
            raise ValueError(f"{folder} is not a BERT model with GELU activations")
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config["layer_norm_eps"])
        if max_tokens is None:
            sentence_config = folder / "sentence_bert_config.json"
            max_tokens = int(json.loads(sentence_config.read_text())["max_seq_length"])
        self.max_tokens = min(max_tokens, int(config["max_position_embeddings"]))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_tokens)
        self.tokenizer.no_padding()  # batches are padded here, to their own longest text
        weights = load_file(str(folder / "model.safetensors"))
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in weights else ""

        def get(name: str) -> np.ndarray:
            return np.ascontiguousarray(weights[prefix + name], dtype=np.float32)

        def linear(name: str) -> tuple[np.ndarray, np.ndarray]:
            # Kept as torch stores it, (out, in), with activations as columns: W @ X is about
            # twice as fast as X @ W.T in OpenBLAS for the few tokens of a question.
            return get(name + ".weight"), get(name + ".bias")[:, None]

        def norm(name: str) -> tuple[np.ndarray, np.ndarray]:
            return get(name + ".weight")[:, None], get(name + ".bias")[:, None]

        self.words = get("embeddings.word_embeddings.weight")
        self.positions = get("embeddings.position_embeddings.weight")
        # Every text is one segment: token type 0 throughout.
        self.segment = get("embeddings.token_type_embeddings.weight")[0]
        self.embedding_norm = norm("embeddings.LayerNorm")
        self.layers: list[_Layer] = []
        for n in range(int(config["num_hidden_layers"])):
            at = f"encoder.layer.{n}."
            parts = [linear(at + f"attention.self.{p}") for p in ("query", "key", "value")]
            self.layers.append(
                _Layer(
                    qkv=np.ascontiguousarray(np.concatenate([w for w, _ in parts])),
                    qkv_bias=np.concatenate([b for _, b in parts]),
                    attention_out=linear(at + "attention.output.dense")[0],
                    attention_out_bias=linear(at + "attention.output.dense")[1],
                    attention_norm=norm(at + "attention.output.LayerNorm"),
                    up=linear(at + "intermediate.dense")[0],
                    up_bias=linear(at + "intermediate.dense")[1],
                    down=linear(at + "output.dense")[0],
                    down_bias=linear(at + "output.dense")[1],
                    output_norm=norm(at + "output.LayerNorm"),
                )
            )
        self.dimension = int(self.words.shape[1])

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        return [encoding.ids for encoding in self.tokenizer.encode_batch(list(texts))]

    def encode(self, ids: Sequence[Sequence[int]]) -> np.ndarray:
        """Unit-length sentence vectors (float32) for token-id lists of one batch."""
        longest = max((len(row) for row in ids), default=0)
        if longest == 0:
            return np.zeros((len(ids), self.dimension), dtype=np.float32)
        tokens = np.zeros((len(ids), longest), dtype=np.int64)
        mask = np.zeros((len(ids), longest), dtype=np.float32)
        for row, token_row in enumerate(ids):
            tokens[row, : len(token_row)] = token_row
            mask[row, : len(token_row)] = 1.0
        # Hidden states are columns: (hidden, batch * longest), one column per token.
        x = (self.words[tokens] + self.positions[:longest]).reshape(-1, self.dimension).T
        x = self._layer_norm(x + self.segment[:, None], self.embedding_norm)
        # Padding is kept out of attention by a large negative score on its keys.
        blocked = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        for layer in self.layers:
            x = self._layer(x, layer, blocked)
        hidden = x.reshape(self.dimension, len(ids), longest)
        pooled = (hidden * mask).sum(axis=2).T / mask.sum(axis=1, keepdims=True)
        lengths = np.linalg.norm(pooled, axis=1, keepdims=True)
        vectors: np.ndarray = pooled / np.maximum(lengths, 1e-12)
        return vectors.astype(np.float32, copy=False)

    def _layer(self, x: np.ndarray, layer: _Layer, blocked: np.ndarray) -> np.ndarray:
        hidden, columns = x.shape
        batch, length = blocked.shape[0], blocked.shape[-1]
        size = hidden // self.heads
        qkv = layer.qkv @ x
        qkv += layer.qkv_bias
        # (3, heads, size, batch, length) -> three arrays of (batch, heads, length, size)
        q, k, v = qkv.reshape(3, self.heads, size, batch, length).transpose(0, 3, 1, 4, 2)
        scores = (q @ k.transpose(0, 1, 3, 2)) * np.float32(1.0 / math.sqrt(size)) + blocked
        scores -= scores.max(axis=-1, keepdims=True)
        weights = np.exp(scores, out=scores)
        weights /= weights.sum(axis=-1, keepdims=True)
        # (batch, heads, length, size) -> (heads, size, batch, length) -> columns again
        context = (weights @ v).transpose(1, 3, 0, 2).reshape(hidden, columns)
        attended = layer.attention_out @ context
        attended += layer.attention_out_bias
        attended += x
        x = self._layer_norm(attended, layer.attention_norm)
        inner = layer.up @ x
        inner += layer.up_bias
        out = layer.down @ _gelu(inner)
        out += layer.down_bias
        out += x
        return self._layer_norm(out, layer.output_norm)

    def _layer_norm(self, x: np.ndarray, norm: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        centred: np.ndarray = x - x.mean(axis=0, keepdims=True)
        spread = np.einsum("ij,ij->j", centred, centred)[None, :]
        spread /= np.float32(len(x))
        spread += np.float32(self.eps)
        np.sqrt(spread, out=spread)
        centred /= spread
        scale, shift = norm
        centred *= scale
        centred += shift
        return centred


def _gelu(x: np.ndarray) -> np.ndarray:
    """x * Phi(x), with Phi from erf (the exact GELU that BERT was trained with), in place.

    Written as in-place steps: on a batch's (1536, tokens) array the temporaries of the plain
    formula cost more than the matrix products around it.
    """
    z = np.abs(x)
    z *= np.float32(1.0 / math.sqrt(2.0))
    t = z * np.float32(_ERF_P)
    t += 1.0
    np.reciprocal(t, out=t)
    a1, a2, a3, a4, a5 = (np.float32(a) for a in _ERF_A)
    tail: np.ndarray = t * a5  # erfc(z) = polynomial(t) * exp(-z^2), for z >= 0
    for a in (a4, a3, a2, a1):
        tail += a
        tail *= t
    np.square(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    tail *= z
    tail *= np.float32(0.5)  # now 1 - Phi(|x|) = Phi(-|x|)
    np.subtract(np.float32(1.0), tail, out=tail, where=x >= 0)
    tail *= x
    return tail
