"""Cleaning model text before anyone sees it: citation markers out, mass mentions defused,
links to hosts nobody vetted shown as plain text."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from urllib.parse import urlsplit

from bots.markers import strip_markers

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


LinkCheck = Callable[[str], bool]
"""Whether a link's URL goes to a vetted host (`bots.turn.link_hosts` decides)."""


def no_link_vetted(url: str) -> bool:
    """The safe default: no host is vetted, every link shows its address as plain text."""
    return False


# Links as a model may write them, for Discord's and Slack's Markdown and for Slack's mrkdwn.
# Code (fenced or inline) is left alone: no platform makes a link of it.
_CODE = re.compile(r"(```.*?(?:```|$)|`[^`\n]+`)", re.DOTALL)
_URL = r"https?://[^\s<>()\[\]`|\x00]+"
_MARKDOWN_LINK = re.compile(r"\[([^\[\]\n]*)\]\(\s*<?(" + _URL + r")>?(?:\s+\"[^\"\n]*\")?\s*\)")
_SLACK_LINK = re.compile(r"<(" + _URL + r")\|([^<>\n]*)>")
_AUTOLINK = re.compile(r"<(" + _URL + r")>")
_BARE_URL = re.compile(_URL)
_TRAILING = ".,;:!?'\"*_~"
_HELD = re.compile("\x00(\\d+)\x00")


def find_urls(text: str) -> list[str]:
    """The http(s) URLs in `text`, in any of the forms `defuse_links` reads."""
    return [match.group(0).rstrip(_TRAILING) for match in _BARE_URL.finditer(text)]


def defuse_links(text: str, vetted: LinkCheck) -> str:
    """Every link whose host `vetted` refuses shown as plain text with its address visible.

    `[label](url)` and Slack's `<url|label>` become `label (`url`)`; an autolink `<url>` and
    a bare URL become `` `url` `` (code: no platform makes a link of it, so the address is
    what the user reads, and Slack's and Discord's own previews stay off). A URL's
    `user@` part, the classic way to make `https://bank.example@evil.example` read as the
    bank, is dropped from what is shown. Links to vetted hosts stay links; a Slack-form one
    becomes Markdown, which both adapters render.

    Written by hand: Markdown libraries parse links to render them, none rewrites model
    text by a host policy, and the Slack `<url|label>` form is no Markdown at all.
    """
    text = text.replace("\x00", "\ufffd")
    parts = _CODE.split(text)
    return "".join(p if i % 2 else _defuse_prose(p, vetted) for i, p in enumerate(parts))


def _defuse_prose(text: str, vetted: LinkCheck) -> str:
    held: list[str] = []

    def hold(shown: str) -> str:
        held.append(shown)
        return f"\x00{len(held) - 1}\x00"

    def plain(url: str) -> str:
        return hold(f"`{_without_userinfo(url)}`")

    def markdown(match: re.Match[str]) -> str:
        label, url = match.group(1), match.group(2)
        if vetted(url):
            return hold(match.group(0))
        return f"{label} ({plain(url)})" if label.strip() else plain(url)

    def slack(match: re.Match[str]) -> str:
        url, label = match.group(1), match.group(2)
        if vetted(url):
            return hold(f"[{label}]({url})") if label.strip() else hold(f"<{url}>")
        return f"{label} ({plain(url)})" if label.strip() else plain(url)

    def autolink(match: re.Match[str]) -> str:
        url = match.group(1)
        return hold(match.group(0)) if vetted(url) else plain(url)

    def bare(match: re.Match[str]) -> str:
        url = match.group(0).rstrip(_TRAILING)
        rest = match.group(0)[len(url) :]
        return (hold(url) if vetted(url) else plain(url)) + rest

    for pattern, replace in (
        (_MARKDOWN_LINK, markdown),
        (_SLACK_LINK, slack),
        (_AUTOLINK, autolink),
        (_BARE_URL, bare),
    ):
        text = pattern.sub(replace, text)
    return _HELD.sub(lambda m: held[int(m.group(1))], text)


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]).geturl()


def clean_reply(
    text: str, known_ids: Collection[str], vetted: LinkCheck = no_link_vetted
) -> tuple[str, tuple[str, ...]]:
    stripped, cited = strip_citations(strip_markers(text), known_ids)
    return defuse_links(neutralise_mentions(stripped), vetted), cited


class StreamCleaner:
    """Applies `clean_reply` to a stream so that the pieces add up to the cleaned whole.

    It only releases text up to a point where no marker or mention can still be forming, so
    replies in languages without spaces stream as smoothly as any other.
    """

    def __init__(self, known_ids: Collection[str], vetted: LinkCheck = no_link_vetted) -> None:
        self._known = known_ids
        self._vetted = vetted
        self._pending = ""

    def feed(self, piece: str) -> str:
        self._pending += piece
        cut = _safe_cut(self._pending)
        ready, self._pending = self._pending[:cut], self._pending[cut:]
        return clean_reply(ready, self._known, self._vetted)[0] if ready else ""

    def flush(self) -> str:
        ready, self._pending = self._pending, ""
        return clean_reply(ready, self._known, self._vetted)[0] if ready else ""


# What may still grow into something clean_reply changes: an unclosed `[` (a citation or a
# `[[handoff]]` marker), a trailing `@word` or `<...` (a mention), a last line that may yet
# become a `HANDOFF: reason` line, a link or URL still being written (its host decides how it
# shows), and trailing whitespace (markers take the space before them).
_UNFINISHED_MENTION = re.compile(r"(?:@\w*|<[^\s<>]*)$")
_UNFINISHED_LINK = re.compile(
    r"(?:\[[^\[\]\n]{0,200}\](?:\([^()\n]{0,2000})?"
    r"|<https?://[^<>\n]{0,2000}"
    r"|(?<![\w/])h(?:t(?:t(?:p(?:s?(?::(?:/(?:/[^\s<>()\[\]`|]*)?)?)?)?)?)?)?)$"
)
_UNFINISHED_MARKER_LINE = re.compile(
    r"(?:^|\n)[ \t]*\**"
    r"(?:h|ha|han|hand|hand[\s_-]*o|hand[\s_-]*of|hand[\s_-]*off\**[ \t]*:?[^\n]*)$",
    re.IGNORECASE,
)


def _safe_cut(text: str) -> int:
    """The end of the longest prefix that nothing later in the stream can change."""
    cut = len(text)
    opened = text.rfind("[")
    if opened > text.rfind("]") and len(text) - opened <= 220:
        cut = opened - 1 if opened > 0 and text[opened - 1] == "[" else opened
    double = text.rfind("[[")
    if double >= 0 and "]]" not in text[double:] and len(text) - double <= 220:
        cut = min(cut, double)
    for pattern in (_UNFINISHED_MENTION, _UNFINISHED_MARKER_LINE, _UNFINISHED_LINK):
        unfinished = pattern.search(text, 0, cut)
        if unfinished:
            cut = unfinished.start()
    while cut > 0 and text[cut - 1].isspace():
        cut -= 1
    return cut


def safe_text(text: str) -> str:
    """Text that every encoder accepts: lone surrogates and NULs from platforms replaced."""
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")


_FENCE = re.compile(r"```([\w+#.-]{0,20})")


def split_message(text: str, limit: int, *, keep_language: bool = True) -> list[str]:
    """Pieces of at most `limit` chars, cut at paragraphs, then lines, then spaces.

    A piece that ends inside a ``` code block closes it, and the next piece reopens it (with
    the same language tag when `keep_language`: Slack shows a tag as text), so each message
    renders on its own. Shared by the adapters: each platform has its own `limit`.
    """
    if limit < 16:
        raise ValueError("limit too small")
    chunks: list[str] = []
    rest = text.strip()
    while rest:
        if len(rest) <= limit:
            chunks.append(rest)
            break
        cut = _cut_point(rest, limit - 4)  # room for the "\n```" that closes a cut code block
        head, tail = rest[:cut].rstrip(), rest[cut:].lstrip("\n ")
        opener = _open_fence(head)
        if opener is not None:
            head += "\n```"
            opener = opener if keep_language else "```"
            tail = opener + "\n" + tail
            if len(tail) <= len(opener) + 1:
                tail = ""
        chunks.append(head)
        rest = tail
    return [c for c in chunks if c.strip()]


def _open_fence(text: str) -> str | None:
    """The opener (``` plus language) of a code block left open at the end of `text`
    (every ``` opens or closes a block, at a line start or not)."""
    opener: str | None = None
    for match in _FENCE.finditer(text):
        opener = "```" + match.group(1) if opener is None else None
    return opener


def _cut_point(text: str, room: int) -> int:
    window = text[:room]
    for separator in ("\n\n", "\n", " "):
        at = window.rfind(separator)
        if at > room // 3:
            return at
    return room


# Sentence ends, in scripts with and without spaces; a closing quote or bracket may follow.
_SENTENCE_END = re.compile(r"[.!?…。！？](?:[\"'”’)\]]*)(?=\s|$)|[。！？]")
# Where most of a cut text is kept: a sentence end further back than this share of the text
# loses too much, so the cut falls back to the last word boundary instead.
_KEEP_SHARE = 2 / 3


def trim_to_boundary(text: str) -> str:
    """`text` cut back to a sentence or word boundary: what a reply cut mid-way keeps.

    Hand-written rather than a sentence splitter (pysbd, nltk): only the last boundary
    matters, and a regex finds it in any language. A text that already ends at one is
    kept; scripts written without spaces (Chinese, Japanese, Thai) end at any character.
    A code block left open is closed, so what follows is not shown as code.
    """
    if not text.strip() or not _mid_word(text):
        return _closed_fences(text.rstrip())
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    if ends and ends[-1] >= len(text) * _KEEP_SHARE:
        return _closed_fences(text[: ends[-1]])
    space = max(text.rfind(" "), text.rfind("\n"), text.rfind("\t"))
    if space <= 0:
        return _closed_fences(text)  # one long word: a half word is all there is
    return _closed_fences(text[:space].rstrip())


def _mid_word(text: str) -> bool:
    last = text[-1]
    if not last.isalnum():
        return False
    return not _written_without_spaces(last)


def _written_without_spaces(char: str) -> bool:
    code = ord(char)
    return (
        0x3040 <= code <= 0x30FF  # Hiragana, Katakana
        or 0x3400 <= code <= 0x9FFF  # CJK ideographs
        or 0xF900 <= code <= 0xFAFF
        or 0x0E00 <= code <= 0x0E7F  # Thai
        or 0x0E80 <= code <= 0x0EFF  # Lao
        or 0x1000 <= code <= 0x109F  # Myanmar
        or 0x1780 <= code <= 0x17FF  # Khmer
    )


def _closed_fences(text: str) -> str:
    return text + "\n```" if _open_fence(text) is not None else text
