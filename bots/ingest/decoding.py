"""Turning a page's bytes into text: its declared character set, else UTF-8, else Windows-1252."""

from __future__ import annotations

import codecs


def decode(body: bytes, charset: str | None) -> tuple[str, str | None]:
    """The text and, when it is worth a line in the summary, how it was read.

    A declared charset is used as declared (an unknown name falls back, said); an undeclared
    page is read as UTF-8 when it is valid UTF-8, and otherwise as Windows-1252, the encoding
    that old pages without a declaration nearly always have (every byte decodes, so nothing
    is lost or refused).
    """
    if charset:
        try:
            codec = codecs.lookup(charset).name
        except LookupError:
            text, _ = decode(body, None)
            return text, f"unknown character set {charset!r}; read as UTF-8 or Windows-1252"
        text = body.decode(codec, errors="replace")
        if codec not in ("utf-8", "ascii"):
            return text, f"read as {charset} (not UTF-8)"
        if "\ufffd" in text and b"\xef\xbf\xbd" not in body:
            return text, f"declared {charset} but has bytes that are not; those were replaced"
        return text, None
    try:
        return body.decode("utf-8"), None
    except UnicodeDecodeError:
        return body.decode(
            "cp1252", errors="replace"
        ), "not UTF-8, no charset declared; read as Windows-1252"
