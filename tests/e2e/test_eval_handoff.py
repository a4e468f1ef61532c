"""`bots eval handoff` as a user runs it: the contract's JSON figures, the table, clear errors."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest

from bots.errors import BotsError
from bots.evals.handoff import ProgressLine, evaluate_handoff, load_jsonl
from tests.support.cli_runner import run_bots
from tests.support.paths import REPO_ROOT, TEST_DATA

ROOT = REPO_ROOT
# Invented rows: 7 scored (3 ask for a person; row 3 is one the detector should miss; row 7 is
# labelled negative on purpose so a false positive is counted), 2 ambiguous (one flagged), and a
# blank line that is skipped.
FIXTURE = TEST_DATA / "handoff" / "utterances.jsonl"
CONTRACT_KEYS = {
    "n",
    "positives",
    "precision",
    "recall",
    "f1",
    "false_positive_rate",
    "ambiguous_flagged_rate",
    "ms_per_message",
}


def bots_eval(*args: str) -> subprocess.CompletedProcess[str]:
    return run_bots(["eval", "handoff", *args])


def test_json_output_is_one_object_with_the_contract_figures() -> None:
    # The rules alone: the figures below are theirs (the examples would find row 3 too).
    result = bots_eval("--data", str(FIXTURE), "--json", "--rules-only")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert result.stdout.strip().count("\n") == 0
    assert set(figures) == CONTRACT_KEYS | {"ms_p50", "ms_p99", "by_language"}
    ms = figures.pop("ms_per_message")
    assert isinstance(ms, float)
    assert 0 <= ms < 50
    assert 0 <= figures.pop("ms_p50") <= figures.pop("ms_p99")
    by_language = figures.pop("by_language")
    assert set(by_language) == {"en"}  # rows without `lang` are English
    assert by_language["en"]["f1"] == 0.6667
    assert figures == {
        "n": 7,
        "positives": 3,
        "precision": 0.6667,
        "recall": 0.6667,
        "f1": 0.6667,
        "false_positive_rate": 0.25,
        "ambiguous_flagged_rate": 0.5,
    }


def test_table_output_shows_figures_and_misclassified_rows() -> None:
    result = bots_eval("--data", str(FIXTURE), "--rules-only")
    assert result.returncode == 0, result.stderr
    assert "precision" in result.stdout
    assert "false negative: whoever is reading this, I need help from you" in result.stdout
    assert "false positive: let me speak to a manager" in result.stdout


def test_missing_file_is_a_one_line_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    result = bots_eval("--data", str(missing), "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert str(missing) in result.stderr


def test_bad_line_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "hi", "wants_human": false}\n{"text": oops}\n', encoding="utf-8")
    result = bots_eval("--data", str(bad), "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert f"{bad}:2:" in result.stderr


def test_load_jsonl_rejects_a_line_that_is_not_an_object(tmp_path: Path) -> None:
    bad = tmp_path / "list.jsonl"
    bad.write_text('{"text": "a", "wants_human": true}\n[1, 2]\n', encoding="utf-8")
    rows = load_jsonl(bad)
    assert next(rows)["text"] == "a"
    with pytest.raises(BotsError, match=r"list\.jsonl:2:"):
        next(rows)


def test_row_without_the_fields_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "fields.jsonl"
    bad.write_text('{"text": "a", "wants_human": true}\n\n{"text": "b"}\n', encoding="utf-8")
    result = bots_eval("--data", str(bad))
    assert result.returncode == 2
    assert f"{bad}:3: needs a bool `wants_human`" in result.stderr


def test_rows_without_the_fields_are_refused() -> None:
    with pytest.raises(BotsError, match="row 1"):
        evaluate_handoff([{"text": "hi"}])


def test_any_detector_and_progress_callback() -> None:
    rows = [
        {"text": "yes", "wants_human": True},
        {"text": "no", "wants_human": False},
        {"text": "maybe", "wants_human": False, "ambiguous": True},
    ]
    seen: list[int] = []
    figures = evaluate_handoff(rows, detector=lambda text: text != "no", progress=seen.append)
    assert seen == [1, 2, 3]
    assert figures["n"] == 2
    assert figures["f1"] == 1.0
    assert figures["false_positive_rate"] == 0.0
    assert figures["ambiguous_flagged_rate"] == 1.0


def test_empty_input_gives_zeros_not_a_crash() -> None:
    figures = evaluate_handoff([])
    assert figures["n"] == 0
    assert figures["f1"] == 0.0
    assert figures["ms_per_message"] == 0.0


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_redraws_every_n_rows_on_a_terminal_only() -> None:
    terminal = FakeTerminal()
    line = ProgressLine("eval", every=2, stream=terminal)
    for done in range(1, 6):
        line(done)
    line.close()
    assert terminal.getvalue().count("\r") == 3  # rows 2 and 4, then the clearing
    assert "eval: 4 rows" in terminal.getvalue()
    piped = io.StringIO()
    quiet = ProgressLine("eval", every=1, stream=piped)
    quiet(1)
    quiet.close()
    assert piped.getvalue() == ""


def test_figures_per_language_follow_the_rows_lang() -> None:
    rows = [
        {"text": "a", "wants_human": True, "lang": "ja"},
        {"text": "b", "wants_human": False, "lang": "ja"},
        {"text": "c", "wants_human": True, "lang": "sv"},
        {"text": "d", "wants_human": False},
    ]
    figures = evaluate_handoff(rows, lambda text: text in {"a", "b"})
    assert figures["by_language"]["ja"] == {
        "n": 2,
        "positives": 1,
        "precision": 0.5,
        "recall": 1.0,
        "f1": 0.6667,
        "false_positive_rate": 1.0,
    }
    assert figures["by_language"]["sv"]["recall"] == 0.0
    assert figures["by_language"]["en"]["n"] == 1
    assert figures["n"] == 4
