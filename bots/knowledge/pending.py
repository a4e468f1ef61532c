"""Suggested FAQ entries waiting for approval: the pending file of a set, adding, approving.

Entries drafted from staff answers ("Save as FAQ") are written to `knowledge/<set>/pending.yaml`
(or any name ending `.pending.yaml`, `BOTS_PENDING_FILE`). The loader skips such files, so
nothing is answered from a suggestion; `bots check` still reads them. Each suggestion keeps
a `from:` group (the thread, its link, who saved it and when), which the live files do not
allow. Approving moves the entry into the set's `faq.yaml` (made if missing) with that
origin as a comment above it, then removes it from the pending file.

The files are edited with ruamel.yaml's round-trip mode (imported when a file is edited:
`bots ask` and a bot that never saves one do not load it), so the comments and layout people
wrote in them survive. (The studio has the same settings in `bots.studio.roundtrip`; the
knowledge part may not import the studio, so the few lines are repeated here.) Each file is
replaced whole and atomically (a temporary file in the same folder, then a rename), never
through a link, and edits of one set are serialised with an advisory lock on its folder,
so two processes approving at once do not lose each other's change.
"""

from __future__ import annotations

import fcntl
import io
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bots.errors import KnowledgeError
from bots.knowledge.files import (
    ORIGIN_FIELD,
    PENDING_FILE,
    PENDING_SUFFIX,
    KnowledgeEntry,
    is_pending_file,
    knowledge_files,
    read_knowledge_file,
    set_folder_problem,
)
from bots.knowledge.reading import read_text_file

if TYPE_CHECKING:
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

LIVE_FILE = "faq.yaml"
"""Where approved entries go, in the suggestion's own set."""
ID_CHARS = 48
_HEADER = (
    "Suggested FAQ entries, drafted from what the support team answered.\n"
    "The bot does NOT answer from this file. Edit an entry if you like, then approve it:\n"
    "  bots knowledge approve ID   (or the Approve button in the support channel)\n"
    "which moves it into faq.yaml. Delete an entry to reject it."
)
# Left out of ids made from a question: "Do you sell gift cards?" is `sell-gift-cards`.
_STOP_WORDS = frozenset(
    (
        *("a", "an", "the", "is", "are", "do", "does", "did", "can", "could", "i", "you"),
        *("we", "my", "your", "our", "to", "of", "for", "in", "on", "at", "it", "how"),
        *("what", "when", "where", "why", "which", "who", "there", "be", "have", "has"),
        *("with", "and", "or", "please"),
    )
)


def pending_name(name: str) -> str:
    """The pending file's name as configured, or a plain error saying what is accepted."""
    cleaned = name.strip() or PENDING_FILE
    if "/" in cleaned or "\\" in cleaned or not is_pending_file(Path(cleaned)):
        raise KnowledgeError(
            "",
            f"the pending file must be called {PENDING_FILE} or end in {PENDING_SUFFIX} "
            f"(a file name, no folder), got {name!r}",
        )
    return cleaned


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a suggestion came from."""

    thread: str
    """The conversation's id (`ThreadKey.as_id()`)."""
    link: str | None = None
    saved_by: str = ""
    saved_at: str = ""

    def comment(self) -> str:
        """The line kept above the entry once it is live."""
        where = self.link or self.thread
        by = f" by {self.saved_by}" if self.saved_by else ""
        when = f" on {self.saved_at[:10]}" if self.saved_at else ""
        return f"From a staff answer{by}{when}: {where}"


@dataclass(frozen=True, slots=True)
class NewSuggestion:
    """What to write: the draft's texts and where it came from (the id is chosen here)."""

    question: str
    answer: str
    also_asked: tuple[str, ...]
    origin: Origin


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One entry of a pending file."""

    entry: KnowledgeEntry
    set_name: str
    path: Path
    origin: Origin | None = None


@dataclass(frozen=True, slots=True)
class Added:
    suggestion: Suggestion
    already: bool
    """The thread had a suggestion already: that one is kept as it is (a person may have
    edited it), and nothing was written."""


class PendingFaq:
    """The pending files under one knowledge folder."""

    def __init__(self, knowledge_root: Path, file_name: str = PENDING_FILE) -> None:
        self.root = knowledge_root
        self.file_name = pending_name(file_name)

    def path(self, set_name: str) -> Path:
        return self.root / set_name / self.file_name

    # -- reading ---------------------------------------------------------------------------

    def suggestions(self, set_names: Sequence[str] | None = None) -> list[Suggestion]:
        """Every pending entry (of `set_names`, else of every set), in file order.

        A broken pending file raises its KnowledgeError (file:line: what is wrong)."""
        found: list[Suggestion] = []
        for name in set_names if set_names is not None else self._sets():
            directory = self.root / name
            for path in knowledge_files(directory) if directory.is_dir() else []:
                if is_pending_file(path):
                    found.extend(_read_suggestions(path, name, directory))
        return found

    def from_thread(self, thread: str, set_names: Sequence[str] | None = None) -> Suggestion | None:
        return next((s for s in self.suggestions(set_names) if _thread_of(s) == thread), None)

    def find(self, entry_id: str, set_names: Sequence[str] | None = None) -> Suggestion:
        found = self.suggestions(set_names)
        for suggestion in found:
            if suggestion.entry.id == entry_id:
                return suggestion
        waiting = ", ".join(s.entry.id for s in found) or "none"
        raise KnowledgeError(
            self.root, f"no pending FAQ entry has the id {entry_id!r} (pending: {waiting})"
        )

    def _sets(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(d.name for d in self.root.iterdir() if d.is_dir() and not d.is_symlink())

    # -- writing ---------------------------------------------------------------------------

    def add(self, set_name: str, new: NewSuggestion) -> Added:
        """Write `new` to the set's pending file under a fresh id (unique in the folder)."""
        from ruamel.yaml.comments import CommentedMap, CommentedSeq

        directory = self._set_folder(set_name)
        with _locked(directory):
            existing = self.from_thread(new.origin.thread, [set_name])
            if existing is not None:
                return Added(existing, already=True)
            entry_id = _unique_id(_slug(new.question), self._ids())
            path = directory / self.file_name
            data = _load(path, directory) if path.exists() else _new_pending_file()
            item = CommentedMap()
            item["id"] = entry_id
            item["question"] = _one_line(new.question)
            if new.also_asked:
                item["also_asked"] = CommentedSeq([_one_line(t) for t in new.also_asked])
            item["answer"] = _block(new.answer)
            origin = {
                "thread": new.origin.thread,
                "link": new.origin.link,
                "saved_by": new.origin.saved_by,
                "saved_at": new.origin.saved_at,
            }
            item[ORIGIN_FIELD] = CommentedMap((k, v) for k, v in origin.items() if v)
            _entries(data, path).append(item)
            _write(path, _dump(data))
        entry = KnowledgeEntry(
            id=entry_id,
            question=_one_line(new.question),
            answer=new.answer.strip(),
            also_asked=tuple(_one_line(t) for t in new.also_asked),
            source=str(path),
        )
        return Added(Suggestion(entry, set_name, path, new.origin), already=False)

    def approve(self, entry_id: str, set_names: Sequence[str] | None = None) -> Suggestion:
        """Move the pending entry `entry_id` into its set's live `faq.yaml`; the moved one.

        The live file is written first: if the process stops in between, the entry is in
        both files, `bots check` says so (the id twice), and approving again finishes it."""
        from ruamel.yaml.comments import CommentedMap, CommentedSeq

        suggestion = self.find(entry_id, set_names)
        directory = self._set_folder(suggestion.set_name)
        with _locked(directory):
            suggestion = self.find(entry_id, [suggestion.set_name])  # as it is now
            live = directory / LIVE_FILE
            data = _load(live, directory) if live.exists() else CommentedMap(entries=CommentedSeq())
            items = _entries(data, live)
            if not any(_item_id(item) == entry_id for item in items):
                items.append(_live_item(suggestion))
                if suggestion.origin is not None:
                    items.yaml_set_comment_before_after_key(
                        len(items) - 1, before=suggestion.origin.comment(), indent=2
                    )
                _write(live, _dump(data))
            pending = _load(suggestion.path, directory)
            kept = _entries(pending, suggestion.path)
            for item in [i for i in kept if _item_id(i) == entry_id]:
                kept.remove(item)
            _write(suggestion.path, _dump(pending))
        return suggestion

    def _set_folder(self, set_name: str) -> Path:
        directory = self.root / set_name
        if not directory.is_dir():
            raise KnowledgeError(directory, f"the knowledge set {set_name!r} does not exist")
        problem = set_folder_problem(directory)
        if problem is not None:
            raise problem
        return directory

    def _ids(self) -> set[str]:
        ids: set[str] = set()
        for name in self._sets():
            for path in knowledge_files(self.root / name):
                ids.update(p.entry.id for p in read_knowledge_file(path).entries)
        return ids


# -- helpers ---------------------------------------------------------------------------------


def _read_suggestions(path: Path, set_name: str, directory: Path) -> list[Suggestion]:
    found = read_knowledge_file(path, folder=directory)
    if found.problems:
        raise found.problems[0]
    data = _load(path, directory)
    origins = {
        _item_id(item): item.get(ORIGIN_FIELD)
        for item in _entries(data, path)
        if isinstance(item, dict)
    }
    return [
        Suggestion(placed.entry, set_name, path, _origin(origins.get(placed.entry.id)))
        for placed in found.entries
    ]


def _origin(value: Any) -> Origin | None:
    if not isinstance(value, dict) or not value.get("thread"):
        return None
    link = value.get("link")
    return Origin(
        thread=str(value["thread"]),
        link=str(link) if link else None,
        saved_by=str(value.get("saved_by") or ""),
        saved_at=str(value.get("saved_at") or ""),
    )


def _thread_of(suggestion: Suggestion) -> str | None:
    return suggestion.origin.thread if suggestion.origin is not None else None


def _live_item(suggestion: Suggestion) -> CommentedMap:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    entry = suggestion.entry
    item = CommentedMap()
    item["id"] = entry.id
    item["question"] = entry.question
    if entry.also_asked:
        item["also_asked"] = CommentedSeq(entry.also_asked)
    item["answer"] = _block(entry.answer)
    if entry.url:
        item["url"] = entry.url
    if entry.tags:
        item["tags"] = CommentedSeq(entry.tags)
    return item


def _yaml() -> YAML:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long line someone wrote on one line
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _load(path: Path, directory: Path) -> Any:
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.error import YAMLError

    text = read_text_file(path, KnowledgeError, folder=directory)
    if not text.strip():
        return _new_pending_file() if is_pending_file(path) else CommentedMap()
    try:
        return _yaml().load(text)
    except YAMLError as exc:
        raise KnowledgeError(path, f"the YAML cannot be edited: {exc}") from None


def _dump(data: Any) -> str:
    out = io.StringIO()
    _yaml().dump(data, out)
    return out.getvalue()


def _new_pending_file() -> CommentedMap:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    data = CommentedMap(entries=CommentedSeq())
    data.yaml_set_start_comment(_HEADER)
    return data


def _entries(data: Any, path: Path) -> CommentedSeq:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(data, CommentedMap) and "entries" not in data:
        data["entries"] = CommentedSeq()
    items = data.get("entries") if isinstance(data, CommentedMap) else data
    if isinstance(items, CommentedSeq):
        return items
    if items is None and isinstance(data, CommentedMap):
        data["entries"] = CommentedSeq()
        return data["entries"]  # type: ignore[no-any-return]  # ruamel is untyped
    raise KnowledgeError(path, "expected `entries:` followed by a list of FAQ entries")


def _item_id(item: Any) -> str | None:
    return str(item.get("id")) if isinstance(item, dict) and item.get("id") is not None else None


def _block(text: str) -> str:
    from ruamel.yaml.scalarstring import LiteralScalarString

    text = text.strip()
    return LiteralScalarString(text + "\n") if "\n" in text else text


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _slug(question: str) -> str:
    words = re.findall(r"[a-z0-9]+", question.lower())
    kept = [w for w in words if w not in _STOP_WORDS] or words or ["suggestion"]
    slug = ""
    for word in kept:
        if len(slug) + len(word) + 1 > ID_CHARS:
            break
        slug = f"{slug}-{word}" if slug else word
    return slug or kept[0][:ID_CHARS]


def _unique_id(candidate: str, used: set[str]) -> str:
    name, n = candidate, 2
    while name in used:
        name, n = f"{candidate}-{n}", n + 1
    return name


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """An advisory lock on the set's folder (other processes editing the set wait)."""
    descriptor = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def _write(path: Path, text: str) -> None:
    """Replace `path` whole, atomically; a link there is refused, never written through."""
    if path.is_symlink():
        raise KnowledgeError(
            path, "this file is a link to somewhere else; the bot never writes through links"
        )
    handle, scratch = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(scratch, path)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise
