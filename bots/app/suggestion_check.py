"""The checks run after "Save as FAQ" wrote a pending entry: `bots check` and the persona tests.

`bots check` reads the knowledge set with its pending file (a broken suggestion is found
at once, with its line) and every persona. The persona tests of each persona that uses
the set then run on a scratch copy of its knowledge in which the new entry is already
approved, so the verdict says what approving would do: whether the entry takes a test
question from another entry, and which entry would answer its own question. The real
files are not touched. The core gets this as a plain callable from the composition root
(`bots.turn.faq_suggestions.CheckSet`), since it may not import the app.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bots.app.check import check_paths
from bots.errors import FileProblem, KnowledgeError
from bots.knowledge.files import knowledge_files
from bots.knowledge.pending import PendingFaq
from bots.knowledge.persona import Persona, persona_files
from bots.knowledge.reading import read_text_file
from bots.turn.faq_suggestions import SuggestionCheck

SHOWN_FINDINGS = 3


def check_suggestion_set(
    personas_dir: Path, knowledge_root: Path, set_name: str, entry_id: str | None = None
) -> SuggestionCheck:
    """Check the set `set_name` and the personas; run the tests of those that use it, as if
    the pending entry `entry_id` were approved (as the files are, without one)."""
    report = check_paths([*persona_files(personas_dir), knowledge_root / set_name], knowledge_root)
    lines = [f"bots check: {report.summary()}"]
    lines += [f"  {finding.describe()}" for finding in report.errors[:SHOWN_FINDINGS]]
    users = [
        (path, persona)
        for path, persona in zip(report.usable_personas, report.loaded, strict=False)
        if set_name in persona.knowledge.sets
    ]
    with tempfile.TemporaryDirectory(prefix="bots-suggestion-") as scratch:
        root, question = knowledge_root, None
        if entry_id is not None:
            sets = {name for _, persona in users for name in persona.knowledge.sets}
            try:
                root, question = _as_if_approved(knowledge_root, Path(scratch), sets, entry_id)
            except FileProblem as problem:
                lines.append(f"not tried as approved: {problem.describe()}")
        passed = report.ok
        for path, persona in users:
            verdict, ok = _tests(path, persona, root, question, entry_id)
            lines += verdict
            passed = passed and ok
    return SuggestionCheck(passed, "\n".join(lines))


def _as_if_approved(
    knowledge_root: Path, scratch: Path, sets: set[str], entry_id: str
) -> tuple[Path, str]:
    """A copy of `sets` with the entry approved in it; the entry's question."""
    for name in sorted(sets):
        folder = knowledge_root / name
        for source in knowledge_files(folder) if folder.is_dir() else []:
            try:
                text = read_text_file(source, KnowledgeError, folder=folder)
            except KnowledgeError:
                continue  # a link or a special file: `bots check` reports it
            target = scratch / name / source.relative_to(folder)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    for name in sets:
        (scratch / name).mkdir(exist_ok=True)
    moved = PendingFaq(scratch).approve(entry_id)
    return scratch, moved.entry.question


def _tests(
    path: Path, persona: Persona, root: Path, question: str | None, entry_id: str | None
) -> tuple[list[str], bool]:
    from bots.app.persona_tests import run_persona_tests  # retrieval loads slowly
    from bots.knowledge.files import load_knowledge
    from bots.turn.runtime import PersonaRuntime

    lines: list[str] = []
    ok = True
    approved = " with it approved" if question is not None else ""
    if path.with_name(f"{path.stem}.tests.yaml").is_file():
        try:
            tests = run_persona_tests(path, root, persona)
            lines.append(
                f"persona tests for {persona.name}{approved}: "
                f"{tests.passed} passed, {tests.failed} failed"
            )
            lines += [
                f"  FAIL: {case.question!r}: expected {case.expected}, got {case.got}"
                for case in tests.cases
                if not case.passed
            ][:SHOWN_FINDINGS]
            ok = tests.failed == 0
        except FileProblem as problem:
            lines.append(f"persona tests for {persona.name}: {problem.describe()}")
            ok = False
    else:
        lines.append(f"persona tests for {persona.name}: none written yet")
    if question is not None:
        entries = load_knowledge(root, persona.knowledge.sets)
        found = PersonaRuntime.build(persona, entries, None).retriever.search(question)
        best = found.best
        if found.confident and best is not None and best.entry.id == entry_id:
            lines.append(f"its question would be answered from it ({best.confidence:.2f})")
        else:
            other = best.entry.id if best is not None and found.confident else "no entry"
            lines.append(f"its question would be answered from {other} instead: reword it")
    return lines, ok
