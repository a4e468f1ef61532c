"""The numpy BERT encoder on a tiny random model written by the test (no weights package)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

from bots.retrieval.bert import BertSentenceEncoder, _gelu

_WORDS = [
    "parking",
    "car",
    "park",
    "wifi",
    "password",
    "open",
    "hours",
    "dog",
    "vegan",
    "menu",
    "where",
    "is",
    "the",
    "my",
    "a",
]
_HIDDEN, _HEADS, _LAYERS, _INNER = 16, 4, 2, 32


def _write_model(folder: Path, seed: int = 3) -> None:
    vocab = {w: n for n, w in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", *_WORDS])}
    tokenizer = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    tokenizer.save(str(folder / "tokenizer.json"))
    config = {
        "model_type": "bert",
        "hidden_act": "gelu",
        "hidden_size": _HIDDEN,
        "num_attention_heads": _HEADS,
        "num_hidden_layers": _LAYERS,
        "intermediate_size": _INNER,
        "layer_norm_eps": 1e-12,
        "max_position_embeddings": 32,
        "vocab_size": len(vocab),
    }
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 12}))
    rng = np.random.default_rng(seed)

    def rand(*shape: int) -> np.ndarray:
        return rng.normal(0, 0.5, shape).astype(np.float32)

    weights = {
        "embeddings.word_embeddings.weight": rand(len(vocab), _HIDDEN),
        "embeddings.position_embeddings.weight": rand(32, _HIDDEN),
        "embeddings.token_type_embeddings.weight": rand(2, _HIDDEN),
        "embeddings.LayerNorm.weight": 1 + rand(_HIDDEN),
        "embeddings.LayerNorm.bias": rand(_HIDDEN),
    }
    for n in range(_LAYERS):
        at = f"encoder.layer.{n}."
        for name, (out, inp) in {
            "attention.self.query": (_HIDDEN, _HIDDEN),
            "attention.self.key": (_HIDDEN, _HIDDEN),
            "attention.self.value": (_HIDDEN, _HIDDEN),
            "attention.output.dense": (_HIDDEN, _HIDDEN),
            "intermediate.dense": (_INNER, _HIDDEN),
            "output.dense": (_HIDDEN, _INNER),
        }.items():
            weights[at + name + ".weight"] = rand(out, inp)
            weights[at + name + ".bias"] = rand(out)
        for name in ("attention.output.LayerNorm", "output.LayerNorm"):
            weights[at + name + ".weight"] = 1 + rand(_HIDDEN)
            weights[at + name + ".bias"] = rand(_HIDDEN)
    save_file(weights, str(folder / "model.safetensors"))


def _reference(folder: Path, text: str) -> np.ndarray:
    """One text through BERT written out plainly, token by token (no batching, no masks)."""
    from safetensors.numpy import load_file

    w = load_file(str(folder / "model.safetensors"))
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.enable_truncation(12)
    ids = tokenizer.encode(text).ids

    def norm(x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(axis=-1, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-12) * w[name + ".weight"] + w[name + ".bias"]

    def dense(x: np.ndarray, name: str) -> np.ndarray:
        return x @ w[name + ".weight"].T + w[name + ".bias"]

    gelu = np.vectorize(lambda v: 0.5 * v * (1 + math.erf(v / math.sqrt(2))))
    x = (
        w["embeddings.word_embeddings.weight"][ids]
        + w["embeddings.position_embeddings.weight"][: len(ids)]
    )
    x = norm(x + w["embeddings.token_type_embeddings.weight"][0], "embeddings.LayerNorm")
    size = _HIDDEN // _HEADS
    for n in range(_LAYERS):
        at = f"encoder.layer.{n}."
        q, k, v = (dense(x, at + f"attention.self.{p}") for p in ("query", "key", "value"))
        heads = []
        for h in range(_HEADS):
            cols = slice(h * size, (h + 1) * size)
            scores = q[:, cols] @ k[:, cols].T / math.sqrt(size)
            p = np.exp(scores - scores.max(axis=1, keepdims=True))
            heads.append((p / p.sum(axis=1, keepdims=True)) @ v[:, cols])
        attended = dense(np.concatenate(heads, axis=1), at + "attention.output.dense")
        x = norm(attended + x, at + "attention.output.LayerNorm")
        inner = gelu(dense(x, at + "intermediate.dense"))
        x = norm(dense(inner, at + "output.dense") + x, at + "output.LayerNorm")
    pooled = x.mean(axis=0)
    return np.asarray(pooled / np.linalg.norm(pooled))


@pytest.fixture
def model(tmp_path: Path) -> Path:
    _write_model(tmp_path)
    return tmp_path


def test_batched_vectors_match_a_plain_one_text_forward_pass(model: Path) -> None:
    texts = ["parking?", "where is the car park", "wifi password please", "dog dog dog " * 9]
    encoder = BertSentenceEncoder(model)
    batch = encoder.encode(encoder.token_ids(texts))
    for row, text in enumerate(texts):
        assert float(batch[row] @ _reference(model, text)) > 0.99999
    # Padding (the shorter texts sit in a batch padded to the longest) changes nothing.
    alone = encoder.encode(encoder.token_ids(texts[:1]))
    assert np.allclose(alone[0], batch[0], atol=1e-6)
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-6)


def test_a_model_that_is_not_bert_is_refused(model: Path) -> None:
    config = json.loads((model / "config.json").read_text())
    (model / "config.json").write_text(json.dumps({**config, "hidden_act": "relu"}))
    with pytest.raises(ValueError, match="not a BERT model"):
        BertSentenceEncoder(model)


def test_gelu_is_the_exact_erf_one() -> None:
    x = np.linspace(-6, 6, 2001, dtype=np.float32)
    exact = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x.tolist()])
    assert np.max(np.abs(_gelu(x.copy()) - exact)) < 1e-6
