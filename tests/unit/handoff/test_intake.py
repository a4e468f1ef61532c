"""The intake form's answers checked field by field (bots/handoff/intake.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from bots.handoff.intake import check_answers
from bots.handoff.lifecycle import HandoffDesk
from bots.knowledge.entry_points import IntakeForm
from bots.models import HandoffRecord, IntakeAnswer, IntakeDetails, ThreadKey
from bots.store.sqlite import SQLiteStore

FORM = IntakeForm.model_validate(
    {
        "fields": [
            {"id": "email", "label": "Your e-mail", "kind": "email", "required": True},
            {"id": "order", "label": "Order number"},
            {"id": "topic", "label": "Topic", "kind": "choice", "options": ["Billing", "Other"]},
            {"id": "story", "label": "What happened", "kind": "long_text"},
        ]
    }
)


def test_good_answers_come_back_in_the_forms_order_and_blanks_are_left_out() -> None:
    checked = check_answers(
        FORM, {"topic": "Billing", "email": " Ann@Example.COM ", "order": "  A-1  7 ", "story": ""}
    )
    assert checked.ok
    assert checked.answers == (
        IntakeAnswer("email", "Your e-mail", "Ann@example.com"),
        IntakeAnswer("order", "Order number", "A-1 7"),
        IntakeAnswer("topic", "Topic", "Billing"),
    )


def test_each_wrong_answer_is_named_by_its_field() -> None:
    checked = check_answers(FORM, {"email": "not an address", "topic": "Pizza"})
    assert not checked.ok
    assert set(checked.errors) == {"email", "topic"}
    assert "e-mail" in checked.errors["email"]
    assert checked.answers == ()
    assert check_answers(FORM, {}).errors == {"email": "Please fill this in."}
    long = check_answers(FORM, {"email": "a@example.com", "order": "x" * 201})
    assert "200 characters" in long.errors["order"]


def test_a_long_text_keeps_its_lines() -> None:
    checked = check_answers(FORM, {"email": "a@example.com", "story": "line one\nline two"})
    assert checked.answers[-1].value == "line one\nline two"


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ([{"id": "t", "label": "T", "kind": "choice"}], "give it options"),
        ([{"id": "t", "label": "T", "options": ["a"]}], "not a choice"),
        ([{"id": "t", "label": "T"}, {"id": "t", "label": "U"}], "same id"),
        ([{"id": "Bad Id", "label": "T"}], "pattern"),
        ([{"id": f"f{n}", "label": "T"} for n in range(6)], "at most 5"),
    ],
)
def test_a_broken_form_is_refused_in_plain_words(
    fields: list[dict[str, object]], words: str
) -> None:
    with pytest.raises(ValidationError, match=words):
        IntakeForm.model_validate({"fields": fields})


async def test_the_desk_keeps_the_answers_and_sends_them_to_sinks_that_take_them(
    store: SQLiteStore,
) -> None:
    class Desk:
        def __init__(self) -> None:
            self.details: list[IntakeDetails] = []

        async def deliver(self, record: HandoffRecord, *, link: str | None = None) -> bool:
            return True

        async def deliver_details(self, details: IntakeDetails) -> bool:
            self.details.append(details)
            return True

    class HandoffsOnly:
        async def deliver(self, record: HandoffRecord, *, link: str | None = None) -> bool:
            return True

    now = datetime(2026, 1, 1, tzinfo=UTC)
    key = ThreadKey("slack", "T", "C", "1.1")
    conversation = await store.ensure_conversation(key, "cafe", now)
    helpdesk = Desk()
    desk = HandoffDesk(store=store, llm=None, clock=lambda: now, sinks=[HandoffsOnly(), helpdesk])
    answers = (IntakeAnswer("email", "Your e-mail", "a@example.com"),)
    details = await desk.add_details(conversation, "U1", answers)
    await desk.drain()
    assert helpdesk.details == [details]
    assert (details.key, details.user_id, details.submitted_at) == (key, "U1", now)
    assert await store.intake_of(conversation.id) == answers
