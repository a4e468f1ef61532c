"""Knowledge files: FAQ entries in YAML and Markdown pages split at headings, loaded per set."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bots.errors import KnowledgeError
from bots.knowledge.front_matter import split_front_matter
from bots.knowledge.reading import listed_as_file, read_text_file
from bots.knowledge.yamlfile import YamlDocument, read_yaml

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


KNOWLEDGE_SUFFIXES = (".yaml", ".yml", ".md")
_FIELDS = ("id", "question", "also_asked", "answer", "url", "tags")
PENDING_FILE = "pending.yaml"
PENDING_SUFFIX = ".pending.yaml"
ORIGIN_FIELD = "from"
"""Only in pending files: where a suggested entry came from (its thread, who saved it)."""


def is_pending_file(path: Path) -> bool:
    """Suggested entries waiting for a person's approval (bots.knowledge.pending): checked
    by `bots check`, never answered from. The name says so, so no setting is needed to
    tell a pending file from a live one: `pending.yaml`, or any name ending `.pending.yaml`."""
    return path.name == PENDING_FILE or path.name.endswith(PENDING_SUFFIX)


_REQUIRED_HINTS = {
    "id": "a short unique name, e.g. opening-hours",
    "question": "the question as people ask it",
    "answer": "the text people should get",
}


@dataclass(frozen=True, slots=True)
class PlacedEntry:
    """An entry and where it starts in its file (its `id:` line, or its Markdown heading)."""

    entry: KnowledgeEntry
    line: int | None = None
    column: int | None = None

    def where(self) -> str:
        place = self.entry.source
        if self.line is not None:
            place += f":{self.line}" + (f":{self.column}" if self.column is not None else "")
        return place


@dataclass(frozen=True, slots=True)
class KnowledgeFile:
    """What one knowledge file yields: its good entries and every problem found in it."""

    path: Path
    entries: tuple[PlacedEntry, ...]
    problems: tuple[KnowledgeError, ...]


def load_knowledge_set(root: Path, name: str) -> tuple[KnowledgeEntry, ...]:
    """All entries of `root/name/` (YAML and Markdown files, sorted by path)."""
    return tuple(placed.entry for placed in _load_placed(root, name))


def load_knowledge(root: Path, names: Iterable[str]) -> tuple[KnowledgeEntry, ...]:
    placed = [entry for name in names for entry in _load_placed(root, name)]
    _raise_first(duplicate_id_problems(placed))
    return tuple(entry.entry for entry in placed)


def _load_placed(root: Path, name: str) -> list[PlacedEntry]:
    """The entries of one set; the first problem found is raised."""
    directory = root / name
    if not directory.is_dir():
        raise KnowledgeError(directory, f"the knowledge set {name!r} does not exist")
    problem = set_folder_problem(directory)
    if problem is not None:
        raise problem
    placed: list[PlacedEntry] = []
    for path in knowledge_files(directory):
        if is_pending_file(path):
            continue  # suggestions wait for approval: nothing is answered from them
        found = read_knowledge_file(path, folder=directory)
        _raise_first(found.problems)
        placed.extend(found.entries)
    _raise_first(duplicate_id_problems(placed))
    return placed


def _raise_first(problems: Sequence[KnowledgeError]) -> None:
    if problems:
        raise problems[0]


def set_folder_problem(directory: Path) -> KnowledgeError | None:
    """A knowledge set's folder must be a real folder: a link could lead anywhere."""
    if not directory.is_symlink():
        return None
    return KnowledgeError(
        directory,
        "this knowledge set is a link to another folder; the bot never follows links out of "
        "the knowledge folder (they could expose secrets): put a real folder here instead",
    )


def knowledge_files(directory: Path) -> list[Path]:
    """The YAML and Markdown files under `directory`, in the order they are loaded.

    Links (to files or folders) and special files are listed too, so reading them fails out
    loud; nothing behind a link is ever read (bots.knowledge.reading).
    """
    return [
        path
        for path in sorted(directory.rglob("*"))
        # Dotfiles are editors' locks and temp copies (.#faq.yaml, ._faq.yaml), not knowledge.
        if not path.name.startswith(".")
        and listed_as_file(path)
        and (path.suffix in KNOWLEDGE_SUFFIXES or path.is_symlink())
    ]


def read_knowledge_file(path: Path, *, folder: Path | None = None) -> KnowledgeFile:
    """Read one YAML or Markdown file, collecting every problem instead of stopping at one.

    `folder` is the knowledge set the file belongs to: nothing outside it is read.
    """
    try:
        if path.suffix == ".md" or path.suffix not in KNOWLEDGE_SUFFIXES:
            text = read_text_file(path, KnowledgeError, folder=folder)
            return KnowledgeFile(path, tuple(_markdown_placed(text, path)), ())
        document = read_yaml(path, KnowledgeError, folder=folder)
    except KnowledgeError as problem:
        return KnowledgeFile(path, (), (problem,))
    entries, problems = _yaml_entries(document)
    return KnowledgeFile(path, tuple(entries), tuple(problems))


def knowledge_problems(path: Path) -> list[KnowledgeError]:
    """Every problem of one knowledge file, ids used twice inside it included."""
    found = read_knowledge_file(path)
    return [*found.problems, *duplicate_id_problems(found.entries)]


def duplicate_id_problems(placed: Sequence[PlacedEntry]) -> list[KnowledgeError]:
    """Each id used more than once, reported at the later place and at the first one."""
    first: dict[str, PlacedEntry] = {}
    reported: set[str] = set()
    problems = []
    for entry in placed:
        earlier = first.setdefault(entry.entry.id, entry)
        if earlier is entry:
            continue
        problems.append(_duplicate(entry, earlier))
        if entry.entry.id not in reported:
            reported.add(entry.entry.id)
            problems.append(_duplicate(earlier, entry))
    return problems


def _duplicate(here: PlacedEntry, other: PlacedEntry) -> KnowledgeError:
    same_file = here.entry.source == other.entry.source and other.line is not None
    place = f"on line {other.line}" if same_file else f"in {other.where()}"
    return KnowledgeError(
        here.entry.source,
        f"the id {here.entry.id!r} is used twice (also {place}); ids must be unique",
        line=here.line,
        column=here.column,
        field="id",
    )


def _yaml_entries(document: YamlDocument) -> tuple[list[PlacedEntry], list[KnowledgeError]]:
    data = document.data
    items = data.get("entries") if isinstance(data, dict) else data
    if not isinstance(items, list):
        return [], [_no_entry_list(document)]
    entries: list[PlacedEntry] = []
    problems: list[KnowledgeError] = []
    for index, item in enumerate(items):
        entry, found = _yaml_entry(document, index, item)
        problems.extend(found)
        if entry is not None:
            entries.append(entry)
    return entries, problems


def _no_entry_list(document: YamlDocument) -> KnowledgeError:
    message = "expected `entries:` followed by a list of FAQ entries"
    data = document.data
    if isinstance(data, dict) and "entries" in data:
        line, column = document.where(("entries",)) or (1, None)
        return KnowledgeError(document.path, message, line=line, column=column, field="entries")
    keys = [str(key) for key in data] if isinstance(data, dict) else []
    close = difflib.get_close_matches("entries", keys, n=1, cutoff=0.6)
    if close:
        line, column = document.where((close[0],)) or (1, None)
        return KnowledgeError(
            document.path,
            f"{message}; did you mean `entries`?",
            line=line,
            column=column,
            field=close[0],
        )
    return KnowledgeError(document.path, message, line=1)


def _yaml_entry(
    document: YamlDocument, index: int, item: Any
) -> tuple[PlacedEntry | None, list[KnowledgeError]]:
    base: tuple[str | int, ...] = (
        ("entries", index) if isinstance(document.data, dict) else (index,)
    )

    def fail(field: str | None, message: str) -> KnowledgeError:
        line, column = document.where((*base, field) if field else base) or (None, None)
        label = f"entry {index + 1}" + (f": {field}" if field else "")
        return KnowledgeError(document.path, message, line=line, column=column, field=label)

    if not isinstance(item, dict):
        return None, [fail(None, "each entry must be a group of `key: value` lines")]
    pending = is_pending_file(document.path)
    known = (*_FIELDS, ORIGIN_FIELD) if pending else _FIELDS
    problems = [
        fail(str(key), "this field is not known" + _suggestion(str(key)))
        for key in sorted(set(item) - set(known), key=str)
    ]
    origin = item.get(ORIGIN_FIELD)
    if pending and origin is not None and not _texts_by_name(origin):
        problems.append(fail(ORIGIN_FIELD, "expected `name: text` lines (thread, link, ...)"))
    texts = {name: _text_problem(name, item.get(name)) for name in _REQUIRED_HINTS}
    problems += [fail(name, message) for name, message in texts.items() if message]
    entry_id = str(item.get("id")).strip()
    if texts["id"] is None and not _ID_PATTERN.match(entry_id):
        problems.append(
            fail("id", "start with a letter or digit; then use letters, digits, '-' or '_'")
        )
    also_asked, message = _text_list(item.get("also_asked"))
    if message:
        problems.append(fail("also_asked", message))
    tags, message = _text_list(item.get("tags"))
    if message:
        problems.append(fail("tags", message))
    url = item.get("url")
    if url is not None and not isinstance(url, str):
        problems.append(fail("url", "expected a web address"))
    if problems:
        return None, problems
    line, column = document.where((*base, "id")) or (None, None)
    entry = KnowledgeEntry(
        id=entry_id,
        question=str(item["question"]).strip(),
        answer=str(item["answer"]).strip(),
        also_asked=also_asked,
        url=url,
        tags=tags,
        source=str(document.path),
    )
    return PlacedEntry(entry, line, column), []


def _texts_by_name(value: Any) -> bool:
    return isinstance(value, dict) and not any(isinstance(v, list | dict) for v in value.values())


def _suggestion(key: str) -> str:
    close = difflib.get_close_matches(key, _FIELDS, n=1, cutoff=0.6)
    if close:
        return f"; did you mean `{close[0]}`?"
    return f"; expected one of: {', '.join(_FIELDS)}"


def _text_problem(name: str, value: Any) -> str | None:
    """What is wrong with a required text field, or None when it is fine."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return f"this entry has no {name}; add `{name}:` with {_REQUIRED_HINTS[name]}"
    # YAML reads `yes`/`no`/`on` as true/false: quote such words to keep them as text.
    if isinstance(value, bool):
        return "YAML reads this word as true/false; put quotes around it to keep it as text"
    if isinstance(value, list | dict):
        return "expected text, not a list or a group of fields"
    if not isinstance(value, str | int):
        return "expected text; put quotes around it"
    return None


def _text_list(value: Any) -> tuple[tuple[str, ...], str | None]:
    if value is None:
        return (), None
    if isinstance(value, str):
        return (value.strip(),), None
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        return (), "expected a list of texts"
    return tuple(str(v).strip() for v in value if str(v).strip()), None


def markdown_entries(text: str, path: Path) -> list[KnowledgeEntry]:
    """One entry per section below a heading; the heading is the question, the body the answer.

    The page's top `# Title` (if any) names the page; text before the first sub-heading is an
    entry of its own (titled by the page, or the file name). Headings inside fenced code
    blocks are ignored.
    """
    return [placed.entry for placed in _markdown_placed(text, path)]


def _markdown_placed(text: str, path: Path) -> list[PlacedEntry]:
    """The entries of `markdown_entries`, each with the line of its heading."""
    fields, text = split_front_matter(text)
    source = fields.get("source")
    url = source if isinstance(source, str) and source.startswith(("http://", "https://")) else None
    sections: list[tuple[str, int, list[str]]] = [("", 1, [])]
    title = ""
    in_fence = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        heading = None if in_fence else _HEADING.match(line)
        if heading and len(heading.group(1)) == 1 and not title and len(sections) == 1:
            title = heading.group(2)
        elif heading:
            sections.append((heading.group(2), number, []))
        else:
            sections[-1][2].append(line)
    intro_heading = title or path.stem.replace("-", " ").replace("_", " ")
    sections[0] = (intro_heading, 1, sections[0][2])
    entries = []
    used: set[str] = set()
    for number, (heading_text, start, body) in enumerate(sections):
        answer = "\n".join(body).strip()
        if not answer:
            continue
        candidate = path.stem if number == 0 else f"{path.stem}-{_slug(heading_text)}"
        entry_id = _unique(candidate, used)
        question = f"{title}: {heading_text}" if title and heading_text != title else heading_text
        entry = KnowledgeEntry(
            id=entry_id, question=question, answer=answer, url=url, source=str(path)
        )
        entries.append(PlacedEntry(entry, start, 1))
    return entries


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def _unique(candidate: str, used: set[str]) -> str:
    name, n = candidate, 2
    while name in used:
        name, n = f"{candidate}-{n}", n + 1
    used.add(name)
    return name
