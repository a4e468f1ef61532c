"""Scoring of `bots eval answers`: citations, grounding, hand-offs, the table and --compare."""

from __future__ import annotations

import pytest

from bots.errors import BotsError
from bots.evals.answers import (
    AnswerCase,
    AnswerOutcome,
    Ask,
    as_json,
    cases_from,
    check_entries,
    compare,
    evaluate_answers,
    figures,
    render_table,
)

CASES = [
    AnswerCase("is there parking?", "parking", False),
    AnswerCase("what's your phone number?", "contact", False),
    AnswerCase("I want a person", None, True),
]


def asker(outcomes: dict[str, AnswerOutcome]) -> Ask:
    async def ask(question: str) -> AnswerOutcome:
        return outcomes[question]

    return ask


GOOD = {
    "is there parking?": AnswerOutcome("Mill Street, $1.50 an hour.", "llm", ("parking",), facts=1),
    "what's your phone number?": AnswerOutcome("Call 555 0134.", "llm", ("contact",), facts=1),
    "I want a person": AnswerOutcome("A person will reply.", "handoff", handed_off=True),
}
BAD = {
    "is there parking?": AnswerOutcome(
        "Parking is $5 an hour.", "llm", ("parking",), ungrounded=("$5",), facts=1
    ),
    "what's your phone number?": AnswerOutcome("We are open daily.", "llm", ("hours",)),
    "I want a person": AnswerOutcome("Sure, what can I do?", "llm"),
}


async def test_good_answers_pass_every_check() -> None:
    results = await evaluate_answers(CASES, asker(GOOD))
    assert [r.passed for r in results] == [True, True, True]
    totals = figures(results)
    assert totals["pass_rate"] == 1.0
    assert totals["cited_rate"] == 1.0
    assert totals["grounded_rate"] == 1.0
    assert totals["handoff_recall"] == 1.0


async def test_bad_answers_fail_the_check_they_break() -> None:
    results = await evaluate_answers(CASES, asker(BAD))
    parking, phone, person = results
    assert (parking.cited_ok, parking.grounded, parking.passed) == (True, False, False)
    assert (phone.cited_ok, phone.grounded, phone.passed) == (False, True, False)
    assert (person.handoff_ok, person.passed) == (False, False)
    totals = figures(results)
    assert totals["pass_rate"] == 0.0
    assert totals["ungrounded_answers"] == 1
    assert totals["handoff_recall"] == 0.0
    table = render_table("bad run", results)
    assert "[not in the snippets: $5]" in table
    assert "[wanted contact, got hours]" in table


async def test_an_offer_of_a_person_counts_as_a_handoff() -> None:
    offered = AnswerOutcome("I don't know. Shall I get a person?", "fallback", offered=True)
    results = await evaluate_answers(
        CASES, asker({**GOOD, "is there parking?": offered, "I want a person": offered})
    )
    assert not results[0].handoff_ok
    assert results[2].handoff_ok
    assert figures(results)["false_handoffs"] == 1


async def test_compare_shows_both_runs_and_the_questions_that_differ() -> None:
    good = as_json("model A", await evaluate_answers(CASES, asker(GOOD)))
    bad = as_json("model B", await evaluate_answers(CASES, asker(BAD)))
    shown = compare(good, bad)
    assert "model A" in shown
    assert "model B" in shown
    pass_rate = next(line for line in shown.splitlines() if "pass_rate" in line)
    assert pass_rate.split() == ["pass_rate", "1.0", "0.0", "-1"]
    assert "questions passed by one run only (3)" in shown
    with pytest.raises(BotsError, match="not the --json output"):
        compare({"nope": 1}, bad)


def test_rows_need_cites_or_handoff() -> None:
    assert cases_from([{"question": "q", "cites": "x"}, {"question": "p", "handoff": True}]) == [
        AnswerCase("q", "x", False),
        AnswerCase("p", None, True),
    ]
    for bad in ({"question": "q"}, {"question": "q", "cites": "x", "handoff": True}):
        with pytest.raises(BotsError, match="row 1: give either `cites`"):
            cases_from([bad])
    with pytest.raises(BotsError, match="not an entry of the knowledge"):
        check_entries([AnswerCase("q", "typo", False)], ["parking"])
