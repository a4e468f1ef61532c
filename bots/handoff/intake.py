"""The intake form asked before a person takes over: checking the answers, and what the team
sees of them.

The persona's `intake` lists the fields (e-mail, order number, category...). A platform
shows them as its own form (a Slack modal, a Discord modal) and hands the raw answers here;
`check_answers` says what is wrong in words the asker can act on, field by field, or gives
the answers in the form's order. E-mail addresses are checked with `email-validator`'s
syntax check (no DNS: offline, and a support form should not wait on a lookup).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bots.knowledge.entry_points import IntakeField, IntakeForm
from bots.models import IntakeAnswer, IntakeDetails

MAX_ANSWER = 1000
"""Longest answer kept (a long_text field); Slack's and Discord's inputs allow up to 3000/4000."""
SHORT_ANSWER = 200


@dataclass(frozen=True, slots=True)
class IntakeCheck:
    """The checked form: the answers in the form's order, or what is wrong, by field id."""

    answers: tuple[IntakeAnswer, ...] = ()
    errors: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def max_length(spec: IntakeField) -> int:
    return MAX_ANSWER if spec.kind == "long_text" else SHORT_ANSWER


def check_answers(form: IntakeForm, raw: Mapping[str, str | None]) -> IntakeCheck:
    """Check the raw answers (field id -> text; missing or blank: not answered)."""
    answers: list[IntakeAnswer] = []
    errors: dict[str, str] = {}
    for spec in form.fields:
        value = (
            " ".join(str(raw.get(spec.id) or "").split())
            if spec.kind != "long_text"
            else (str(raw.get(spec.id) or "").strip())
        )
        if not value:
            if spec.required:
                errors[spec.id] = "Please fill this in."
            continue
        if len(value) > max_length(spec):
            errors[spec.id] = f"Please keep it under {max_length(spec)} characters."
        elif spec.kind == "email":
            # Imported here: 26 ms (it brings dnspython) that start-up need not pay.
            from email_validator import EmailNotValidError, validate_email

            try:
                value = validate_email(value, check_deliverability=False).normalized
            except EmailNotValidError:
                errors[spec.id] = "That doesn't look like an e-mail address (name@example.com)."
        elif spec.kind == "choice" and value not in spec.options:
            errors[spec.id] = "Please pick one of the options."
        if spec.id not in errors:
            answers.append(IntakeAnswer(spec.id, spec.label, value))
    if errors:
        return IntakeCheck(errors=errors)
    return IntakeCheck(answers=tuple(answers))


def notice_lines(details: IntakeDetails) -> list[str]:
    """The answers as the team's notice shows them, one `label: value` a line (plain text:
    the platform escapes it)."""
    return [f"{a.label}: {a.value}" for a in details.answers]
