"""Whether an answer's facts (numbers, times, prices, e-mails, links, phones) are in its sources.

A judge-free check: every such fact the answer states must appear in the retrieved snippets
(or in the user's own message), after normalising how it is written: "5pm" is "17:00",
"$12" is "12.00", "www.Example.com/menu/" is "https://example.com/menu". It cannot tell a
right sentence from a wrong one, but it catches the invented price, opening time, address or
phone number, which is what hurts most. Written by hand: the fact finders of NLP libraries
(dateparser, price-parser, phonenumbers) each cover one kind, are large, and would still need
this normalisation to compare an answer with its sources.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# Matched in this order; each finder masks what it matched, so a phone number's digits
# are not checked again as numbers.
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>()\[\]\"']+", re.IGNORECASE)
_PHONE = re.compile(
    r"(?<![\w.:/])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]\d{2,4}){1,4}(?![\w:])"
)
_MERIDIEM = r"(?:a\.?\s?m\b\.?|p\.?\s?m\b\.?)"
_TIME = re.compile(
    rf"\b(?P<h>[01]?\d|2[0-3])(?!\d)(?:(?::|h)(?P<m>[0-5]\d)|\.(?P<dm>[0-5]\d)(?=\s?{_MERIDIEM}))?"
    rf"(?:\s?(?P<mer>{_MERIDIEM})|\s?(?P<uhr>uhr|h)\b)?"
    r"|\b(?P<word>noon|midday|midnight)\b",
    re.IGNORECASE,
)
_CURRENCY = r"(?:[$€£¥]|usd|eur|gbp|dollars?|euros?|pounds?)"
_AMOUNT = r"\d+(?:[.,]\d{3})*(?:[.,]\d{1,2})?"
_PRICE = re.compile(
    rf"(?:[$€£¥]|\b(?:usd|eur|gbp)\b)\s?(?P<a>{_AMOUNT})|(?P<b>{_AMOUNT})\s?{_CURRENCY}(?!\w)",
    re.IGNORECASE,
)
_NUMBER = re.compile(rf"(?<![\w.])(?P<n>{_AMOUNT})(?:st|nd|rd|th)?(?!\w)")
_LIST_MARKER = re.compile(r"^\s*\d{1,2}[.)]\s", re.MULTILINE)
# Numbers written as words in the sources ("three days") back digits in the answer ("3 days").
_SMALL_NUMBERS = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
)
_NUMBER_WORDS = {word: n for n, word in enumerate(_SMALL_NUMBERS)}
_WORD = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", re.IGNORECASE)
MIN_PHONE_DIGITS = 7


@dataclass(frozen=True, slots=True)
class Fact:
    """One checkable fact of a text: its kind, as written, and the keys it matches under."""

    kind: str
    """`email`, `url`, `phone`, `time`, `price` or `number`."""
    text: str
    keys: frozenset[str]


@dataclass(frozen=True, slots=True)
class Grounding:
    """The facts an answer states, and those its sources do not back."""

    facts: tuple[Fact, ...]
    unsupported: tuple[Fact, ...]

    @property
    def grounded(self) -> bool:
        return not self.unsupported

    @property
    def unsupported_texts(self) -> tuple[str, ...]:
        return tuple(fact.text for fact in self.unsupported)


def check_grounding(answer: str, sources: Sequence[str]) -> Grounding:
    """Which facts of `answer` appear in none of `sources` (after normalising)."""
    facts = tuple(find_facts(answer))
    backed = source_keys(sources)
    unsupported = tuple(fact for fact in facts if not fact.keys & backed)
    return Grounding(facts, unsupported)


def source_keys(sources: Iterable[str]) -> frozenset[str]:
    """Every key the sources' facts match under, plus what a source fact implies: a time
    backs its hour as a number, a price its amount, a link every shorter link of the site."""
    keys: set[str] = set()
    for source in sources:
        for fact in find_facts(source, numbers_from_lists=True):
            keys |= fact.keys
            keys |= _implied(fact)
        for word in _WORD.findall(source):
            keys.add(f"number:{_NUMBER_WORDS[word.lower()]}")
    return frozenset(keys)


def find_facts(text: str, *, numbers_from_lists: bool = False) -> list[Fact]:
    """The checkable facts of `text`, in order of kind (see the finders above)."""
    masked = text if numbers_from_lists else _LIST_MARKER.sub(_blank, text)
    facts: list[Fact] = []
    for kind, pattern, keys_of in _FINDERS:
        for match in pattern.finditer(masked):
            keys = keys_of(match)
            if keys:
                facts.append(Fact(kind, match.group(0).strip().rstrip(".,;:"), keys))
                masked = masked[: match.start()] + _blank(match) + masked[match.end() :]
    return facts


def _blank(match: re.Match[str]) -> str:
    return " " * (match.end() - match.start())


def _email_keys(match: re.Match[str]) -> frozenset[str]:
    return frozenset({f"email:{match.group(0).lower()}"})


def _url_keys(match: re.Match[str]) -> frozenset[str]:
    return frozenset({f"url:{_canonical_url(match.group(0))}"})


def _canonical_url(raw: str) -> str:
    url = raw.rstrip(".,;:!?").lower()
    url = re.sub(r"^https?://", "", url).removeprefix("www.")
    return url.rstrip("/")


def _phone_keys(match: re.Match[str]) -> frozenset[str]:
    digits = re.sub(r"\D", "", match.group(0))
    if len(digits) < MIN_PHONE_DIGITS:
        return frozenset()  # "8-18", "2 - 4": ranges, left to the number finder
    # The last seven digits: "+1 555 010 2000" and "(555) 010-2000" are one number.
    return frozenset({f"phone:{digits[-MIN_PHONE_DIGITS:]}"})


def _time_keys(match: re.Match[str]) -> frozenset[str]:
    if word := match.group("word"):
        return frozenset({"time:00:00" if word.lower() == "midnight" else "time:12:00"})
    hour = int(match.group("h"))
    minutes = int(match.group("m") or match.group("dm") or 0)
    meridiem = (match.group("mer") or "").lower().replace(".", "").replace(" ", "")
    if meridiem:
        if hour == 0 or hour > 12:
            return frozenset()
        hour = hour % 12 + (12 if meridiem.startswith("p") else 0)
        return frozenset({f"time:{hour:02d}:{minutes:02d}"})
    if match.group("m") is None and not match.group("uhr"):
        return frozenset()  # a bare number: the number finder's
    if hour in range(1, 13) and not match.group("uhr"):
        # "5:30" without am/pm may be either; a source with either backs it.
        return frozenset({f"time:{hour:02d}:{minutes:02d}", f"time:{hour + 12:02d}:{minutes:02d}"})
    return frozenset({f"time:{hour:02d}:{minutes:02d}"})


def _price_keys(match: re.Match[str]) -> frozenset[str]:
    amount = _amount(match.group("a") or match.group("b"))
    return frozenset() if amount is None else frozenset({f"price:{amount}", f"number:{amount}"})


def _number_keys(match: re.Match[str]) -> frozenset[str]:
    amount = _amount(match.group("n"))
    return frozenset() if amount is None else frozenset({f"number:{amount}"})


def _amount(raw: str) -> str | None:
    """'12.00' and '12' are 12, '12,50' is 12.5, '1,000' and '1.000' are 1000."""
    text = raw
    if re.fullmatch(r"\d+(?:[.,]\d{3})+", text):
        text = re.sub(r"[.,]", "", text)  # thousands separators
    else:
        head, sep, tail = text.replace(",", ".").rpartition(".")
        text = f"{head.replace('.', '')}.{tail}" if sep else tail
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    normal = value.normalize()
    return format(normal, "f")


def _implied(fact: Fact) -> set[str]:
    implied: set[str] = set()
    for key in fact.keys:
        kind, _, value = key.partition(":")
        if kind == "time":
            hour, minutes = (int(part) for part in value.split(":"))
            implied |= {f"number:{hour}", f"number:{hour % 12 or 12}"}
            if minutes:
                implied.add(f"number:{minutes}")
        elif kind == "price":
            implied.add(f"number:{value}")
        elif kind == "url":
            parts = value.split("/")
            implied |= {"url:" + "/".join(parts[:n]) for n in range(1, len(parts))}
    if fact.kind == "number":
        # A bare hour in the sources ("open 8 to 18") backs the same hour written as a time.
        for key in fact.keys:
            number = key.partition(":")[2]
            if number.isdigit() and int(number) < 24:
                implied.add(f"time:{int(number):02d}:00")
                if int(number) <= 12:
                    implied.add(f"time:{int(number) % 12 + 12:02d}:00")
    return implied


_FINDERS = (
    ("email", _EMAIL, _email_keys),
    ("url", _URL, _url_keys),
    ("time", _TIME, _time_keys),
    ("phone", _PHONE, _phone_keys),
    ("price", _PRICE, _price_keys),
    ("number", _NUMBER, _number_keys),
)
