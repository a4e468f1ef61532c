"""The report's knowledge section: how often each entry answered, and suggestions waiting.

The store counts answers per entry it cited (`entry_uses`); which entries exist comes from
the files, read by the app and passed in as `KnownEntry` values (the report does not read
files), so an entry never used in the period is listed with 0 and stale ones can be found.
Suggestions from "Save as FAQ" that wait for approval are listed with who saved them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

from bots.store.activity import EntryUse

UNUSED_LISTED = 200
"""Unused entries named in the text report (all of them are in JSON and HTML)."""


@dataclass(frozen=True, slots=True)
class KnownEntry:
    """A live knowledge entry of a persona, as the files have it now."""

    persona: str
    entry_id: str
    question: str
    set_name: str = ""


@dataclass(frozen=True, slots=True)
class PendingSuggestion:
    """A suggested entry waiting for approval (bots.knowledge.pending)."""

    entry_id: str
    set_name: str
    question: str
    saved_by: str = ""
    saved_at: str = ""
    link: str | None = None


@dataclass(frozen=True, slots=True)
class EntryUsage:
    """One entry's answers in the period (0: not used)."""

    persona: str
    entry_id: str
    question: str
    set_name: str
    answers: int
    last_used: datetime | None = None


def entry_usage(known: Sequence[KnownEntry], uses: Sequence[EntryUse]) -> tuple[EntryUsage, ...]:
    """Every known entry with its answers, most used first, the unused ones last (by id).
    Entries the store counted that the files no longer have are left out."""
    counted = {(u.persona, u.entry_id): u for u in uses}
    rows = []
    for entry in known:
        use = counted.get((entry.persona, entry.entry_id))
        rows.append(
            EntryUsage(
                entry.persona,
                entry.entry_id,
                entry.question,
                entry.set_name,
                use.answers if use else 0,
                use.last_used if use else None,
            )
        )
    rows.sort(key=lambda row: (-row.answers, row.persona, row.entry_id))
    return tuple(rows)


def text_lines(usage: Sequence[EntryUsage], pending: Sequence[PendingSuggestion]) -> list[str]:
    used = [row for row in usage if row.answers]
    unused = [row for row in usage if not row.answers]
    lines = [f"Knowledge entries: {len(used)} of {len(usage)} answered questions in the period"]
    for row in used:
        lines.append(f"  {row.answers:>5}  {row.persona}/{row.entry_id}")
    if unused:
        names = ", ".join(f"{row.persona}/{row.entry_id}" for row in unused[:UNUSED_LISTED])
        more = f" and {len(unused) - UNUSED_LISTED} more" if len(unused) > UNUSED_LISTED else ""
        lines.append(f"  never used in the period ({len(unused)}): {names}{more}")
    lines.append("")
    lines.append(f"Suggested FAQ entries waiting for approval: {len(pending)}")
    for suggestion in pending:
        by = f", saved by {suggestion.saved_by}" if suggestion.saved_by else ""
        when = f" on {suggestion.saved_at[:10]}" if suggestion.saved_at else ""
        lines.append(
            f"  {suggestion.set_name}/{suggestion.entry_id}: {_one_line(suggestion.question)}"
            f"{by}{when}"
        )
    if pending:
        lines.append("  approve one with: bots knowledge approve ID")
    return [*lines, ""]


def html(usage: Sequence[EntryUsage], pending: Sequence[PendingSuggestion]) -> str:
    rows = "".join(
        f"<tr><td class='n'>{row.answers}</td><td>{escape(row.persona)}</td>"
        f"<td>{escape(row.entry_id)}</td><td>{escape(_one_line(row.question))}</td></tr>"
        for row in usage
    )
    waiting = "".join(
        f"<tr><td>{escape(s.set_name)}</td><td>{escape(s.entry_id)}</td>"
        f"<td>{escape(_one_line(s.question))}</td><td>{escape(s.saved_by)}</td>"
        f"<td>{escape(s.saved_at[:16])}</td></tr>"
        for s in pending
    )
    return (
        "<h2>Knowledge entries</h2><p>Answers grounded in each entry in the period; "
        "0 means not used (stale, or worded unlike the questions people ask).</p>"
        "<table><tr><th class='n'>answers</th><th>persona</th><th>entry</th>"
        f"<th>question</th></tr>{rows}</table>"
        f"<h2>Suggested FAQ entries waiting for approval ({len(pending)})</h2>"
        + (
            "<table><tr><th>set</th><th>entry</th><th>question</th><th>saved by</th>"
            f"<th>saved</th></tr>{waiting}</table>"
            if pending
            else ""
        )
    )


def _one_line(text: str) -> str:
    flat = "".join(ch if ch.isprintable() else " " for ch in " ".join(text.split()))
    return flat if len(flat) <= 90 else flat[:89] + "…"
