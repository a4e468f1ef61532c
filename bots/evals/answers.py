"""`bots eval answers`: the answers themselves, per question: citation, grounding, hand-off, time.

Each labelled question names the FAQ entry the answer must cite (`cites`), or says the bot
must hand off (`handoff: true`: hand the thread over, or offer a person one "yes" away).
The grounding figure is the judge-free check of `bots.grounding`, the same one the engine
runs live on every model answer. Asking the bot is injected (`Ask`), so the scoring needs
no engine, no model and no store of its own.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from bots.errors import BotsError
from bots.evals.handoff import Progress

CASE_FIELDS: Mapping[str, type] = {"question": str}


@dataclass(frozen=True)
class AnswerCase:
    question: str
    cites: str | None
    """The entry id the answer must cite; None for a question that must be handed off."""
    handoff: bool


@dataclass(frozen=True)
class AnswerOutcome:
    """What the bot did with one question (a fresh conversation each)."""

    text: str
    source: str
    """`llm`, `knowledge` or `fallback` (a reply), or `handoff`."""
    cited: tuple[str, ...] = ()
    handed_off: bool = False
    offered: bool = False
    """The reply offered a person (the persona's `handoff.offer`)."""
    ungrounded: tuple[str, ...] = ()
    """Facts of the answer that none of its snippets holds."""
    facts: int = 0
    """How many checkable facts (numbers, times, prices, addresses, links) it stated."""
    seconds: float = 0.0
    judged: bool | None = None
    """The LLM judge's verdict (`--judge-model`); None without a judge."""


Ask = Callable[[str], Awaitable[AnswerOutcome]]


@dataclass(frozen=True)
class CaseResult:
    case: AnswerCase
    outcome: AnswerOutcome

    @property
    def cited_ok(self) -> bool | None:
        """Whether the answer cites the entry; None for a hand-off question."""
        return None if self.case.cites is None else self.case.cites in self.outcome.cited

    @property
    def grounded(self) -> bool:
        return not self.outcome.ungrounded

    @property
    def escalated(self) -> bool:
        return self.outcome.handed_off or self.outcome.offered

    @property
    def handoff_ok(self) -> bool:
        return self.escalated == self.case.handoff

    @property
    def passed(self) -> bool:
        return (
            self.handoff_ok
            and self.grounded
            and self.cited_ok is not False
            and self.outcome.judged is not False
        )


def cases_from(rows: Iterable[Mapping[str, Any]]) -> list[AnswerCase]:
    """Labelled questions: each with `cites` (an entry id) or `handoff: true`, not both."""
    cases = []
    for number, row in enumerate(rows, start=1):
        cites, handoff = row.get("cites"), row.get("handoff", False)
        if not isinstance(handoff, bool):
            raise BotsError(f"row {number}: handoff must be true or false, got {handoff!r}")
        if (cites is None) == (not handoff) or (cites is not None and not isinstance(cites, str)):
            raise BotsError(
                f"row {number}: give either `cites` (the FAQ entry id the answer must cite) "
                "or `handoff: true`"
            )
        cases.append(AnswerCase(str(row["question"]), cites, handoff))
    if not cases:
        raise BotsError("no questions to ask: the file has no rows")
    return cases


def check_entries(cases: Sequence[AnswerCase], known: Iterable[str]) -> None:
    """Every `cites` names an entry the persona's knowledge has (a typo scores nothing)."""
    ids = set(known)
    for number, case in enumerate(cases, start=1):
        if case.cites is not None and case.cites not in ids:
            raise BotsError(
                f"row {number}: cites {case.cites!r}, which is not an entry of the knowledge"
            )


async def evaluate_answers(
    cases: Sequence[AnswerCase], ask: Ask, *, progress: Progress | None = None
) -> list[CaseResult]:
    """Ask every question in turn (a fresh conversation each) and score the outcome."""
    results = []
    for done, case in enumerate(cases, start=1):
        results.append(CaseResult(case, await ask(case.question)))
        if progress is not None:
            progress(done)
    return results


def timed(started: float) -> float:
    return round(time.perf_counter() - started, 4)


def figures(results: Sequence[CaseResult]) -> dict[str, Any]:
    """The totals: rates of the questions each check applies to, and latency."""
    cite_cases = [r for r in results if r.case.cites is not None]
    handoff_cases = [r for r in results if r.case.handoff]
    answers = [r for r in results if not r.outcome.handed_off]
    with_facts = [r for r in answers if r.outcome.facts]
    seconds = sorted(r.outcome.seconds for r in results)
    judged = [r for r in results if r.outcome.judged is not None]
    return {
        "questions": len(results),
        "passed": sum(r.passed for r in results),
        "pass_rate": _rate(sum(r.passed for r in results), len(results)),
        "cited_rate": _rate(sum(bool(r.cited_ok) for r in cite_cases), len(cite_cases)),
        "grounded_rate": _rate(sum(r.grounded for r in answers), len(answers)),
        "answers_with_facts": len(with_facts),
        "grounded_rate_with_facts": _rate(sum(r.grounded for r in with_facts), len(with_facts)),
        "ungrounded_answers": sum(not r.grounded for r in answers),
        "handoff_recall": _rate(sum(r.escalated for r in handoff_cases), len(handoff_cases)),
        "false_handoffs": sum(r.escalated for r in cite_cases),
        "handoff_accuracy": _rate(sum(r.handoff_ok for r in results), len(results)),
        "latency_p50_s": round(statistics.median(seconds), 3) if seconds else None,
        "latency_p95_s": round(_percentile(seconds, 95), 3) if seconds else None,
        "latency_max_s": round(seconds[-1], 3) if seconds else None,
        "judge_pass_rate": _rate(sum(bool(r.outcome.judged) for r in judged), len(judged))
        if judged
        else None,
    }


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def _percentile(sorted_values: Sequence[float], percent: int) -> float:
    index = max(0, min(len(sorted_values) - 1, round(percent / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def as_json(label: str, results: Sequence[CaseResult]) -> dict[str, Any]:
    """One run, as `--json` prints it and `--compare` reads it back."""
    return {
        "label": label,
        "figures": figures(results),
        "questions": [
            {
                **asdict(r.case),
                **asdict(r.outcome),
                "cited_ok": r.cited_ok,
                "grounded": r.grounded,
                "handoff_ok": r.handoff_ok,
                "passed": r.passed,
            }
            for r in results
        ],
    }


def render_table(label: str, results: Sequence[CaseResult]) -> str:
    """Per question a line of checks, then the totals."""
    lines = [f"answers of {label}", ""]
    lines.append(f"  {'':4}  {'cite':4}  {'facts':5}  {'hand':4}  {'secs':>6}  question")
    for r in results:
        cite = "-" if r.cited_ok is None else ("ok" if r.cited_ok else "MISS")
        facts = "ok" if r.grounded else "BAD"
        handoff = "ok" if r.handoff_ok else "BAD"
        verdict = "pass" if r.passed else "FAIL"
        line = (
            f"  {verdict:4}  {cite:4}  {facts:5}  {handoff:4}  {r.outcome.seconds:6.2f}  "
            f"{_short(r.case.question, 60)}"
        )
        if r.outcome.ungrounded:
            line += f"  [not in the snippets: {', '.join(r.outcome.ungrounded)}]"
        if r.cited_ok is False:
            got = ", ".join(r.outcome.cited) or r.outcome.source
            line += f"  [wanted {r.case.cites}, got {got}]"
        lines.append(line)
    lines.append("")
    lines += [f"  {key:<26}{_shown(value)}" for key, value in figures(results).items()]
    return "\n".join(lines) + "\n"


def compare(first: Mapping[str, Any], second: Mapping[str, Any]) -> str:
    """Two saved `--json` runs side by side: the totals, then the questions that differ."""
    a, b = _run(first, "first"), _run(second, "second")
    label_a, label_b = str(a["label"]), str(b["label"])
    width = max(12, len(label_a), len(label_b))
    lines = [f"  {'':<26}{label_a:>{width}}  {label_b:>{width}}  change"]
    for key, value in a["figures"].items():
        other = b["figures"].get(key)
        shown = f"{_shown(value):>{width}}  {_shown(other):>{width}}"
        lines.append(f"  {key:<26}{shown}  {_change(value, other)}")
    theirs = {q["question"]: q for q in b["questions"]}
    differing = [
        (q, theirs[q["question"]])
        for q in a["questions"]
        if q["question"] in theirs and q["passed"] != theirs[q["question"]]["passed"]
    ]
    if differing:
        lines += ["", f"  questions passed by one run only ({len(differing)}):"]
        for mine, _ in differing:
            winner = label_a if mine["passed"] else label_b
            lines.append(f"    {winner:<{width}}  {_short(mine['question'], 70)}")
    return "\n".join(lines) + "\n"


def _run(data: Mapping[str, Any], which: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping) or not {"label", "figures", "questions"} <= data.keys():
        raise BotsError(f"the {which} file is not the --json output of bots eval answers")
    return data


def _change(before: object, after: object) -> str:
    if isinstance(before, int | float) and isinstance(after, int | float):
        delta = after - before
        return f"{delta:+.3f}".rstrip("0").rstrip(".") if delta else "="
    return ""


def _shown(value: object) -> str:
    return "n/a" if value is None else str(value)


def _short(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
