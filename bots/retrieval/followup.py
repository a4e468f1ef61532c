"""Reading a follow-up with the conversation: which earlier messages join it, and how much."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# A new message of at most SHORT_WORDS words is read with the earlier ones: "which days?",
# "and the desserts?", "is it free?" name no topic of their own. A longer one stands alone.
# Measured with `bots eval retrieval` on evals/*/followups.jsonl (docs/benchmarks.md): joining
# only short messages kept the topic switches right, joining always cost them.
SHORT_WORDS = 6
# The message before the new one counts at EARLIER_WEIGHT against the new one's 1, and each
# older one at DECAY times the next newer: the newest words say what is asked now.
EARLIER_WEIGHT = 0.8
DECAY = 0.5
MAX_EARLIER = 2
# Words, for counting: a run of letters or digits, and in Chinese and Japanese (no spaces)
# about two characters to a word.
_WORD = re.compile(r"[^\W\d_]+|\d+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


# A short message that opens with one of these carries on from the one before ("and the
# toilets?", "what about on the terrace?", "¿y los postres?"), however well it matches an
# entry alone: it is never read as a question of its own. In the languages with built-in
# messages; elsewhere the length rule alone decides.
_CONTINUES = re.compile(
    r"^\W*(?:and|or|also|plus|but|what about|how about|and what about|"
    r"y|o|también|qué tal|et|ou|aussi|und|oder|auch|was ist mit|e|ou|também|anche|"
    r"en|of|ook|wat dan met)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Part:
    text: str
    weight: float


def question_parts(question: str, earlier: Sequence[str]) -> tuple[Part, ...]:
    """The texts to search with and their weights: the question first, at weight 1."""
    parts = [Part(question, 1.0)]
    if not earlier or word_count(question) > SHORT_WORDS:
        return tuple(parts)
    weight = EARLIER_WEIGHT
    for text in reversed(earlier[-MAX_EARLIER:]):
        if text.strip():
            parts.append(Part(text, weight))
        weight *= DECAY
    return tuple(parts)


def continues(question: str) -> bool:
    """Whether `question` opens with a word that carries on from the message before."""
    return _CONTINUES.match(question) is not None


def is_follow_up(question: str, earlier: Sequence[str]) -> bool:
    """Whether `question` is read with the earlier messages (short, with some before it)."""
    return len(question_parts(question, earlier)) > 1


def word_count(text: str) -> int:
    cjk = len(_CJK.findall(text))
    return len(_WORD.findall(_CJK.sub(" ", text))) + (cjk + 1) // 2
