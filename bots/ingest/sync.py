"""Turning an import's documents into file changes: added, changed, unchanged, removed, kept.

The set folder is the record: files whose header names this import are its files, matched to
pages by source address. A page whose content hashes as before leaves its file alone; a page
that changed rewrites it; a page that is gone (the server said 404/410, or it is no longer
linked or listed) has its file deleted — the files live in git, so the deletion is in the
diff and can be undone there, and a `removed/` folder would be loaded as knowledge. Pages
that could not be fetched this time (a time-out, a server error, the page limit) keep their
files. A file edited by hand (its content no longer matches its own hash) is neither
rewritten nor deleted without `force`, and the summary says so.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from bots.ingest import provenance
from bots.ingest.documents import Document, document_for
from bots.ingest.naming import stem_for
from bots.ingest.pages import Page

Action = Literal["added", "changed", "unchanged", "removed", "kept-edited", "kept-unreached"]


@dataclass(frozen=True, slots=True)
class Change:
    action: Action
    path: Path
    address: str
    text: str | None = None  # what to write; None for removals and files left alone
    why: str = ""


@dataclass(frozen=True, slots=True)
class Existing:
    path: Path
    provenance: provenance.Provenance
    edited: bool


def existing_files(folder: Path, import_from: str) -> dict[str, Existing]:
    """This import's files in `folder`, by source address (links and others' files ignored)."""
    found: dict[str, Existing] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.is_symlink() or not path.is_file():
            continue
        if path.suffix not in (".md", ".yaml"):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        read = provenance.read(text, path.suffix)
        if read is None or read[0].import_from != import_from:
            continue
        header, body = read
        found[header.source] = Existing(path, header, provenance.digest(body) != header.sha256)
    return found


def plan(
    pages: Sequence[Page],
    folder: Path,
    import_from: str,
    fetched: datetime,
    *,
    keep: Iterable[str] = (),
    keep_all_missing: bool = False,
    force: bool = False,
) -> list[Change]:
    """The changes that bring `folder` to `pages`. `keep`: addresses not fetched this time
    that keep their files; `keep_all_missing`: the crawl stopped early, so keep every file."""
    existing = existing_files(folder, import_from)
    taken = {path.name for path in folder.iterdir()} if folder.is_dir() else set()
    for mine in existing.values():
        taken.discard(mine.path.name)
    changes: list[Change] = []
    for page in sorted(pages, key=lambda p: p.address):
        old: Existing | None = existing.pop(page.address, None)
        stem = old.path.stem if old is not None else stem_for(page.address, import_from)
        document = document_for(page, stem)
        suffix = "." + document.kind
        if old is not None and old.path.suffix == suffix:
            changes.append(_update(old, document, import_from, fetched, force))
            taken.add(old.path.name)
            continue
        if old is not None:  # the page turned from Markdown into an FAQ, or back
            changes.append(_remove(old, force, "its format changed"))
        path = folder / _free_name(stem, suffix, taken)
        if path.stem != stem:
            document = document_for(page, path.stem)
        changes.append(
            Change("added", path, page.address, provenance.render(document, import_from, fetched))
        )
    kept = set(keep)
    for address, old in sorted(existing.items()):
        if keep_all_missing or address in kept:
            changes.append(Change("kept-unreached", old.path, address, why="not fetched this time"))
        else:
            changes.append(_remove(old, force, "gone from the source"))
    return changes


def _update(
    old: Existing, document: Document, import_from: str, fetched: datetime, force: bool
) -> Change:
    new_hash = provenance.digest(document.body)
    if new_hash == old.provenance.sha256 and not old.edited:
        return Change("unchanged", old.path, document.address)
    if old.edited and not force:
        why = "edited by hand; the source " + (
            "changed too" if new_hash != old.provenance.sha256 else "did not change"
        )
        return Change("kept-edited", old.path, document.address, why=why)
    return Change(
        "changed", old.path, document.address, provenance.render(document, import_from, fetched)
    )


def _remove(old: Existing, force: bool, why: str) -> Change:
    if old.edited and not force:
        return Change("kept-edited", old.path, old.provenance.source, why=f"edited by hand; {why}")
    return Change("removed", old.path, old.provenance.source, why=why)


def _free_name(stem: str, suffix: str, taken: set[str]) -> str:
    name, n = stem + suffix, 2
    while name in taken or _other_suffix(name, suffix) in taken:
        name, n = f"{stem}-{n}{suffix}", n + 1
    taken.add(name)
    return name


def _other_suffix(name: str, suffix: str) -> str:
    # faq.md and faq.yaml would both make the entry id "faq-…": one stem, one file.
    other = ".yaml" if suffix == ".md" else ".md"
    return name[: -len(suffix)] + other


def apply(changes: Sequence[Change], folder: Path) -> None:
    """Write the changes; each file is replaced in one step (the live reload never sees half)."""
    folder.mkdir(parents=True, exist_ok=True)
    for change in changes:
        if change.action in ("added", "changed") and change.text is not None:
            temporary = change.path.with_name(f".{change.path.name}.importing")
            temporary.write_text(change.text, encoding="utf-8")
            os.replace(temporary, change.path)
        elif change.action == "removed":
            change.path.unlink(missing_ok=True)
