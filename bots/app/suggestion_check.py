"""The checks run after "Save as FAQ" wrote a pending entry: `bots check` and the persona tests.

`bots check` reads the knowledge set with its pending file (a broken suggestion is found
at once, with its line) and every persona; the tests of each persona that uses the set run
as `bots check --tests` would. The core gets this as a plain callable from the composition
root (`bots.turn.faq_suggestions.CheckSet`), since it may not import the app.
"""

from __future__ import annotations

from pathlib import Path

from bots.app.check import check_paths
from bots.errors import FileProblem
from bots.knowledge.persona import persona_files
from bots.turn.faq_suggestions import SuggestionCheck

SHOWN_FINDINGS = 3


def check_suggestion_set(
    personas_dir: Path, knowledge_root: Path, set_name: str
) -> SuggestionCheck:
    """Check the set `set_name` and the personas; run the tests of those that use it."""
    from bots.app.persona_tests import run_persona_tests  # retrieval loads slowly

    report = check_paths([*persona_files(personas_dir), knowledge_root / set_name], knowledge_root)
    lines = [f"bots check: {report.summary()}"]
    lines += [f"  {finding.describe()}" for finding in report.errors[:SHOWN_FINDINGS]]
    passed = report.ok
    for path, persona in zip(report.usable_personas, report.loaded, strict=False):
        if set_name not in persona.knowledge.sets:
            continue
        if not path.with_name(f"{path.stem}.tests.yaml").is_file():
            lines.append(f"persona tests for {persona.name}: none written yet")
            continue
        try:
            tests = run_persona_tests(path, knowledge_root, persona)
        except FileProblem as problem:
            lines.append(f"persona tests for {persona.name}: {problem.describe()}")
            passed = False
            continue
        lines.append(
            f"persona tests for {persona.name}: {tests.passed} passed, {tests.failed} failed"
        )
        passed = passed and tests.failed == 0
    return SuggestionCheck(passed, "\n".join(lines))
