"""The checks after "Save as FAQ": `bots check` on the pending file, and the persona tests
run as if the entry were approved, on a copy (the real files stay as they are)."""

from __future__ import annotations

import shutil
from pathlib import Path

from bots.app.suggestion_check import check_suggestion_set
from bots.knowledge.pending import NewSuggestion, Origin, PendingFaq
from tests.conftest import DATA


def folders(tmp_path: Path) -> tuple[Path, Path]:
    shutil.copytree(DATA / "personas", tmp_path / "personas")
    shutil.copytree(DATA / "knowledge", tmp_path / "knowledge")
    (tmp_path / "personas" / "cafe.tests.yaml").write_text(
        "tests:\n  - ask: do you have wifi?\n    answer_from: wifi\n", encoding="utf-8"
    )
    return tmp_path / "personas", tmp_path / "knowledge"


def save(root: Path, question: str, answer: str) -> str:
    origin = Origin(f"t/{question}", None, "U0STAFF", "2026-12-02")
    return (
        PendingFaq(root)
        .add("cafe", NewSuggestion(question, answer, (), origin))
        .suggestion.entry.id
    )


def test_a_good_suggestion_passes_and_answers_its_own_question(tmp_path: Path) -> None:
    personas, root = folders(tmp_path)
    entry = save(root, "Do you sell gift cards?", "Yes, from $25.")
    before = {p: p.read_bytes() for p in (root / "cafe").iterdir()}
    check = check_suggestion_set(personas, root, "cafe", entry)
    assert check.passed, check.summary
    assert "persona tests for cafe with it approved: 1 passed, 0 failed" in check.summary
    assert "its question would be answered from it" in check.summary
    assert {p: p.read_bytes() for p in (root / "cafe").iterdir()} == before  # a copy was used


def test_a_suggestion_that_takes_another_entrys_question_is_shown(tmp_path: Path) -> None:
    personas, root = folders(tmp_path)
    entry = save(root, "Do you have wifi?", "Ask at the counter.")
    check = check_suggestion_set(personas, root, "cafe", entry)
    assert not check.passed
    assert "1 failed" in check.summary
    assert "FAIL: 'do you have wifi?': expected answers from wifi" in check.summary


def test_a_broken_pending_file_is_reported_with_its_line(tmp_path: Path) -> None:
    personas, root = folders(tmp_path)
    (root / "cafe" / "pending.yaml").write_text(
        "entries:\n  - id: x\n    question: Q?\n    answr: typo\n", encoding="utf-8"
    )
    check = check_suggestion_set(personas, root, "cafe")
    assert not check.passed
    assert "pending.yaml:4" in check.summary
