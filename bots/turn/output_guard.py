"""Checks on model output before anyone sees it: hidden persona text echoed, forged markers.

A persona's `instructions`, `never_discuss` and `extra_instructions` are the author's private
brief; the prompt tells the model never to reveal them, but a model talked round by a user
(or by a poisoned knowledge entry) may still quote them. So the reply itself is checked: a
run of `LEAK_WORDS` consecutive words that also occurs in the hidden sections, and in no
text the persona or its knowledge shows users anyway, is a leak. Written by hand because
no library does this: it is a word-shingle set lookup, a few microseconds a word.

Streaming: `LeakGuard` holds back the last `LEAK_WORDS - 1` complete words (and any word
still being written), so the first word of a leaking run is never released: a leak is
seen before any of it can reach the user.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Final

from bots.knowledge.persona import Persona
from bots.markers import marker_texts

LEAK_WORDS: Final = 8
_HIDDEN_FIELDS: Final = ("instructions", "never_discuss", "extra_instructions")
_WORD = re.compile(r"\w+")

Shingle = tuple[str, ...]


def shingles(text: str, size: int = LEAK_WORDS) -> set[Shingle]:
    """Every run of `size` consecutive words of `text`, lower-cased."""
    words = [w.lower() for w in _WORD.findall(text)]
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def hidden_texts(persona: Persona) -> list[str]:
    """The persona's private sections, as the prompt shows them to the model."""
    return [persona.instructions, "\n".join(persona.never_discuss), persona.extra_instructions]


def public_texts(persona: Persona) -> list[str]:
    """Every other text of the persona: greeting, hand-off and fallback messages and so on."""
    data = persona.model_dump()
    for name in _HIDDEN_FIELDS:
        data.pop(name, None)
    return list(_strings(data))


def _strings(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


class LeakGuard:
    """Passes streamed text through, holding back just enough to stop a hidden-text quote.

    `public()` gives texts users may see anyway (knowledge shown to the model, the persona's
    own messages); it is called only when a run of words matches, so a normal turn never
    pays for it.
    """

    def __init__(self, hidden: Iterable[str], public: Callable[[], Iterable[str]]) -> None:
        self._hidden: set[Shingle] = set().union(*(shingles(t) for t in hidden))
        self._public_source = public
        self._public: set[Shingle] | None = None
        self._text = ""
        self._words: list[tuple[str, int]] = []  # complete words and where they start
        self._scanned = 0  # where the next scan starts (the start of an unfinished word)
        self._released = 0
        self.leaked = False

    def feed(self, piece: str) -> str:
        """Take more text; return the part now known to be safe to show."""
        if self.leaked:
            return ""
        self._text += piece
        self._scan(final=False)
        if self.leaked:
            return ""
        # Words before `undecided` can no longer start a leaking run; hold back the rest.
        undecided = len(self._words) - (LEAK_WORDS - 1)
        if undecided >= 0:
            cut = self._words[undecided][1]
        else:
            cut = self._words[0][1] if self._words else 0
        return self._release(max(cut, self._released))

    def flush(self) -> str:
        """The end of the stream: check the last words and release the rest if clean."""
        if self.leaked:
            return ""
        self._scan(final=True)
        return "" if self.leaked else self._release(len(self._text))

    def check(self, text: str) -> bool:
        """Whether a complete text quotes the hidden sections (for non-streamed text)."""
        return any(self._is_leak(s) for s in shingles(text) if s in self._hidden)

    def _release(self, cut: int) -> str:
        ready, self._released = self._text[self._released : cut], cut
        return ready

    def _scan(self, *, final: bool) -> None:
        for match in _WORD.finditer(self._text, self._scanned):
            if match.end() == len(self._text) and not final:
                self._scanned = match.start()  # may still grow: look at it again next time
                return
            self._words.append((match.group().lower(), match.start()))
            self._scanned = match.end()
            if len(self._words) >= LEAK_WORDS:
                run = tuple(word for word, _ in self._words[-LEAK_WORDS:])
                if run in self._hidden and self._is_leak(run):
                    self.leaked = True
                    return

    def _is_leak(self, run: Shingle) -> bool:
        if self._public is None:
            self._public = set().union(*(shingles(t) for t in self._public_source()))
        return run not in self._public


def forged_handoff(reply: str, data: Iterable[str]) -> bool:
    """Whether every hand-off marker in `reply` was copied from `data` (user or knowledge
    text): an obedient model echoing "[[handoff: …]]" from a message is not a hand-off."""
    markers = marker_texts(reply)
    if not markers:
        return False
    sources = [text.lower() for text in data]
    return all(any(marker.lower() in source for source in sources) for marker in markers)
