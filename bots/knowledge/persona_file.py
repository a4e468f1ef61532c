"""One persona file read once: its document (for placed errors) and the persona or its problems.

The bot, `bots check`, the persona tests and a future web studio all read persona files
through `read_persona`, so each file is parsed once and validated once per load.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bots.errors import PersonaError
from bots.knowledge.persona import Persona, PersonaValidator, name_problem, validate_persona
from bots.knowledge.yamlfile import YamlDocument, read_yaml


def parse_persona_yaml(path: Path) -> YamlDocument:
    """Parse a persona file; unreadable text or broken YAML raises a placed PersonaError."""
    return read_yaml(path, PersonaError)


@dataclass(frozen=True)
class PersonaReader:
    """How persona files are parsed and validated; a test injects its own to count both."""

    parse: Callable[[Path], YamlDocument] = parse_persona_yaml
    validate: PersonaValidator = field(default=Persona.model_validate)


DEFAULT_READER = PersonaReader()


@dataclass(frozen=True)
class PersonaFile:
    """What one read of a persona file gave: `persona` is None when any problem is an error.

    `document` is None only when the file could not be parsed at all (the problem says why).
    """

    path: Path
    document: YamlDocument | None
    persona: Persona | None
    problems: tuple[PersonaError, ...] = ()

    def first_problem(self) -> PersonaError:
        """The problem to raise when the persona must load: the first, with a count of more."""
        first = self.problems[0]
        more = len(self.problems) - 1
        if more:
            first = PersonaError(
                first.path,
                f"{first.detail} (and {more} more problem(s); run `bots check`)",
                line=first.line,
                column=first.column,
                field=first.field,
            )
        return first


def read_persona(
    path: Path, knowledge_root: Path | None = None, reader: PersonaReader = DEFAULT_READER
) -> PersonaFile:
    """Parse and validate `path` once; with `knowledge_root`, also find missing `knowledge.sets`.

    A persona whose `name` is not its file name, or that names a missing knowledge folder, is
    returned with those problems and no persona: the bot must not run it.
    """
    try:
        document = reader.parse(path)
    except PersonaError as problem:
        return PersonaFile(path, None, None, (problem,))
    persona, problems = validate_persona(document, reader.validate)
    mismatch = name_problem(document)
    if mismatch is not None and not any(problem.field == "name" for problem in problems):
        problems.append(mismatch)
    if knowledge_root is not None:
        problems += missing_set_problems(document, knowledge_root)
    return PersonaFile(path, document, None if problems else persona, tuple(problems))


def missing_set_problems(document: YamlDocument, knowledge_root: Path) -> list[PersonaError]:
    """One problem per entry of `knowledge.sets` with no folder, at that entry's position."""
    data = document.data if isinstance(document.data, dict) else {}
    knowledge = data.get("knowledge")
    sets = knowledge.get("sets") if isinstance(knowledge, dict) else None
    if not isinstance(sets, list):
        return []
    available = _available_sets(knowledge_root)
    problems = []
    for index, name in enumerate(sets):
        if not isinstance(name, str) or not name or (knowledge_root / name).is_dir():
            continue
        line, column = document.where(("knowledge", "sets", index)) or (None, None)
        message = _missing_set_message(name, knowledge_root, available)
        problems.append(
            PersonaError(document.path, message, line=line, column=column, field="knowledge.sets")
        )
    return problems


def _available_sets(knowledge_root: Path) -> list[str]:
    return sorted(p.name for p in knowledge_root.glob("*") if p.is_dir())


def _missing_set_message(name: str, knowledge_root: Path, available: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, available, n=1, cutoff=0.6)
    listed = ", ".join(available) or "none"
    hint = f"did you mean `{close[0]}`? (available: {listed})" if close else f"available: {listed}"
    return f"there is no knowledge folder {name!r} in {knowledge_root}; {hint}"
