"""A PDF's text as a Markdown page, read with pypdf (pure Python, no system libraries).

A PDF has no headings, only an outline (bookmarks) when its tool wrote one: each page goes
under the last outline entry that starts on or before it, so a manual's chapters become the
sections the loader splits at. Without an outline, each page is a section of its own.
"""

from __future__ import annotations

import io
from typing import Any

from bots.ingest.extract import tidy
from bots.ingest.pages import Page, Skipped


def pdf_page(data: bytes, address: str, name: str) -> Page | Skipped:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            return Skipped(address, "the PDF is encrypted")
        texts = [(page.extract_text() or "").strip() for page in reader.pages]
        headings = _outline_starts(reader)
        metadata = reader.metadata
        title = str((metadata.get("/Title") if metadata else None) or "").strip() or name
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        return Skipped(address, f"not a readable PDF ({type(exc).__name__})")
    if not any(texts):
        return Skipped(address, "the PDF has no text (a scan? text recognition is not done)")
    return Page(address, title, _sections(title, texts, headings))


def _sections(title: str, texts: list[str], starts: dict[int, str]) -> str:
    parts = [f"# {title}", ""]
    current = None
    for number, text in enumerate(texts):
        heading = starts.get(number, current)
        if heading is None:
            heading = f"Page {number + 1}"
        if heading != current or not starts:
            parts += [f"## {heading}", ""]
            current = heading
        if text:
            parts += [text, ""]
    return tidy("\n".join(parts))


def _outline_starts(reader: Any) -> dict[int, str]:
    """Page number -> the title of the last outline entry that starts on it."""
    starts: dict[int, str] = {}

    def walk(items: Any) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
                continue
            try:
                number = reader.get_destination_page_number(item)
            except Exception:
                continue
            title = " ".join(str(getattr(item, "title", "") or "").split())
            if number is not None and number >= 0 and title:
                starts.setdefault(number, title)

    try:
        walk(reader.outline)
    except Exception:
        return {}
    return starts
