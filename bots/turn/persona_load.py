"""The one load path of a persona: read and validated once, its prompt budget checked with the
token counter the bot then keeps. The bot, `bots check` and the persona tests all use it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bots.errors import PersonaError
from bots.knowledge.finding import Finding
from bots.knowledge.persona import Persona
from bots.knowledge.persona_file import DEFAULT_READER, PersonaFile, PersonaReader, read_persona
from bots.tokens import TokenCounter, counter_for_model
from bots.turn.budget import instructions_budget


@dataclass(frozen=True)
class LoadedPersona:
    """One persona file, loaded: every finding (errors, then budget warnings) and, when none
    is an error, the persona with the token counter of the model that answers for it."""

    file: PersonaFile
    findings: tuple[Finding, ...]
    counter: TokenCounter | None = None

    @property
    def usable(self) -> bool:
        return self.file.persona is not None and not any(
            finding.severity == "error" for finding in self.findings
        )

    def persona(self) -> Persona:
        """The persona, or the PersonaError the bot refuses it with (the first error)."""
        if self.file.problems:
            raise self.file.first_problem()
        for finding in self.findings:
            if finding.severity == "error":
                raise PersonaError(
                    finding.path,
                    finding.message,
                    line=finding.line,
                    column=finding.column,
                    field=finding.field,
                )
        assert self.file.persona is not None  # a file without problems has its persona
        return self.file.persona


def load_persona_file(
    path: Path,
    knowledge_root: Path,
    *,
    model_override: str | None = None,
    reader: PersonaReader = DEFAULT_READER,
) -> LoadedPersona:
    """Read `path` once and check it against `knowledge_root` and its prompt budget.

    Instructions too long to leave room for the FAQ are an error: the bot must not run them,
    and `bots check` says so in the same words.
    """
    file = read_persona(path, knowledge_root, reader)
    findings = [Finding.of(problem) for problem in file.problems]
    if file.persona is None or file.document is None:
        return LoadedPersona(file, tuple(findings))
    counter = counter_for_model(model_override or file.persona.model.name)
    findings += instructions_budget(file.document, file.persona, counter)
    return LoadedPersona(file, tuple(findings), counter)
