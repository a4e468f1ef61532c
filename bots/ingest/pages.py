"""The values that cross the import's modules: a converted source page and a page skipped."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Page:
    """One source page, as Markdown: where it came from, its title, its main content."""

    address: str
    title: str
    markdown: str


@dataclass(frozen=True, slots=True)
class Skipped:
    """A page that was not imported, and why, in words for the end-of-run summary.

    `gone` says the source says the page no longer exists (404, 410, a file removed), so its
    earlier file may be removed; any other skip (a time-out, a server error) keeps that file.
    """

    address: str
    reason: str
    gone: bool = False


@dataclass(frozen=True, slots=True)
class Note:
    """Something worth saying about a page that was imported all the same (e.g. its encoding)."""

    address: str
    text: str
