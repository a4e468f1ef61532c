"""Knowledge files: FAQ entries in YAML and Markdown pages split at headings, loaded per set."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bots.errors import KnowledgeError
from bots.yamlfile import YamlDocument, read_yaml

_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:#/-]*$")
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


@dataclass(frozen=True, slots=True)
class KnowledgeEntry:
    """One answerable fact: a question, the other ways people ask it, and the answer."""

    id: str
    question: str
    answer: str
    also_asked: tuple[str, ...] = ()
    url: str | None = None
    tags: tuple[str, ...] = ()
    source: str = ""

    @property
    def phrasings(self) -> tuple[str, ...]:
        return (self.question, *self.also_asked)


def load_knowledge_set(root: Path, name: str) -> tuple[KnowledgeEntry, ...]:
    """All entries of `root/name/` (YAML and Markdown files, sorted by path)."""
    directory = root / name
    if not directory.is_dir():
        raise KnowledgeError(directory, f"the knowledge set {name!r} does not exist")
    entries: list[KnowledgeEntry] = []
    for path in sorted(directory.rglob("*")):
        if path.suffix in (".yaml", ".yml"):
            entries.extend(_yaml_entries(read_yaml(path, KnowledgeError)))
        elif path.suffix == ".md":
            entries.extend(markdown_entries(_read_text(path), path))
    _check_unique(entries)
    return tuple(entries)


def load_knowledge(root: Path, names: Iterable[str]) -> tuple[KnowledgeEntry, ...]:
    entries = [entry for name in names for entry in load_knowledge_set(root, name)]
    _check_unique(entries)
    return tuple(entries)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise KnowledgeError(path, "the file is not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise KnowledgeError(path, f"cannot read the file ({exc.strerror})") from None


def _check_unique(entries: list[KnowledgeEntry]) -> None:
    seen: dict[str, str] = {}
    for entry in entries:
        if entry.id in seen:
            raise KnowledgeError(
                entry.source,
                f"the id {entry.id!r} is used twice (also in {seen[entry.id]}); ids must be unique",
                field="id",
            )
        seen[entry.id] = entry.source


def _yaml_entries(document: YamlDocument) -> list[KnowledgeEntry]:
    data = document.data
    items = data.get("entries") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise KnowledgeError(
            document.path, "expected `entries:` followed by a list of FAQ entries", line=1
        )
    return [_yaml_entry(document, index, item) for index, item in enumerate(items)]


def _yaml_entry(document: YamlDocument, index: int, item: Any) -> KnowledgeEntry:
    base: tuple[str | int, ...] = (
        ("entries", index) if isinstance(document.data, dict) else (index,)
    )

    def fail(field: str | None, message: str) -> KnowledgeError:
        line, column = document.where((*base, field) if field else base) or (None, None)
        label = f"entry {index + 1}" + (f": {field}" if field else "")
        return KnowledgeError(document.path, message, line=line, column=column, field=label)

    if not isinstance(item, dict):
        raise fail(None, "each entry must be a group of `key: value` lines")
    unknown = set(item) - {"id", "question", "also_asked", "answer", "url", "tags"}
    if unknown:
        raise fail(sorted(unknown)[0], "this field is not known")
    text = {name: item.get(name) for name in ("id", "question", "answer")}
    for name, value in text.items():
        # YAML reads `yes`/`no`/`on` as true/false: quote such words to keep them as text.
        if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
            raise fail(name, "this field is required and must be text (put quotes around it)")
    entry_id = str(text["id"]).strip()
    if not _ID_PATTERN.match(entry_id):
        raise fail("id", "start with a letter or digit; then use letters, digits, '-' or '_'")
    also_asked = _text_list(item.get("also_asked"), lambda m: fail("also_asked", m))
    tags = _text_list(item.get("tags"), lambda m: fail("tags", m))
    url = item.get("url")
    if url is not None and not isinstance(url, str):
        raise fail("url", "expected a web address")
    return KnowledgeEntry(
        id=entry_id,
        question=str(text["question"]).strip(),
        answer=str(text["answer"]).strip(),
        also_asked=also_asked,
        url=url,
        tags=tags,
        source=str(document.path),
    )


def _text_list(value: Any, fail: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value.strip(),)
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise fail("expected a list of texts")
    return tuple(str(v).strip() for v in value if str(v).strip())


def markdown_entries(text: str, path: Path) -> list[KnowledgeEntry]:
    """One entry per section below a heading; the heading is the question, the body the answer.

    The page's top `# Title` (if any) names the page; text before the first sub-heading is an
    entry of its own (titled by the page, or the file name). Headings inside fenced code
    blocks are ignored.
    """
    sections: list[tuple[str, list[str]]] = [("", [])]
    title = ""
    in_fence = False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        heading = None if in_fence else _HEADING.match(line)
        if heading and len(heading.group(1)) == 1 and not title and len(sections) == 1:
            title = heading.group(2)
        elif heading:
            sections.append((heading.group(2), []))
        else:
            sections[-1][1].append(line)
    intro_heading = title or path.stem.replace("-", " ").replace("_", " ")
    sections[0] = (intro_heading, sections[0][1])
    entries = []
    used: set[str] = set()
    for number, (heading_text, body) in enumerate(sections):
        answer = "\n".join(body).strip()
        if not answer:
            continue
        candidate = path.stem if number == 0 else f"{path.stem}-{_slug(heading_text)}"
        entry_id = _unique(candidate, used)
        question = f"{title}: {heading_text}" if title and heading_text != title else heading_text
        entries.append(
            KnowledgeEntry(id=entry_id, question=question, answer=answer, source=str(path))
        )
    return entries


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def _unique(candidate: str, used: set[str]) -> str:
    name, n = candidate, 2
    while name in used:
        name, n = f"{candidate}-{n}", n + 1
    used.add(name)
    return name
