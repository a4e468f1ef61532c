"""`bots knowledge pending` and `bots knowledge approve ID`, as a person runs them."""

from __future__ import annotations

import shutil
from pathlib import Path

from bots.knowledge.pending import NewSuggestion, Origin, PendingFaq
from tests.conftest import DATA
from tests.support.cli_runner import clean_env, run_bots


def folders(tmp_path: Path) -> dict[str, str]:
    shutil.copytree(DATA / "personas", tmp_path / "personas")
    shutil.copytree(DATA / "knowledge", tmp_path / "knowledge")
    (tmp_path / "personas" / "cafe.tests.yaml").write_text(
        "tests:\n  - ask: is there wifi?\n    answer_from: wifi\n", encoding="utf-8"
    )
    origin = Origin(
        "slack/T1/C1/1.2", "https://x.slack.com/archives/C1/p12", "U0STAFF", "2026-12-02"
    )
    PendingFaq(tmp_path / "knowledge").add(
        "cafe",
        NewSuggestion("Do you sell gift cards?", "Yes, from $25 at the counter.", (), origin),
    )
    return clean_env(
        BOTS_PERSONAS_DIR=str(tmp_path / "personas"),
        BOTS_KNOWLEDGE_DIR=str(tmp_path / "knowledge"),
        BOTS_PERSONA="cafe",
        DATABASE_URL=f"sqlite:///{tmp_path / 'bots.sqlite3'}",
        BOTS_SEMANTIC="off",
        BOTS_HANDOFF_SEMANTIC="off",
    )


def test_list_approve_and_answer(tmp_path: Path) -> None:
    env = folders(tmp_path)
    listed = run_bots(["knowledge", "pending"], env)
    assert listed.returncode == 0, listed.stderr
    assert "sell-gift-cards  (cafe," in listed.stdout
    assert "Q: Do you sell gift cards?" in listed.stdout
    assert "From a staff answer by U0STAFF on 2026-12-02: https://x.slack.com" in listed.stdout

    before = run_bots(["ask", "do you sell gift cards?"], env)
    assert "Sorry, I don't know that." in before.stdout  # pending: not answered from

    approved = run_bots(["knowledge", "approve", "sell-gift-cards"], env)
    assert approved.returncode == 0, approved.stdout + approved.stderr
    assert "approved sell-gift-cards: moved into" in approved.stdout
    assert "bots check: all good" in approved.stdout
    assert "persona tests for cafe: 1 passed, 0 failed" in approved.stdout

    after = run_bots(["ask", "do you sell gift cards?"], env)
    assert "Yes, from $25 at the counter." in after.stdout
    assert "no suggested FAQ entries are waiting" in run_bots(["knowledge", "pending"], env).stdout


def test_an_unknown_id_is_a_plain_error(tmp_path: Path) -> None:
    env = folders(tmp_path)
    result = run_bots(["knowledge", "approve", "nope"], env)
    assert result.returncode == 2
    assert "no pending FAQ entry has the id 'nope' (pending: sell-gift-cards)" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_pending_file_name_is_refused(tmp_path: Path) -> None:
    env = folders(tmp_path) | {"BOTS_PENDING_FILE": "suggestions.yaml"}
    result = run_bots(["knowledge", "pending"], env)
    assert result.returncode == 2
    assert "BOTS_PENDING_FILE: the pending file must be called pending.yaml" in result.stderr
