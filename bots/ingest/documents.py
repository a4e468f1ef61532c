"""A converted page as a knowledge file's content: a Markdown page, or FAQ entries in YAML.

A page whose section headings are mostly questions (an FAQ) becomes YAML entries, each
heading the `question` and its section the `answer`, so retrieval matches the question as
people ask it. Some FAQ pages mark questions as bold lines rather than headings; those count
as headings when most of them end in "?". Every other page stays Markdown, which the loader
splits at headings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from bots.ingest.pages import Page

_HEADING = re.compile(r"^(#{2,6})\s+(.+?)\s*#*\s*$")
_BOLD_LINE = re.compile(r"^\*\*(.+?)\*\*$")
_NUMBERING = re.compile(r"^\(?\d+[.)]\s*|^Q\s*\d*[.:]\s*", re.I)
MIN_QUESTIONS = 3


@dataclass(frozen=True, slots=True)
class Document:
    """What one imported file holds, without its provenance header."""

    address: str
    title: str
    kind: Literal["md", "yaml"]
    body: str


def document_for(page: Page, stem: str) -> Document:
    questions = _faq_sections(page.markdown)
    if questions is None:
        return Document(page.address, page.title, "md", _markdown_body(page))
    return Document(page.address, page.title, "yaml", _yaml_body(page, stem, questions))


def _markdown_body(page: Page) -> str:
    body = page.markdown
    first = body.lstrip().split("\n", 1)[0]
    if page.title and first.strip() != f"# {page.title}":
        # The loader takes the first `# ` heading as the page's title: make it the title.
        body = f"# {page.title}\n\n{body}"
    return body


def _faq_sections(markdown: str) -> list[tuple[str, str]] | None:
    """(question, answer) pairs when the page is an FAQ, else None."""
    lines = markdown.split("\n")
    for pattern in (_HEADING, _BOLD_LINE):
        marks = _marks(lines, pattern)
        questions = [i for i, text in marks if text.endswith("?")]
        if len(questions) >= MIN_QUESTIONS and len(questions) >= 0.6 * len(marks):
            return _split(lines, marks)
    return None


def _marks(lines: list[str], pattern: re.Pattern[str]) -> list[tuple[int, str]]:
    marks = []
    in_fence = False
    for number, line in enumerate(lines):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        found = None if in_fence else pattern.match(line.strip())
        if found:
            marks.append((number, " ".join(found.group(found.lastindex or 1).split())))
    return marks


def _split(lines: list[str], marks: list[tuple[int, str]]) -> list[tuple[str, str]]:
    pairs = []
    for index, (start, question) in enumerate(marks):
        end = marks[index + 1][0] if index + 1 < len(marks) else len(lines)
        answer = "\n".join(lines[start + 1 : end]).strip()
        answer = re.sub(r"^> ?", "", answer, flags=re.M)  # FAQ answers are often quoted blocks
        if answer:
            pairs.append((_NUMBERING.sub("", question).strip() or question, answer))
    return pairs


def _yaml_body(page: Page, stem: str, pairs: list[tuple[str, str]]) -> str:
    used: set[str] = set()
    entries = []
    for question, answer in pairs:
        entry: dict[str, Any] = {
            "id": _unique(f"{stem}-{_slug(question)[:60].strip('-')}", used),
            "question": question,
            "answer": answer,
        }
        if page.address.startswith(("http://", "https://")):
            entry["url"] = page.address
        entries.append(entry)
    return str(
        yaml.dump(
            {"entries": entries}, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100
        )
    )


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "entry"


def _unique(candidate: str, used: set[str]) -> str:
    name, n = candidate, 2
    while name in used:
        name, n = f"{candidate}-{n}", n + 1
    used.add(name)
    return name


class _Dumper(yaml.SafeDumper):
    """Multi-line answers as `|` blocks: a re-import's diff reads like the page's."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value and not any(line != line.rstrip() for line in value.split("\n")):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _text)
