"""Persona tests: the shipped samples pass, failures say why, and broken files name the line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bots.app.persona_tests import CaseResult, PersonaTestReport, format_report, run_persona_tests
from bots.errors import PersonaError
from tests.support.paths import REPO_ROOT, TEST_DATA

ROOT = REPO_ROOT
DATA = TEST_DATA
FIXTURE = DATA / "persona_tests"


@pytest.mark.parametrize("name", ["restaurant", "helpdesk"])
def test_shipped_persona_tests_all_pass(name: str) -> None:
    report = run_persona_tests(ROOT / "personas" / f"{name}.yaml", ROOT / "knowledge")
    assert report.persona == name
    assert report.path == ROOT / "personas" / f"{name}.tests.yaml"
    failures = [case for case in report.cases if not case.passed]
    assert not failures, format_report(report)
    assert report.failed == 0
    assert len(report.cases) >= 30
    expectations = {case.expected.split(" from ")[0] for case in report.cases}
    assert expectations == {
        "answers",
        "hands off to a person",
        "does not hand off",
        "no confident match",
    }


def fixture_report() -> PersonaTestReport:
    return run_persona_tests(FIXTURE / "cafe.yaml", DATA / "knowledge")


def test_fixture_failures_say_what_happened_instead() -> None:
    report = fixture_report()
    by_line = {case.line: case for case in report.cases}
    expected = {
        # line: (passed, expected, got)
        4: (True, "answers from opening-hours", "answers from opening-hours"),
        # The wrong entry came first.
        6: (False, "answers from wifi", "answers from parking"),
        # The right entry came first, but not confidently enough to answer from.
        8: (False, "answers from parking", "no confident match (closest: parking)"),
        # It would never be answered: the bot hands off first.
        10: (False, "answers from parking", "hands off to a person"),
        12: (True, "hands off to a person", "hands off to a person"),
        14: (
            False,
            "hands off to a person",
            "no confident match (no entry shares a word with the question)",
        ),
        16: (True, "does not hand off", "answers from wifi"),
        18: (False, "does not hand off", "hands off to a person"),
        20: (
            True,
            "no confident match",
            "no confident match (no entry shares a word with the question)",
        ),
        22: (False, "no confident match", "answers from dogs"),
        24: (False, "no confident match", "hands off to a person"),
    }
    assert {line: (c.passed, c.expected, c.got) for line, c in by_line.items()} == expected
    assert (report.passed, report.failed) == (4, 7)
    assert report.cases[0] == CaseResult(
        question="when are you open?",
        expected="answers from opening-hours",
        got="answers from opening-hours",
        passed=True,
        line=4,
    )


def test_format_report_is_a_table_ending_with_the_counts() -> None:
    report = fixture_report()
    text = format_report(report)
    lines = text.splitlines()
    assert lines[-1] == "4 passed, 7 failed"
    rows = [line for line in lines if line.startswith(("PASS", "FAIL"))]
    assert len(rows) == len(report.cases)
    assert rows[1].split()[0] == "FAIL"
    assert "where can I park?" in rows[1]
    assert "answers from wifi" in rows[1]
    assert rows[1].endswith("answers from parking")
    assert "EXPECTED" in text
    assert "GOT" in text


def test_format_report_of_no_cases() -> None:
    report = PersonaTestReport(persona="x", path=Path("x.tests.yaml"), cases=())
    assert format_report(report).splitlines()[-1] == "0 passed, 0 failed"


# --- broken tests files ------------------------------------------------------------------


def persona_with_tests(tmp_path: Path, text: str) -> tuple[Path, Path]:
    persona = tmp_path / "cafe.yaml"
    shutil.copy(FIXTURE / "cafe.yaml", persona)
    tests = tmp_path / "cafe.tests.yaml"
    tests.write_text(text, encoding="utf-8")
    return persona, tests


def file_error(tmp_path: Path, text: str) -> tuple[PersonaError, Path]:
    persona, tests = persona_with_tests(tmp_path, text)
    with pytest.raises(PersonaError) as caught:
        run_persona_tests(persona, DATA / "knowledge")
    return caught.value, tests


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    error, path = file_error(
        tmp_path,
        "tests:\n  - ask: when are you open?\n    answer_fom: opening-hours\n",
    )
    assert error.path == str(path)
    assert (error.line, error.column) == (3, 5)
    assert error.field == "case 1: answer_fom"
    assert "did you mean `answer_from`?" in str(error)
    assert str(error).startswith(f"{path}:3:5: ")


def test_unknown_top_level_key(tmp_path: Path) -> None:
    error, _ = file_error(tmp_path, "test:\n  - ask: hi\n    hands_off: false\n")
    assert error.line == 1
    assert "did you mean `tests`?" in str(error)


def test_two_expectations_in_one_case(tmp_path: Path) -> None:
    error, path = file_error(
        tmp_path,
        "tests:\n"
        "  - ask: when are you open?\n"
        "    answer_from: opening-hours\n"
        "  - ask: get me a person\n"
        "    hands_off: true\n"
        "    no_answer: true\n",
    )
    assert error.path == str(path)
    assert (error.line, error.field) == (6, "case 2")
    assert "exactly one of `answer_from`, `hands_off` or `no_answer`" in str(error)
    assert "`hands_off` and `no_answer`" in str(error)


def test_a_case_without_expectation(tmp_path: Path) -> None:
    error, _ = file_error(tmp_path, "tests:\n  - ask: when are you open?\n")
    assert error.line == 2
    assert "found none of them" in str(error)


def test_unknown_entry_id_names_the_line(tmp_path: Path) -> None:
    error, path = file_error(
        tmp_path,
        "tests:\n"
        "  - ask: when are you open?\n"
        "    answer_from: opening-hours\n"
        "  - ask: is there parking?\n"
        "    answer_from: parkng\n",
    )
    assert error.path == str(path)
    assert (error.line, error.column) == (5, 5)
    assert error.field == "case 2: answer_from"
    assert "there is no FAQ entry with the id 'parkng'" in str(error)
    assert "did you mean `parking`?" in str(error)


def test_missing_question_and_wrong_types(tmp_path: Path) -> None:
    error, _ = file_error(
        tmp_path,
        "tests:\n  - hands_off: yes please\n  - ask: hi\n    no_answer: false\n",
    )
    assert error.line == 2
    assert "each case needs a question" in str(error)
    assert "(and 2 more problem(s) in this file)" in str(error)


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("tests:\n  - ask: hi\n    hands_off: maybe\n", 3, "expected true or false"),
        ("tests:\n  - ask: hi\n    no_answer: false\n", 3, "use `answer_from: <entry id>`"),
        ("tests: when are you open?\n", 1, "expected a list of questions"),
        ("tests:\n  - when are you open?\n", 2, "each case must be a group"),
        ("- ask: hi\n", 1, "a tests file starts with `tests:`"),
        ("", 1, "a tests file starts with `tests:`"),
        ("tests:\n  - ask: [hi\n", 2, "a list in [ ] is not closed"),
    ],
)
def test_other_file_errors(tmp_path: Path, text: str, line: int, words: str) -> None:
    error, path = file_error(tmp_path, text)
    assert error.path == str(path)
    assert error.line == line
    assert words in str(error)


def test_missing_tests_file_is_a_plain_error(tmp_path: Path) -> None:
    persona = tmp_path / "cafe.yaml"
    shutil.copy(FIXTURE / "cafe.yaml", persona)
    with pytest.raises(PersonaError) as caught:
        run_persona_tests(persona, DATA / "knowledge")
    assert caught.value.path == str(tmp_path / "cafe.tests.yaml")
    assert "no tests file" in str(caught.value)


def test_an_empty_list_of_tests_runs_nothing(tmp_path: Path) -> None:
    persona, _ = persona_with_tests(tmp_path, "tests: []\n")
    report = run_persona_tests(persona, DATA / "knowledge")
    assert report.cases == ()
    assert (report.passed, report.failed) == (0, 0)
