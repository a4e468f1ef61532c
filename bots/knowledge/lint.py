"""Text in persona and knowledge files that reads as aimed at the model: `bots check` warnings.

The bot already treats knowledge as data (delimited in the prompt) and its fixed rules forbid
revealing the prompt, so these are warnings, not errors: a person should look at the line.
Two kinds: a persona that asks the model to reveal its own prompt or rules, and knowledge
that carries instructions for the model ("ignore previous instructions", "you are now ...").
The patterns are English and deliberately narrow, so an ordinary FAQ never trips them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_NEGATION = re.compile(r"\b(never|not|no|don't|dont|do not|won't|must not|mustn't)\b", re.I)

_REVEAL = re.compile(
    r"\b(reveal|show|share|print|repeat|recite|tell|disclose|output|paste|display|leak)\b"
    r"(?:\W+\w+){0,6}?\W+"
    r"(system prompt|(?:your|the|these|this|its|my) (?:own )?"
    r"(?:system )?(?:prompt|instructions|rules|guidelines|configuration)|hidden (?:text|rules"
    r"|instructions)|internal (?:rules|instructions))\b",
    re.I,
)

_INJECTION = [
    re.compile(
        r"\b(ignore|disregard|forget|override|bypass)\b(?:\W+\w+){0,3}?\W+"
        r"(previous|prior|above|earlier|preceding|all|any|your|system|other)\W+(?:\w+\W+)?"
        r"(instructions|rules|prompts?|directions|guidelines)\b",
        re.I,
    ),
    re.compile(r"\byou are now\b(?!\s+(?:open|closed|booked|registered|subscribed))", re.I),
    re.compile(r"\bnew (?:system )?instructions\s*:", re.I),
    re.compile(r"\b(?:developer|god|jailbreak|dan) mode\b", re.I),
    re.compile(r"<\|(?:im_start|im_end|system|assistant|user)\|>|\[/?INST\]|<</?SYS>>", re.I),
    re.compile(r"^\s*#{1,3}\s*(?:system|instructions?)\s*:?\s*$", re.I),
    re.compile(r"\b(?:assistant|ai|model|bot)\b.{0,30}\bmust (?:now )?(?:say|reply|respond)", re.I),
    re.compile(r"\bdo not (?:tell|mention (?:this )?to|inform) the (?:user|customer|guest)", re.I),
]


@dataclass(frozen=True)
class Suspicious:
    """One line worth a person's look: 1-based line number and the phrase that matched."""

    line: int
    phrase: str


def reveal_requests(text: str) -> list[Suspicious]:
    """Lines that ask the model to reveal its prompt or rules (not the ones that forbid it)."""
    return [
        Suspicious(number, match.group(0))
        for number, line in _content_lines(text)
        for match in [_REVEAL.search(line)]
        if match is not None and not _NEGATION.search(line[: match.start()])
    ]


def instructions_to_the_model(text: str) -> list[Suspicious]:
    """Lines of knowledge text that read as instructions to the model, or ask it to reveal."""
    found: list[Suspicious] = []
    for number, line in _content_lines(text, skip_comments=False):
        match = next((m for p in _INJECTION if (m := p.search(line))), None)
        if match is None:
            reveal = _REVEAL.search(line)
            if reveal is not None and not _NEGATION.search(line[: reveal.start()]):
                match = reveal
        if match is not None:
            found.append(Suspicious(number, match.group(0).strip()))
    return found


def _content_lines(text: str, *, skip_comments: bool = True) -> Iterator[tuple[int, str]]:
    """Numbered lines; YAML comments (notes for people, never sent to the model) left out."""
    for number, line in enumerate(text.splitlines(), start=1):
        if skip_comments and line.lstrip().startswith("#"):
            continue
        yield number, line
