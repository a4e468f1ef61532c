"""What a studio form turns into: the new text of a persona, FAQ or tests file, and its check."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from bots.errors import KnowledgeError
from bots.knowledge.files import knowledge_files
from bots.knowledge.finding import Finding
from bots.knowledge.persona import Persona
from bots.knowledge.reading import read_text_file
from bots.studio import roundtrip
from bots.studio.form import Field, FormData, apply_form, leaves

CheckPersona = Callable[[Path, Path], list[Finding]]
CheckKnowledgeSet = Callable[[Path, Sequence[Path]], tuple[list[Finding], int]]
ENTRY_FIELDS = ("id", "question", "also_asked", "answer", "url", "tags")


@dataclass(frozen=True)
class Checked:
    """New file text and what `bots check` says about it, keyed by form field."""

    text: str
    by_field: dict[str, list[str]]
    general: list[str]
    warnings: list[str]

    @property
    def ok(self) -> bool:
        return not self.by_field and not self.general


def persona_text(original: str, fields: Sequence[Field], form: FormData) -> str:
    data = roundtrip.load(original) if original.strip() else CommentedMap()
    apply_form(data, fields, form)
    return roundtrip.dump(data)


def check_persona_text(
    name: str, text: str, fields: Sequence[Field], knowledge_dir: Path, check: CheckPersona
) -> Checked:
    """`bots check` on the text as if saved: written to a scratch folder under its own name."""
    with tempfile.TemporaryDirectory(prefix="bots-studio-check-") as scratch:
        path = Path(scratch) / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        findings = check(path, knowledge_dir)
    return _sorted(text, findings, [f.name for f in leaves(fields)])


def _sorted(text: str, findings: Sequence[Finding], names: Sequence[str]) -> Checked:
    by_field: dict[str, list[str]] = {}
    general: list[str] = []
    warnings: list[str] = []
    for finding in findings:
        if finding.severity == "warning":
            warnings.append(finding.message)
            continue
        target = _field_for(finding.field, names)
        if target is None:
            where = f"line {finding.line}: " if finding.line else ""
            field = f"`{finding.field}`: " if finding.field else ""
            general.append(f"{where}{field}{finding.message}")
        else:
            by_field.setdefault(target, []).append(finding.message)
    return Checked(text, by_field, general, warnings)


def _field_for(field: str | None, names: Sequence[str]) -> str | None:
    if not field:
        return None
    matches = [n for n in names if field == n or field.startswith(n + ".")]
    return max(matches, key=len) if matches else None


def persona_of(text: str) -> Persona:
    """The persona the bot would load from this (already checked) text."""
    return Persona.model_validate(yaml.safe_load(text))


# --- FAQ entries ------------------------------------------------------------------------------


def entry_items(data: Any) -> CommentedSeq:
    items = data.get("entries") if isinstance(data, dict) else data
    if not isinstance(items, CommentedSeq):
        raise KnowledgeError("", "expected `entries:` followed by a list of FAQ entries")
    return items


def entry_text(original: str, old_id: str | None, values: dict[str, Any]) -> str:
    """The file with one entry changed in place (or appended, when `old_id` is None)."""
    data = roundtrip.load(original) if original.strip() else CommentedMap(entries=CommentedSeq())
    items = entry_items(data)
    clean = {k: v for k, v in values.items() if v not in ("", [], None)}
    target = _find(items, old_id) if old_id else None
    if target is None:
        fresh = CommentedMap()
        for key in ENTRY_FIELDS:
            if key in clean:
                roundtrip.set_value(fresh, (key,), clean[key])
        items.append(fresh)
    else:
        for key in ENTRY_FIELDS:
            roundtrip.set_value(target, (key,), clean.get(key))
    return roundtrip.dump(data)


def without_entry(original: str, entry_id: str) -> str:
    data = roundtrip.load(original)
    items = entry_items(data)
    target = _find(items, entry_id)
    if target is not None:
        items.remove(target)
    return roundtrip.dump(data)


def _find(items: CommentedSeq, entry_id: str) -> CommentedMap | None:
    for item in items:
        if isinstance(item, CommentedMap) and str(item.get("id")) == entry_id:
            return item
    return None


def check_knowledge_text(
    set_dir: Path, file: Path, text: str, check: CheckKnowledgeSet
) -> list[Finding]:
    """`bots check` on the whole set with this file's new text (ids must stay unique in it)."""
    with tempfile.TemporaryDirectory(prefix="bots-studio-check-") as scratch:
        copy_root = Path(scratch) / set_dir.name
        for source in knowledge_files(set_dir):
            relative = source.relative_to(set_dir)
            if source == file:
                continue
            target = copy_root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(read_text_file(source, KnowledgeError, folder=set_dir), "utf-8")
        edited = copy_root / file.relative_to(set_dir)
        edited.parent.mkdir(parents=True, exist_ok=True)
        edited.write_text(text, encoding="utf-8")
        findings, _count = check(copy_root, knowledge_files(copy_root))
    return [f for f in findings if f.severity == "error"]


# --- persona tests ----------------------------------------------------------------------------


def tests_text(original: str, ask: str, expectation: dict[str, Any]) -> str:
    """The tests file with one more case at the end of `tests:`."""
    data = roundtrip.load(original) if original.strip() else CommentedMap(tests=CommentedSeq())
    cases = data.get("tests")
    if not isinstance(cases, CommentedSeq):
        cases = CommentedSeq()
        data["tests"] = cases
    case = CommentedMap(ask=ask)
    case.update(expectation)
    cases.append(case)
    return roundtrip.dump(data)
