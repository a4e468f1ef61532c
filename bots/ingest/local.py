"""Importing a local folder or file: HTML, Markdown, plain text, PDF, a Zendesk export (JSON).

Links are never followed (a folder of docs may hold a link to secrets), and special files are
skipped; each skip has its reason in the summary, like a crawl's.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from bots.ingest.crawl import CrawlResult, Progress
from bots.ingest.decoding import decode
from bots.ingest.extract import html_to_markdown
from bots.ingest.fetching import declared_charset
from bots.ingest.pages import Note, Page, Skipped
from bots.ingest.web_pages import text_page

SUFFIXES = {".html", ".htm", ".xhtml", ".md", ".markdown", ".txt", ".text", ".pdf"}


def read_local(source: Path, max_bytes: int, max_pages: int, progress: Progress) -> CrawlResult:
    result = CrawlResult()
    files = _files(source, result)
    if len(files) > max_pages:
        result.truncated = True
        for path in files[max_pages:]:
            result.skipped.append(Skipped(str(path), f"over the --max-pages {max_pages} limit"))
        files = files[:max_pages]
    progress.total(len(files))
    for path in files:
        page, note = _read(path, max_bytes)
        if isinstance(page, Skipped):
            result.skipped.append(page)
        else:
            result.pages.append(page)
        if note is not None:
            result.notes.append(note)
        progress.advance(str(path))
    return result


def _files(source: Path, result: CrawlResult) -> list[Path]:
    if source.is_symlink():
        result.skipped.append(Skipped(str(source), "a link; links are not followed"))
        return []
    if source.is_file():
        return [source]
    found = []
    for folder, names, files in os.walk(source, followlinks=False):
        names[:] = sorted(name for name in names if not name.startswith("."))
        for name in sorted(files):
            path = Path(folder) / name
            if name.startswith("."):
                continue
            if path.suffix.lower() not in SUFFIXES:
                continue
            if path.is_symlink():
                result.skipped.append(Skipped(str(path), "a link; links are not followed"))
                continue
            found.append(path)
    for folder, names, _ in os.walk(source, followlinks=False):
        for name in names:
            if (Path(folder) / name).is_symlink():
                result.skipped.append(
                    Skipped(str(Path(folder) / name), "a link; links are not followed")
                )
    return sorted(found)


def _read(path: Path, max_bytes: int) -> tuple[Page | Skipped, Note | None]:
    try:
        with path.open("rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return Skipped(str(path), "not a regular file"), None
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        return Skipped(str(path), f"cannot be read ({exc.strerror})"), None
    if len(data) > max_bytes:
        return Skipped(str(path), f"larger than the {max_bytes // 1024 // 1024} MiB limit"), None
    suffix = path.suffix.lower()
    name = path.stem.replace("-", " ").replace("_", " ")
    if suffix == ".pdf":
        from bots.ingest.pdf import pdf_page

        return pdf_page(data, str(path), name), None
    html = suffix in (".html", ".htm", ".xhtml")
    text, how = decode(data, declared_charset(None, data) if html else None)
    note = Note(str(path), how) if how else None
    if html:
        title, markdown = html_to_markdown(text)
        if not markdown.strip():
            return Skipped(str(path), "no main content found"), note
        return Page(str(path), title or name, markdown), note
    return text_page(text, str(path), name, markdown=suffix in (".md", ".markdown")), note
