"""Persona tests: questions beside a persona, checked with the bot's own retrieval and hand-off."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bots.errors import PersonaError
from bots.handoff.detect import wants_human
from bots.knowledge.files import load_knowledge
from bots.knowledge.persona import Persona
from bots.knowledge.yamlfile import YamlDocument, read_yaml
from bots.retrieval.search import RetrievalResult
from bots.turn.persona_load import load_persona_file
from bots.turn.runtime import PersonaRuntime

_EXPECTATIONS = ("answer_from", "hands_off", "no_answer")
_CASE_KEYS = ("ask", *_EXPECTATIONS)
_TOP_KEYS = ("tests",)
_HANDS_OFF = "hands off to a person"


@dataclass(frozen=True)
class CaseResult:
    """One question: what the author expected, what the bot would do, and the case's line."""

    question: str
    expected: str
    got: str
    passed: bool
    line: int


@dataclass(frozen=True)
class PersonaTestReport:
    """Every case of one persona's tests file (`path`), in file order."""

    persona: str
    path: Path
    cases: tuple[CaseResult, ...]

    @property
    def passed(self) -> int:
        return sum(case.passed for case in self.cases)

    @property
    def failed(self) -> int:
        return len(self.cases) - self.passed


@dataclass(frozen=True)
class _Case:
    ask: str
    line: int
    answer_from: str | None = None
    hands_off: bool | None = None
    no_answer: bool = False


def run_persona_tests(
    persona_file: Path, knowledge_root: Path, persona: Persona | None = None
) -> PersonaTestReport:
    """Run `<persona>.tests.yaml` through the bot's retrieval and hand-off detection.

    No model is called. A broken persona, knowledge or tests file raises its PersonaError or
    KnowledgeError (file:line: what is wrong). `persona` is the file already loaded (by
    `bots check`), so it is not read again.
    """
    if persona is None:
        persona = load_persona_file(persona_file, knowledge_root).persona()
    entries = load_knowledge(knowledge_root, persona.knowledge.sets)
    tests_file = persona_file.with_name(f"{persona_file.stem}.tests.yaml")
    cases = _read_cases(tests_file, [entry.id for entry in entries])
    retriever = PersonaRuntime.build(persona, entries, None).retriever
    results = []
    for case in cases:
        handed_off = wants_human(case.ask)
        retrieval = retriever.search(case.ask, k=persona.knowledge.max_snippets)
        results.append(_judge(case, handed_off, retrieval))
    return PersonaTestReport(persona=persona.name, path=tests_file, cases=tuple(results))


def _judge(case: _Case, handed_off: bool, retrieval: RetrievalResult) -> CaseResult:
    got = _HANDS_OFF if handed_off else _outcome(retrieval)
    if case.answer_from is not None:
        expected = f"answers from {case.answer_from}"
        best = retrieval.best
        passed = (
            not handed_off
            and retrieval.confident
            and best is not None
            and best.entry.id == case.answer_from
        )
    elif case.hands_off is not None:
        expected = _HANDS_OFF if case.hands_off else "does not hand off"
        passed = handed_off == case.hands_off
    else:
        expected = "no confident match"
        passed = not handed_off and not retrieval.confident
    return CaseResult(case.ask, expected, got, passed, case.line)


def _outcome(retrieval: RetrievalResult) -> str:
    best = retrieval.best
    if best is None:
        return "no confident match (no entry shares a word with the question)"
    if retrieval.confident:
        return f"answers from {best.entry.id}"
    return f"no confident match (closest: {best.entry.id})"


def format_report(report: PersonaTestReport) -> str:
    """A plain-text table, one row per case, then "N passed, M failed" on the last line."""
    header = ("RESULT", "QUESTION", "EXPECTED", "GOT")
    rows = [
        ("PASS" if case.passed else "FAIL", _clip(case.question), case.expected, case.got)
        for case in report.cases
    ]
    widths = [max(len(row[n]) for row in [header, *rows]) for n in range(3)]
    lines = [f"Persona tests for {report.persona} ({report.path})", ""]
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[3]]).rstrip())
    lines += ["", f"{report.passed} passed, {report.failed} failed"]
    return "\n".join(lines)


def _clip(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


# --- reading the tests file ------------------------------------------------------------------


def tests_file_problems(
    persona_file: Path, persona: Persona, knowledge_root: Path
) -> list[PersonaError]:
    """Every problem of the tests file beside a loaded persona, without running any case."""
    path = persona_file.with_name(f"{persona_file.stem}.tests.yaml")
    entries = load_knowledge(knowledge_root, persona.knowledge.sets)
    reader = _Reader(read_yaml(path, PersonaError), frozenset(e.id for e in entries))
    reader.cases()
    return sorted(reader.problems, key=lambda problem: (problem.line or 0, problem.column or 0))


def _read_cases(path: Path, entry_ids: Iterable[str]) -> list[_Case]:
    if not path.is_file():
        raise PersonaError(
            path,
            "there is no tests file for this persona; create it beside the persona, "
            "starting with `tests:` and a list of `- ask:` questions",
        )
    reader = _Reader(read_yaml(path, PersonaError), frozenset(entry_ids))
    cases = reader.cases()
    if reader.problems:
        reader.problems.sort(key=lambda problem: (problem.line or 0, problem.column or 0))
        first = reader.problems[0]
        if len(reader.problems) > 1:
            first.detail += f" (and {len(reader.problems) - 1} more problem(s) in this file)"
            first.args = (first.describe(),)
        raise first
    return cases


class _Reader:
    """Validates a tests file, collecting every problem (with file:line) in file order."""

    def __init__(self, document: YamlDocument, entry_ids: frozenset[str]) -> None:
        self.document = document
        self.entry_ids = entry_ids
        self.problems: list[PersonaError] = []

    def fail(self, key: tuple[str | int, ...], message: str, field: str | None = None) -> None:
        line, column = self.document.where(key) or (1, 1)
        self.problems.append(
            PersonaError(self.document.path, message, line=line, column=column, field=field)
        )

    def unknown(
        self, key: tuple[str | int, ...], name: object, known: Iterable[str], field: str
    ) -> None:
        self.fail(key, f"this field is not known{_did_you_mean(name, known)}", field)

    def cases(self) -> list[_Case]:
        data = self.document.data
        if not isinstance(data, dict):
            self.fail(
                (), "a tests file starts with `tests:` followed by a list of `- ask:` questions"
            )
            return []
        for key in data:
            if key not in _TOP_KEYS:
                self.unknown((str(key),), key, _TOP_KEYS, str(key))
        if "tests" not in data:
            if not self.problems:
                self.fail(
                    (), "a tests file starts with `tests:` followed by a list of `- ask:` questions"
                )
            return []
        items = data["tests"]
        if not isinstance(items, list):
            self.fail(
                ("tests",), "expected a list of questions, each starting with `- ask:`", "tests"
            )
            return []
        found = (self.case(index, item) for index, item in enumerate(items))
        return [case for case in found if case is not None]

    def case(self, index: int, item: Any) -> _Case | None:
        base: tuple[str | int, ...] = ("tests", index)
        label = f"case {index + 1}"
        if not isinstance(item, dict):
            self.fail(
                base,
                "each case must be a group of `key: value` lines starting with `- ask:`",
                label,
            )
            return None
        problems_before = len(self.problems)
        for key in item:
            if key not in _CASE_KEYS:
                self.unknown((*base, str(key)), key, _CASE_KEYS, f"{label}: {key}")
        ask = item.get("ask")
        if isinstance(ask, bool) or not isinstance(ask, str | int | float) or not str(ask).strip():
            where = (*base, "ask") if "ask" in item else base
            self.fail(where, "each case needs a question, written `ask: ...`", f"{label}: ask")
        given = [key for key in _EXPECTATIONS if key in item]
        misspelt = len(self.problems) > problems_before and not given and "ask" in item
        if misspelt:
            # A misspelt expectation ("answer_fom") is already reported; one error is enough.
            return None
        if len(given) != 1:
            where = (*base, given[1]) if len(given) > 1 else base
            found = " and ".join(f"`{key}`" for key in given) if given else "none of them"
            self.fail(
                where,
                "each case needs exactly one of `answer_from`, `hands_off` or `no_answer` "
                f"(found {found}); write one case per expectation",
                label,
            )
            return None
        key = given[0]
        value = item[key]
        self.check_expectation((*base, key), key, value, f"{label}: {key}")
        if len(self.problems) > problems_before:
            return None
        return _Case(
            ask=str(ask).strip(),
            line=(self.document.where(base) or (1, 1))[0],
            answer_from=str(value).strip() if key == "answer_from" else None,
            hands_off=value if key == "hands_off" else None,
            no_answer=key == "no_answer",
        )

    def check_expectation(
        self, where: tuple[str | int, ...], key: str, value: Any, field: str
    ) -> None:
        if key == "answer_from":
            if (
                isinstance(value, bool)
                or not isinstance(value, str | int)
                or not str(value).strip()
            ):
                self.fail(where, "expected the id of an FAQ entry", field)
            elif str(value).strip() not in self.entry_ids:
                entry_id = str(value).strip()
                hint = _did_you_mean(entry_id, sorted(self.entry_ids), list_all=False)
                self.fail(where, f"there is no FAQ entry with the id {entry_id!r}{hint}", field)
        elif key == "hands_off":
            if not isinstance(value, bool):
                self.fail(where, "expected true or false", field)
        elif value is not True:
            self.fail(
                where,
                "expected `no_answer: true`; to expect an answer, use `answer_from: <entry id>`",
                field,
            )


def _did_you_mean(word: object, known: Iterable[str], *, list_all: bool = True) -> str:
    choices = list(known)
    close = difflib.get_close_matches(str(word), choices, n=1, cutoff=0.6)
    if close:
        return f"; did you mean `{close[0]}`?"
    if list_all:
        return f"; expected one of: {', '.join(choices)}"
    return ""
