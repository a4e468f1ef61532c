"""Cleaning model text before anyone sees it: citation markers out, mass mentions defused."""

from __future__ import annotations

import re
from collections.abc import Collection

_MARKER = re.compile(r"\s*\[([A-Za-z0-9][A-Za-z0-9_.:#/ ,-]{0,200})\]")
_MASS_MENTION = re.compile(r"@(everyone|here|channel)\b", re.IGNORECASE)
# `<!here>`, `<!channel>`, `<!subteam^..>` (Slack) and `<@123>`, `<@&456>` (Slack/Discord users
# and roles): breaking the token keeps the text readable but makes it inert on every platform.
_MENTION_MARKUP = re.compile(r"<([!@#])")
_ZERO_WIDTH_SPACE = "\u200b"


def neutralise_mentions(text: str) -> str:
    text = _MASS_MENTION.sub(lambda m: "@" + _ZERO_WIDTH_SPACE + m.group(1), text)
    return _MENTION_MARKUP.sub(lambda m: "<" + _ZERO_WIDTH_SPACE + m.group(1), text)


def strip_citations(text: str, known_ids: Collection[str]) -> tuple[str, tuple[str, ...]]:
    """Remove `[id]` / `[id1, id2]` markers naming known entries; return the ids in order."""
    cited: list[str] = []

    def replace(match: re.Match[str]) -> str:
        ids = [part.strip() for part in match.group(1).split(",")]
        if not ids or not all(i in known_ids for i in ids):
            return match.group(0)
        cited.extend(i for i in ids if i not in cited)
        return ""

    return _MARKER.sub(replace, text), tuple(cited)


def clean_reply(text: str, known_ids: Collection[str]) -> tuple[str, tuple[str, ...]]:
    stripped, cited = strip_citations(text, known_ids)
    return neutralise_mentions(stripped), cited


class StreamCleaner:
    """Applies `clean_reply` to a stream so that the pieces add up to the cleaned whole.

    It only releases text up to a point where no marker or mention can still be forming:
    before the last whitespace, and before an unclosed `[`.
    """

    def __init__(self, known_ids: Collection[str]) -> None:
        self._known = known_ids
        self._pending = ""

    def feed(self, piece: str) -> str:
        self._pending += piece
        cut = _safe_cut(self._pending)
        ready, self._pending = self._pending[:cut], self._pending[cut:]
        return clean_reply(ready, self._known)[0] if ready else ""

    def flush(self) -> str:
        ready, self._pending = self._pending, ""
        return clean_reply(ready, self._known)[0] if ready else ""


def _safe_cut(text: str) -> int:
    """The end of the longest prefix that ends before whitespace and has no unclosed `[`."""
    position = len(text)
    while position > 0:
        position = max(text.rfind(" ", 0, position), text.rfind("\n", 0, position))
        if position <= 0:
            return 0
        while position > 0 and text[position - 1].isspace():
            position -= 1
        if not _open_bracket(text[:position]):
            return position
    return 0


def _open_bracket(text: str) -> bool:
    opened = text.rfind("[")
    return opened > text.rfind("]") and len(text) - opened <= 220
