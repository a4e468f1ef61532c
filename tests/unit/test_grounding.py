"""The judge-free grounding check tells answers backed by their snippets from invented ones."""

from __future__ import annotations

import pytest

from bots.grounding import check_grounding, find_facts

SNIPPETS = [
    "[opening-hours] We are open Monday to Saturday from 11:30 to 22:00, Sundays 12:00 to "
    "21:00. Source: https://www.olive.example/hours/",
    "[prices] The lunch menu costs $14.50; children eat for 8 dollars. Corkage is 12.00.",
    "[contact] Call (555) 010-4477 or write to hello@olive.example. Groups of up to twelve.",
]


@pytest.mark.parametrize(
    "answer",
    [
        "We open at 11:30am and close at 10pm.",
        "On Sundays we are open from noon to 9 p.m.",
        "The lunch menu is $14.5 and kids eat for $8.",
        "Corkage is 12 dollars.",
        "Call us on +1 555 010 4477 or e-mail Hello@Olive.example.",
        "Our hours are on olive.example: https://olive.example/hours",
        "We take groups of up to 12 people.",
        "Sure! Let me know if there is anything else.",
        "1. Book online\n2. Arrive on time",
    ],
)
def test_grounded_answers_pass(answer: str) -> None:
    grounding = check_grounding(answer, SNIPPETS)
    assert grounding.grounded, grounding.unsupported


@pytest.mark.parametrize(
    ("answer", "invented"),
    [
        ("We open at 9am every day.", "9am"),
        ("We close at 11pm on Saturdays.", "11pm"),
        ("The lunch menu costs $19.99.", "$19.99"),
        ("Kids eat for 6 euros.", "6 euros"),
        ("Call (555) 010-9999 to book.", "(555) 010-9999"),
        ("Write to bookings@olive.example.", "bookings@olive.example"),
        ("See https://olive.example/menu for the menu.", "https://olive.example/menu"),
        ("We take groups of up to 20 people.", "20"),
    ],
)
def test_invented_facts_are_caught(answer: str, invented: str) -> None:
    grounding = check_grounding(answer, SNIPPETS)
    assert not grounding.grounded
    assert grounding.unsupported_texts == (invented,)


def test_the_facts_of_a_text_by_kind() -> None:
    kinds = [
        fact.kind
        for fact in find_facts(
            "Mail a@b.example, see www.b.example, call 555-010-4477 at 5pm, pay €12,50 for 2"
        )
    ]
    assert kinds == ["email", "url", "time", "phone", "price", "number"]


def test_european_formats_are_normalised() -> None:
    sources = ["Le menu coûte 12,50 € ; ouvert de 17h à 23h. Geöffnet bis 22 Uhr."]
    assert check_grounding("Le menu est à 12.50 EUR, de 17h00 à 23h.", sources).grounded
    assert check_grounding("Wir haben bis 22:00 geöffnet.", sources).grounded
    assert not check_grounding("Le menu est à 13 €.", sources).grounded


def test_the_users_own_numbers_may_be_repeated() -> None:
    question = "Can I book a table for 7 on Friday?"
    assert check_grounding("A table for 7 is possible.", [*SNIPPETS, question]).grounded
