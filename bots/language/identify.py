"""Which language a chat message is written in, offline, from the message alone."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

# The languages told apart: those with built-in messages and those the hand-off detector
# has examples for; a message in any other language is read as the nearest of these.
IDENTIFIED = (
    "en",
    "es",
    "fr",
    "de",
    "pt",
    "it",
    "nl",
    "ja",
    "zh",
    "ko",
    "ru",
    "pl",
    "tr",
    "sv",
    "ar",
)

# Scripts that name their language outright: no statistics needed, and a statistical model
# trained on longer text is least sure of exactly these short CJK messages.
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
# Below this many letters a Latin-script message ("ok", "refund?", "hi") says too little to
# tell English from Dutch or Italian; the persona's default language is the honest guess.
MIN_LETTERS = 8
# Words that alone say the language of a short reply ("non merci", "no gracias", "nee hoor"):
# below MIN_LETTERS a statistical guess is noise, and these are what short replies are made of.
# Words shared by languages ("no": en, es, it) are left out.
_TELLTALE = {
    word: language
    for language, words in {
        "es": "gracias vale claro porfa sí",
        "fr": "non merci oui ouais bonjour salut",
        "de": "nein danke bitte gerne genau hallo",
        "pt": "não obrigado obrigada sim",
        "it": "grazie prego certo ciao",
        "nl": "nee bedankt hoor graag",
        "sv": "nej tack",
        "pl": "nie dziękuję tak",
        "tr": "hayır teşekkürler evet",
        "ru": "нет спасибо да",
    }.items()
    for word in words.split()
}
_WORD = re.compile(r"\w+", re.UNICODE)
# py3langid's normalised probability; under this, the guess is no better than the default.
MIN_CONFIDENCE = 0.6


class LanguageIdentifier:
    """Guesses the language of a message among `languages`, or says `default`.

    Backed by py3langid (langid.py's model in numpy, shipped in the wheel: nothing is
    downloaded). It was chosen over lingua-language-detector after both were compared on short
    chat messages in 16 languages (docs/benchmarks.md): the same 35 of 40 right, but py3langid
    loads in a fraction of a second from a 4.6 MB wheel and takes 0.06 ms a message, where
    lingua's 96 MB wheel takes 8 s to load its models and 1.2 ms a message.
    """

    def __init__(self, languages: Iterable[str] = IDENTIFIED, default: str = "en") -> None:
        self.languages = tuple(languages)
        self.default = default
        self._model: Any = None  # loaded by the first message that needs statistics

    def identify(self, text: str) -> str:
        """A language code from `languages`; `default` when the text does not say."""
        sample = text[:500]
        if _KANA.search(sample):
            return self._pick("ja")
        if _HANGUL.search(sample):
            return self._pick("ko")
        if _HAN.search(sample):
            return self._pick("zh")
        if len(_LETTERS.findall(sample)) < MIN_LETTERS * 2:
            words = _WORD.findall(sample.casefold())
            for word in words:
                if word in _TELLTALE:
                    return self._pick(_TELLTALE[word])
            if len(_LETTERS.findall(sample)) < MIN_LETTERS:
                return self.default
        if self._model is None:
            self._model = _model_for(self.languages)
        language, confidence = self._model.classify(sample)
        return self._pick(str(language)) if confidence >= MIN_CONFIDENCE else self.default

    def _pick(self, language: str) -> str:
        return language if language in self.languages else self.default


@cache
def _model_for(languages: tuple[str, ...]) -> Any:
    """py3langid's model limited to `languages`, loaded once per process for each set.

    Loading it (an LZMA-compressed file) takes about 0.45 s of CPU; the bot's reply language
    and the hand-off detector each hold an identifier, and they share this one model.
    """
    import py3langid
    from py3langid.langid import MODEL_FILE
    from py3langid.langid import LanguageIdentifier as _Model

    model_path = Path(py3langid.__file__).parent / MODEL_FILE
    model = _Model.from_modelpath(model_path, norm_probs=True)
    model.set_languages(list(languages))
    return model
