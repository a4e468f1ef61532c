"""Help channels: whether a top-level message there is a question the bot should answer.

In a help channel (`SLACK_HELP_CHANNELS`, `DISCORD_HELP_CHANNELS`, or the persona's
`help_channels`) the bot answers every top-level question in a new thread, without a mention,
and leaves the rest alone: greetings, thanks, "ok", and members talking to each other (a reply
to someone, a message naming another member). Adapters say which of those a message is
(`ChannelMessage`); this module decides, the same way on both platforms.

How it decides, in order (measured with `bots eval help-channel`, docs/benchmarks.md):
1. a reply to, or a mention of, another member: not for the bot;
2. nothing but greetings, thanks and acknowledgements (word lists in nine languages): no;
3. a question mark, a question word first, or words of a problem ("error", "doesn't work",
   "no funciona", "エラー"...): yes;
4. otherwise, with an embedder (the multilingual USE model the retriever already loaded), the
   nearest labelled examples decide: closer to the questions than to the chatter by a margin.
   Without one, no: staying quiet on a statement costs less than answering chatter.

Written by hand: no library classifies chat messages as support questions offline; the rules
are short word lists and the examples reuse the embedder the bot already has.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from bots.retrieval.embeddings import Embedder


@dataclass(frozen=True, slots=True)
class ChannelMessage:
    """A top-level message in a help channel, as the adapter saw it."""

    text: str
    to_someone: bool = False
    """A reply to another member's message, or it names another member (not the bot)."""


def _words(text: str) -> list[str]:
    return text.split()


# Whole messages made only of these words are chatter, in any order ("thanks a lot!", "ok cool").
_CHATTER_WORDS = frozenset(
    _words(
        """
        thanks thank thx ty tysm cheers ok okay k kk cool nice great awesome perfect lol haha
        hahaha hi hello hey heya yo morning gm gn night bye cya welcome np sure yes yeah yep yup
        no nope got it good you so much a lot again all guys everyone folks there team and
        sounds lgtm done works worked now wow amazing brilliant excellent fine alright right
        indeed agreed happy friday monday weekend have day evening afternoon the very much for
        help appreciated gracias hola buenas buenos dias días tardes noches vale genial perfecto
        muchas adiós chao sí merci bonjour bonsoir salut coucou beaucoup parfait super génial
        top ok d'accord oui non danke hallo moin servus tschüss vielen dank super prima genau
        alles klar ja nein gut obrigado obrigada olá oi bom dia tarde noite valeu beleza ótimo
        perfeito tchau sim não grazie ciao buongiorno buonasera perfetto ottimo mille sì bedankt
        dank je wel hoi hallo goedemorgen prima top ja nee
        """
    )
)
_CHATTER_PHRASES = (
    "ありがとう", "ありがとうございます", "ありがとうございました", "こんにちは", "おはよう",
    "おはようございます", "こんばんは", "了解", "了解です", "わかりました", "よろしく",
    "よろしくお願いします", "お疲れ様です", "助かりました", "谢谢", "谢谢你", "多谢", "感谢",
    "你好", "大家好", "好的", "收到", "明白了", "早上好", "晚安", "再见", "没问题",
)  # fmt: skip
_QUESTION_MARKS = ("?", "？", "¿")
_QUESTION_FIRST_WORDS = frozenset(
    _words(
        """
        how what why where when which who whom whose can could is are does do did will would
        should may might any anyone anybody has have was were shall cómo como qué que por dónde
        donde cuándo cuando cuál cual cuánto quién puedo puede pueden hay alguien es son tengo
        comment pourquoi où quand quel quelle quels quelles combien qui est-ce peut puis-je est
        y-a-t-il wie was warum wo wann welche welcher welches wer kann könnt können gibt ist
        sind hat habt muss onde quando qual quais quanto quem posso pode existe tem perché dove
        quale chi posso può c'è hoe wat waarom waar wanneer welke wie kan kunnen is zijn heeft
        """
    )
)
_PROBLEM_WORDS = re.compile(
    r"\b(?:error|errors|not working|doesn'?t work|does not work|don'?t work|won'?t|isn'?t"
    r"|can'?t|cannot|unable|broken|broke|issue|issues|problem|problems|fail|fails|failed"
    r"|failing|crash|crashes|crashed|stuck|bug|help|wrong|missing|refund|charged"
    r"|no funciona|no puedo|no me deja|problema|ayuda|fallo|falla"
    r"|erreur|ne marche pas|ne fonctionne pas|problème|aide|impossible|bug"
    r"|fehler|funktioniert nicht|geht nicht|kann nicht|hilfe|problem"
    r"|não funciona|não consigo|erro|ajuda|non funziona|non riesco|errore|aiuto"
    r"|werkt niet|fout|probleem|lukt niet)\b",
    re.IGNORECASE,
)
_PROBLEM_CJK = (
    "エラー", "できません", "できない", "動かない", "動きません", "教えて", "方法", "どう",
    "なぜ", "ですか", "ますか", "でしょうか", "失敗", "表示されない", "届かない",
    "错误", "不能", "无法", "怎么", "如何", "为什么", "吗", "问题", "失败", "报错", "请问",
)  # fmt: skip
# Thanks first, then at most a word of help: "thanks for the help", "muchas gracias por la ayuda".
_THANKS_FIRST = frozenset(
    _words(
        """
        thanks thank thx ty cheers gracias muchas merci danke vielen obrigado obrigada grazie
        bedankt
        """
    )
)
_HELP_WORDS = re.compile(r"\b(?:help|ayuda|aide|hilfe|ajuda|aiuto)\b", re.IGNORECASE)
# Small talk to the room that asks nothing of support.
_SMALL_TALK = re.compile(
    r"^(?:how(?:'s| is| are) (?:every(?:one|body)|you all|y'?all|it going)|what'?s up|sup)\b",
    re.IGNORECASE,
)
_MENTION_OR_LINK = re.compile(r"<[@#!][^>]*>|https?://\S+")
_WORD = re.compile(r"[\w'-]+", re.UNICODE)
_HAS_CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")

# The examples the embedder compares with, when the rules do not decide (a few per language).
QUESTION_EXAMPLES = (
    "I'm trying to connect my account but the page keeps loading forever",
    "my invoice shows the wrong amount",
    "looking for a way to export all my data",
    "the app logs me out every few minutes",
    "need to change the email on my account",
    "mi pedido no ha llegado todavía",
    "quiero cambiar mi contraseña",
    "je n'arrive pas à me connecter depuis ce matin",
    "ich komme nicht mehr in mein Konto",
    "não recebo o código de confirmação",
    "パスワードを変更したいです",
    "我想修改我的邮箱地址",
)
CHATTER_EXAMPLES = (
    "thanks, that fixed it",
    "good morning everyone",
    "haha nice one",
    "same here",
    "I agree with you",
    "just restarted and it works now",
    "see you all tomorrow",
    "welcome to the server!",
    "gracias por la ayuda",
    "merci à tous",
    "danke für die schnelle Antwort",
    "皆さん、おはようございます",
    "谢谢大家的帮助",
)
MIN_MARGIN = 0.04
MIN_WORDS_FOR_EXAMPLES = 4


class QuestionDetector:
    """Whether a help channel's top-level message is a question for the bot (see the module)."""

    def __init__(
        self,
        embedder: Embedder | None = None,
        *,
        questions: Sequence[str] = QUESTION_EXAMPLES,
        chatter: Sequence[str] = CHATTER_EXAMPLES,
        min_margin: float = MIN_MARGIN,
    ) -> None:
        self._embedder = embedder
        self._examples = (tuple(questions), tuple(chatter))
        self._min_margin = min_margin
        self._vectors: tuple[np.ndarray, np.ndarray] | None = None
        self._lock = threading.Lock()

    def __call__(self, message: ChannelMessage) -> bool:
        if message.to_someone:
            return False
        decided = rule_decision(message.text)
        if decided is not None:
            return decided
        return self._like_the_questions(message.text)

    def _like_the_questions(self, text: str) -> bool:
        cleaned = _clean(text)
        words = _WORD.findall(cleaned)
        long_enough = len(words) >= MIN_WORDS_FOR_EXAMPLES or (
            _HAS_CJK.search(cleaned) is not None and len(cleaned) >= 6
        )
        if self._embedder is None or not long_enough:
            return False
        questions, chatter = self._example_vectors()
        vector = self._embedder.embed([cleaned])[0]
        closest_question = float(np.max(questions @ vector))
        closest_chatter = float(np.max(chatter @ vector))
        return closest_question - closest_chatter >= self._min_margin

    def _example_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            if self._vectors is None:
                assert self._embedder is not None
                questions, chatter = self._examples
                self._vectors = (
                    self._embedder.embed(list(questions)),
                    self._embedder.embed(list(chatter)),
                )
            return self._vectors


def rule_decision(text: str) -> bool | None:
    """The rules' answer: True a question, False chatter, None undecided."""
    cleaned = _clean(text)
    if not cleaned:
        return False
    bare = cleaned.rstrip("!！.。~ ")
    if bare in _CHATTER_PHRASES or any(
        bare.startswith(p) and len(bare) <= len(p) + 3 for p in _CHATTER_PHRASES
    ):
        return False
    words = [w.lower() for w in _WORD.findall(cleaned)]
    if words and all(word in _CHATTER_WORDS for word in words) and len(words) <= 8:
        return False
    if _SMALL_TALK.match(cleaned):
        return False
    if words and words[0] in _THANKS_FIRST and not any(m in cleaned for m in _QUESTION_MARKS):
        rest = _HELP_WORDS.sub(" ", cleaned)
        if not _PROBLEM_WORDS.search(rest):
            return False
    if any(mark in cleaned for mark in _QUESTION_MARKS):
        return True
    if words and words[0] in _QUESTION_FIRST_WORDS and len(words) >= 3:
        return True
    if _PROBLEM_WORDS.search(cleaned) or any(p in cleaned for p in _PROBLEM_CJK):
        return True
    return None


def _clean(text: str) -> str:
    """The text without mentions, links, emoji and symbols, in one line."""
    text = _MENTION_OR_LINK.sub(" ", text)
    kept = "".join(ch for ch in text if not unicodedata.category(ch).startswith(("So", "Sk", "Cs")))
    kept = re.sub(r":[a-z0-9_+-]+:", " ", kept)  # :emoji: codes
    return " ".join(kept.split())


class HelpChannels:
    """Which channels are help channels on one platform, and whether a top-level message
    there is for the bot. Built once from the settings and the personas (app wiring)."""

    def __init__(self, channels: Iterable[str], detector: Callable[[ChannelMessage], bool]):
        self.channels = frozenset(channels)
        self._detector = detector

    def __contains__(self, channel: object) -> bool:
        return channel in self.channels

    def answers(self, channel: str, message: ChannelMessage) -> bool:
        """Whether the bot answers this top-level message of `channel` without a mention."""
        return channel in self.channels and self._detector(message)
