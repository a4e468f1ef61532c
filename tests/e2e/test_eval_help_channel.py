"""`bots eval help-channel` as a user runs it: the JSON figures, the table, a plain error."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli_runner import run_bots
from tests.support.paths import REPO_ROOT

HELD_OUT = REPO_ROOT / "evals" / "help_channel" / "heldout.jsonl"


def test_json_figures_of_the_rules_on_the_held_out_set() -> None:
    result = run_bots(["eval", "help-channel", "--data", str(HELD_OUT), "--json", "--rules-only"])
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert (figures["n"], figures["questions"]) == (60, 30)
    assert (figures["precision"], figures["recall"]) == (0.9444, 0.5667)
    assert "anyone else excited for the new release?" in figures["misses"]["false_positives"]


def test_the_table_and_a_broken_file(tmp_path: Path) -> None:
    table = run_bots(["eval", "help-channel", "--data", str(HELD_OUT), "--rules-only"])
    assert table.returncode == 0, table.stderr
    assert "help-channel question detector on" in table.stdout
    assert "false positive: anyone else excited" in table.stdout
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"text": "hi", "question": true}\n{"text": "no label"}\n', "utf-8")
    result = run_bots(["eval", "help-channel", "--data", str(broken), "--rules-only"])
    assert result.returncode != 0
    assert f"{broken}:2: needs a bool `question`" in result.stderr
    assert "Traceback" not in result.stderr
