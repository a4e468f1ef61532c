"""What a fetched response becomes: an HTML page, a PDF, plain text or Markdown, or a skip."""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from bots.ingest.decoding import decode
from bots.ingest.extract import html_to_markdown, tidy
from bots.ingest.fetching import Fetched, declared_charset
from bots.ingest.pages import Note, Page, Skipped

HTML_TYPES = ("text/html", "application/xhtml+xml")
TEXT_TYPES = ("text/plain", "text/markdown", "text/x-markdown")


def convert(fetched: Fetched, asked: str) -> tuple[Page | Skipped, Note | None]:
    kind = fetched.content_type
    if kind == "application/pdf" or (not kind and fetched.body.startswith(b"%PDF-")):
        from bots.ingest.pdf import pdf_page

        return pdf_page(fetched.body, asked, _name(asked)), None
    if kind and kind not in HTML_TYPES and kind not in TEXT_TYPES:
        return Skipped(asked, f"not a page ({kind})"), None
    text, how = decode(fetched.body, declared_charset(fetched.charset, fetched.body))
    note = Note(asked, how) if how else None
    if kind in TEXT_TYPES:
        return text_page(text, asked, _name(asked), markdown=kind != "text/plain"), note
    title, markdown = html_to_markdown(text)
    if not markdown.strip():
        return Skipped(asked, "no main content found"), note
    return Page(asked, title or _name(asked), markdown), note


def text_page(text: str, address: str, name: str, *, markdown: bool) -> Page | Skipped:
    body = tidy(text)
    if not body.strip():
        return Skipped(address, "empty")
    title = name
    for line in body.splitlines():
        if markdown and line.startswith("# "):
            title = line[2:].strip()
            break
    return Page(address, title, body)


def _name(address: str) -> str:
    path = unquote(urlsplit(address).path) if "://" in address else address
    return PurePosixPath(path).stem.replace("-", " ").replace("_", " ") or "index"
