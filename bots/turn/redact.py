"""Hiding e-mail addresses, phone numbers and card numbers from the model (`BOTS_REDACT`).

Phone numbers are found by `phonenumbers` (Google's libphonenumber): its matcher knows every
country's numbering plan, so times, prices, dates and most order numbers are not mistaken
for phones (a phone number run together with more numbers, "call 020 7946 0958 4 4", can
hide from it). A card number is 13 to 19 digits written as cards are (in a row, or grouped
by spaces or dashes) that passes the Luhn check (python-stdnum), which spares nine in ten
order numbers of that length. E-mail addresses are matched with the WHATWG HTML "valid
e-mail address" pattern, the definition browsers check `<input type=email>` against: e-mail
validation libraries check one whole address and do not find addresses inside text.

What is stored is not redacted: the team handling a hand-off needs the address the user
gave; retention and `bots forget` bound what is kept (docs/privacy.md).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Collection
from dataclasses import replace

import phonenumbers
from stdnum import luhn

from bots.llm.client import ChatModel, ChatRequest, LLMEvent

EMAIL_MARK = "[email removed]"
PHONE_MARK = "[phone removed]"
CARD_MARK = "[card number removed]"

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@{_LABEL}(?:\.{_LABEL})*")
# As cards are written: 13 to 19 digits in a row, 16 in groups of four, or American Express's
# 4-6-5, with one kind of separator throughout.
_CARD = re.compile(
    r"(?<![\d-])(?:\d{13,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{4}|\d{4}([ -])\d{6}\2\d{5})(?!\d)"
)


class Redactor:
    """Replaces the chosen kinds of personal data in text with a visible mark."""

    def __init__(self, kinds: Collection[str], phone_region: str = "US") -> None:
        self.kinds = frozenset(kinds)
        self._region = phone_region

    def __call__(self, text: str) -> str:
        # Cards first: a card number could otherwise be taken for a phone number.
        if "card" in self.kinds:
            text = _CARD.sub(_card_mark, text)
        if "email" in self.kinds:
            text = _EMAIL.sub(EMAIL_MARK, text)
        if "phone" in self.kinds:
            text = self._phones(text)
        return text

    def _phones(self, text: str) -> str:
        # STRICT_GROUPING: digits grouped as the country writes its numbers (or not grouped),
        # so "2024-05-01 12" is a date and a number, not the phone number 202-405-0112.
        matches = list(
            phonenumbers.PhoneNumberMatcher(
                text, self._region, leniency=phonenumbers.Leniency.STRICT_GROUPING
            )
        )
        for match in reversed(matches):
            text = text[: match.start] + PHONE_MARK + text[match.end :]
        return text


def _card_mark(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return CARD_MARK if luhn.is_valid(digits) else match.group()


class RedactingChatModel:
    """A `ChatModel` that redacts what users wrote before the request leaves the process.

    Only user-role messages are redacted: they carry the user's text (the new message, the
    history, the transcript a hand-off summary is written from). The system message holds
    the persona and the knowledge, whose own phone numbers and addresses must reach the
    model intact.
    """

    def __init__(self, inner: ChatModel, redactor: Redactor) -> None:
        self._inner = inner
        self._redact = redactor

    def stream(self, request: ChatRequest) -> AsyncIterator[LLMEvent]:
        messages = tuple(
            replace(m, content=self._redact(m.content)) if m.role == "user" else m
            for m in request.messages
        )
        return self._inner.stream(replace(request, messages=messages))
