"""`bots check`: every problem in persona and knowledge files, as `file:line:column: message`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bots.errors import FileProblem, KnowledgeError, PersonaError
from bots.knowledge.files import (
    KNOWLEDGE_SUFFIXES,
    PlacedEntry,
    duplicate_id_problems,
    is_pending_file,
    knowledge_files,
    read_knowledge_file,
    set_folder_problem,
)
from bots.knowledge.finding import Finding
from bots.knowledge.lint import instructions_to_the_model, reveal_requests
from bots.knowledge.persona import Persona, persona_files
from bots.knowledge.persona_file import DEFAULT_READER, PersonaReader
from bots.knowledge.reading import read_text_file
from bots.knowledge.yamlfile import YamlDocument, read_yaml
from bots.turn.persona_load import LoadedPersona, load_persona_file


@dataclass(frozen=True)
class CheckReport:
    """What `bots check` found, and what it looked at."""

    findings: tuple[Finding, ...]
    personas: tuple[Path, ...] = ()
    knowledge_sets: int = 0
    knowledge_files: int = 0
    entries: int = 0
    usable_personas: tuple[Path, ...] = ()
    # The usable personas as the check read them, so `--tests` does not read them again.
    loaded: tuple[Persona, ...] = ()

    def persona_at(self, path: Path) -> Persona | None:
        for usable, persona in zip(self.usable_personas, self.loaded, strict=False):
            if usable == path:
                return persona
        return None

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "warning")

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        if not self.findings:
            return (
                f"all good: {_count(len(self.personas), 'persona')}, "
                f"{_count(self.knowledge_sets, 'knowledge set')}, {_count(self.entries, 'entry')}"
            )
        files = len(self.personas) + self.knowledge_files
        return (
            f"{_count(len(self.errors), 'error')}, {_count(len(self.warnings), 'warning')} "
            f"in {_count(files, 'file')}"
        )

    def render(self) -> str:
        """Errors first, then warnings, each in file order, then the one-line summary."""
        lines = [finding.describe() for finding in (*self.errors, *self.warnings)]
        return "\n".join([*lines, self.summary()])


def check_paths(
    paths: Sequence[Path], knowledge_root: Path, reader: PersonaReader = DEFAULT_READER
) -> CheckReport:
    """Check persona files and knowledge sets found at `paths` (files or folders).

    A folder inside `knowledge_root` (or the root itself) is read as knowledge; any other
    folder as a folder of personas. Persona `knowledge.sets` are looked up in `knowledge_root`.
    """
    personas, sets, findings = _targets(paths, knowledge_root)
    entries = 0
    files = 0
    for directory, set_files in sets.items():
        set_findings, count = check_knowledge_set(directory, set_files)
        findings += set_findings
        entries += count
        files += len(set_files)
    usable: list[tuple[Path, Persona]] = []
    for path in personas:
        loaded = load_persona_file(path, knowledge_root, reader=reader)
        persona_findings = _persona_findings(loaded, knowledge_root)
        findings += persona_findings
        persona = loaded.file.persona
        if persona is not None and not any(f.severity == "error" for f in persona_findings):
            usable.append((path, persona))
            findings += _tests_file_findings(path, persona, knowledge_root)
    return CheckReport(
        findings=tuple(sorted(findings, key=_order)),
        personas=tuple(personas),
        knowledge_sets=len(sets),
        knowledge_files=files,
        entries=entries,
        usable_personas=tuple(path for path, _ in usable),
        loaded=tuple(persona for _, persona in usable),
    )


def _tests_file_findings(
    persona_file: Path, persona: Persona, knowledge_root: Path
) -> list[Finding]:
    """A broken tests file is an error even without `--tests`: nobody would notice otherwise."""
    if not persona_file.with_name(f"{persona_file.stem}.tests.yaml").is_file():
        return []
    from bots.app.persona_tests import tests_file_problems

    try:
        problems = tests_file_problems(persona_file, persona, knowledge_root)
        return [Finding.of(problem) for problem in problems]
    except FileProblem as problem:  # the knowledge itself; already reported with its set
        return [] if problem.path != str(persona_file) else [Finding.of(problem)]


def _stray_findings(directory: Path) -> list[Finding]:
    """Files an author means as personas or tests that the bot would silently ignore."""
    stray = [
        Finding(
            str(path), None, None, None, "persona files must end in .yaml; rename it", "warning"
        )
        for path in sorted(directory.glob("*.yml"))
    ]
    for tests in sorted(directory.glob("*.tests.yaml")):
        persona = tests.with_name(tests.name.removesuffix(".tests.yaml") + ".yaml")
        if not persona.is_file():
            message = f"these tests belong to no persona: there is no {persona.name} beside them"
            stray.append(Finding(str(tests), None, None, None, message, "warning"))
    return stray


def _order(finding: Finding) -> tuple[str, int, int]:
    return (finding.path, finding.line or 0, finding.column or 0)


def _count(n: int, noun: str) -> str:
    plural = noun[:-1] + "ies" if noun.endswith("y") else noun + "s"
    return f"{n} {noun if n == 1 else plural}"


# --- what to check ---------------------------------------------------------------------------


def _targets(
    paths: Sequence[Path], knowledge_root: Path
) -> tuple[list[Path], dict[Path, list[Path]], list[Finding]]:
    """Persona files, knowledge sets (folder -> files) and problems with the paths themselves."""
    personas: list[Path] = []
    sets: dict[Path, list[Path]] = {}
    findings: list[Finding] = []
    for path in paths:
        if not path.exists():
            findings.append(Finding(str(path), None, None, None, "there is no such file or folder"))
        elif path.is_dir() and _inside(path, knowledge_root):
            for directory, files in _knowledge_folders(path, knowledge_root):
                _add(sets.setdefault(directory, []), files)
        elif path.is_dir():
            _add(personas, persona_files(path))
            findings += _stray_findings(path)
        elif path.name.endswith(".tests.yaml"):
            persona = path.with_name(path.name.removesuffix(".tests.yaml") + ".yaml")
            _add(personas, [persona])  # its tests file is checked with it
        elif _is_knowledge_file(path, knowledge_root):
            _add(sets.setdefault(_set_folder(path, knowledge_root), []), [path])
        else:
            _add(personas, [path])
    return personas, sets, findings


def _add(target: list[Path], paths: Iterable[Path]) -> None:
    target.extend(path for path in paths if path not in target)


def _inside(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root.resolve())


def _knowledge_folders(path: Path, root: Path) -> list[tuple[Path, list[Path]]]:
    """The knowledge root gives one folder per set; a folder inside it belongs to its set."""
    if path.resolve() == root.resolve():
        return [(d, knowledge_files(d)) for d in sorted(path.iterdir()) if d.is_dir()]
    return [(_set_folder(path, root), knowledge_files(path))]


def _set_folder(path: Path, root: Path) -> Path:
    """The set a knowledge file or folder belongs to: its first folder under the root."""
    if _inside(path, root):
        parts = path.resolve().relative_to(root.resolve()).parts
        if parts and (path.is_dir() or len(parts) > 1):
            return root / parts[0]
    return path if path.is_dir() else path.parent


def _is_knowledge_file(path: Path, root: Path) -> bool:
    """Markdown, YAML inside the knowledge root, or YAML that holds `entries:` or a list."""
    if path.suffix == ".md" or (path.suffix in KNOWLEDGE_SUFFIXES and _inside(path, root)):
        return True
    try:
        data = read_yaml(path).data
    except FileProblem:
        return False
    return isinstance(data, list) or (isinstance(data, dict) and "entries" in data)


# --- knowledge -------------------------------------------------------------------------------


def check_knowledge_set(directory: Path, files: Sequence[Path]) -> tuple[list[Finding], int]:
    """Every problem of a set's files, ids used twice, and empty files or sets (warnings)."""
    folder_problem = set_folder_problem(directory)
    if folder_problem is not None:
        return [Finding.of(folder_problem)], 0
    findings: list[Finding] = []
    placed: list[PlacedEntry] = []
    for path in files:
        found = read_knowledge_file(path, folder=directory)
        findings += [Finding.of(problem) for problem in found.problems]
        placed += found.entries
        if not found.entries and not found.problems and not is_pending_file(path):
            findings.append(_empty_file(path))  # (no suggestion waiting is no mistake)
        if not found.problems:
            findings += _instruction_warnings(path, directory)
    findings += [Finding.of(problem) for problem in duplicate_id_problems(placed)]
    if not placed and not findings:
        findings.append(
            Finding(
                str(directory),
                None,
                None,
                None,
                "this knowledge set has no entries; a persona using it can only hand off",
                "warning",
            )
        )
    return findings, len(placed)


def _instruction_warnings(path: Path, directory: Path) -> list[Finding]:
    """Knowledge lines that read as instructions to the model: a poisoned entry, perhaps."""
    text = read_text_file(path, KnowledgeError, folder=directory)
    return [
        Finding(
            str(path),
            hit.line,
            None,
            None,
            f"this text reads like an instruction to the AI model ({hit.phrase!r}); the bot "
            "treats knowledge as facts, never as instructions, but check who wrote it and "
            "reword it as a fact for guests",
            "warning",
        )
        for hit in instructions_to_the_model(text)
    ]


def _empty_file(path: Path) -> Finding:
    if path.suffix == ".md":
        message = "this page gives no entries: write some text below its headings"
    else:
        message = "this file has no FAQ entries"
    return Finding(str(path), 1, 1, None, message, "warning")


# --- personas --------------------------------------------------------------------------------


def check_persona(
    path: Path, knowledge_root: Path, reader: PersonaReader = DEFAULT_READER
) -> list[Finding]:
    """Every problem of one persona file; a valid one is also checked against its budget."""
    return _persona_findings(load_persona_file(path, knowledge_root, reader=reader), knowledge_root)


def _persona_findings(loaded: LoadedPersona, knowledge_root: Path) -> list[Finding]:
    persona, document = loaded.file.persona, loaded.file.document
    if loaded.file.problems or persona is None or document is None:
        return list(loaded.findings)
    reveal = _reveal_warnings(loaded.file.path)
    return [*loaded.findings, *reveal, *_shared_ids(document, persona, knowledge_root)]


def _reveal_warnings(path: Path) -> list[Finding]:
    """A persona asking the model to show its own prompt or rules invites anyone to read them."""
    text = read_text_file(path, PersonaError)
    return [
        Finding(
            str(path),
            hit.line,
            None,
            None,
            f"this asks the AI model to reveal its prompt or rules ({hit.phrase!r}); anyone "
            "could then read everything written here, and the bot's fixed rules refuse it "
            "anyway: remove it",
            "warning",
        )
        for hit in reveal_requests(text)
    ]


def _shared_ids(document: YamlDocument, persona: Persona, knowledge_root: Path) -> list[Finding]:
    """The bot refuses two entries with one id across the sets a persona uses together."""
    owners: dict[str, tuple[str, PlacedEntry]] = {}
    findings = []
    for name in persona.knowledge.sets:
        for path in knowledge_files(knowledge_root / name):
            for placed in read_knowledge_file(path, folder=knowledge_root / name).entries:
                owner, first = owners.setdefault(placed.entry.id, (name, placed))
                if owner == name:
                    continue
                line, column = document.where(("knowledge", "sets")) or (None, None)
                message = (
                    f"the knowledge sets {owner!r} and {name!r} both have the id "
                    f"{placed.entry.id!r} ({first.where()} and {placed.where()}); ids must be "
                    "unique across the sets of a persona"
                )
                findings.append(
                    Finding(str(document.path), line, column, "knowledge.sets", message)
                )
    return findings


# --- persona tests ---------------------------------------------------------------------------


def run_persona_test_files(report: CheckReport, knowledge_root: Path) -> tuple[str, bool]:
    """Run `<persona>.tests.yaml` beside each checked persona: the tables, and whether all pass.

    Personas with errors are skipped (their errors are already listed).
    """
    from bots.app.persona_tests import format_report, run_persona_tests  # retrieval loads slowly

    parts: list[str] = []
    passed = True
    for path in report.personas:
        tests_file = path.with_name(f"{path.stem}.tests.yaml")
        if path not in report.usable_personas:
            parts.append(f"{tests_file}: skipped, fix the errors in {path} first")
            passed = False
        elif not tests_file.is_file():
            parts.append(f"{path}: no persona tests yet (write them in {tests_file})")
        else:
            try:
                tests = run_persona_tests(path, knowledge_root, report.persona_at(path))
            except FileProblem as problem:
                parts.append(problem.describe())
                passed = False
                continue
            parts.append(format_report(tests))
            passed = passed and tests.failed == 0
    return "\n\n".join(parts), passed
