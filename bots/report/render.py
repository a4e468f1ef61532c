"""The report shown to people: a plain-text table for the terminal, an HTML page, or JSON.

The HTML page is self-contained (no script, no network): its charts are horizontal bar
charts written here as inline SVG. That is a few rectangles and labels each, which no chart
library is needed for; the ones that could draw them (matplotlib, pygal) would add a large
or a little-maintained dependency for one command. Everything a user wrote is escaped with
`html.escape`, and control characters are removed before text reaches a terminal.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from html import escape
from typing import Any

from bots.models import HandoffReason
from bots.report import knowledge_use
from bots.report.figures import Report

EXAMPLE_CHARS = 90
# What fits left of a bar (260 px of 12 px text); the table below a chart has the full text.
CHART_LABEL_CHARS = 40
_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem;
       padding: 0 1rem; color: #1d2330; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.figures { display: flex; flex-wrap: wrap; gap: 1rem; }
.figure { border: 1px solid #d8dce5; border-radius: 6px; padding: .6rem 1rem; min-width: 9rem; }
.figure b { display: block; font-size: 1.6rem; }
table { border-collapse: collapse; margin-top: .5rem; }
td, th { padding: .25rem .6rem; border-bottom: 1px solid #e5e8ef; text-align: left; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #5b6475; }
svg text { font: 12px system-ui, sans-serif; fill: #1d2330; }
"""


# -- shared wording ---------------------------------------------------------------------------


def reason_label(reason: str) -> str:
    """A hand-off reason in plain words (its code as is if this version does not know it)."""
    try:
        return HandoffReason(reason).label
    except ValueError:
        return reason


def duration(value: timedelta | None) -> str:
    if value is None:
        return "-"
    seconds = round(value.total_seconds())
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes:02d}m"
    return f"{hours // 24}d {hours % 24}h"


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "n/a"


def dollars(value: float) -> str:
    return f"${value:,.4f}" if value < 1 else f"${value:,.2f}"


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _printable(text: str, limit: int = EXAMPLE_CHARS) -> str:
    """One line without control characters (a message could carry terminal escapes)."""
    flat = " ".join(
        "".join(" " if unicodedata.category(c).startswith("C") else c for c in text).split()
    )
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# -- terminal ---------------------------------------------------------------------------------


def render_text(report: Report) -> str:
    r, c = report.resolution, report.claims
    lines = [f"Report {_when(report.since)} to {_when(report.until)}", ""]
    lines += _section(
        "Conversations (started in the period, answered or handed over)",
        [
            [
                "resolved by the bot",
                f"{r.resolved} of {r.conversations}",
                percent(r.resolved, r.conversations),
            ],
            ["handed to people", str(r.handed_off), ""],
            ["with a thumbs-down", str(r.thumbs_down), ""],
            ['ending on "I don\'t know"', str(r.unanswered), "a person offered, not taken"],
        ],
    )
    lines += _section(
        f"Hand-offs by reason ({report.handoffs})",
        [[reason_label(reason), str(n), reason] for reason, n in report.handoffs_by_reason]
        or [["none", "", ""]],
    )
    lines += _section(
        "Time to claim",
        [
            ["claimed", str(c.claimed), f"median {duration(c.median)}, p90 {duration(c.p90)}"],
            [
                "still unclaimed",
                str(c.unclaimed),
                f"longest waiting {duration(c.longest_waiting)}" if c.unclaimed else "",
            ],
            ["handed back unclaimed", str(c.closed_unclaimed), ""],
        ],
    )
    lines += _section(
        "Feedback",
        [["thumbs up", str(report.thumbs_up), ""], ["thumbs down", str(report.thumbs_down), ""]],
    )
    unmatched = report.questions - report.matched
    lines += [
        f"Knowledge gaps: {unmatched} of {report.questions} questions had no confident match"
        f" ({percent(report.matched, report.questions)} matched)"
    ]
    if report.gaps:
        lines += _table(
            ["asked", "closest entry", "example question"],
            [
                [str(g.count), _closest(g.closest_entry, g.best_confidence), _printable(g.example)]
                for g in report.gaps
            ],
            numeric={0},
        )
    lines.append("")
    lines += _ungrounded_lines(report)
    lines += knowledge_use.text_lines(report.entries, report.pending)
    lines += ["Cost (BOTS_PRICES)"]
    lines += _table(
        ["model", "calls", "tokens in", "tokens out", "cost"],
        [
            [
                m.model,
                f"{m.calls:,}",
                f"{m.prompt_tokens:,}",
                f"{m.completion_tokens:,}",
                dollars(m.dollars) if m.priced else "no price",
            ]
            for m in report.costs
        ]
        + [["total", "", "", "", dollars(report.dollars)]],
        numeric={1, 2, 3, 4},
    )
    lines += [f"note: {note}" for note in notes(report)]
    return "\n".join(lines).rstrip() + "\n"


def _ungrounded_lines(report: Report) -> list[str]:
    """Model answers with facts no snippet held: where the knowledge or the model needs work."""
    lines = [f"Ungrounded answers: {len(report.ungrounded)} (newest first)"]
    if report.ungrounded:
        lines += _table(
            ["when", "persona", "facts not in the knowledge", "answer"],
            [
                [_when(u.at), u.persona, ", ".join(u.facts), _printable(u.text)]
                for u in report.ungrounded
            ],
            numeric=set(),
        )
    return [*lines, ""]


def _closest(entry: str | None, confidence: float) -> str:
    return f"{entry} ({confidence:.2f})" if entry is not None else "none"


def _section(title: str, rows: list[list[str]]) -> list[str]:
    return [title, *_table(None, rows, numeric={1}), ""]


def _table(
    header: Sequence[str] | None, rows: Sequence[Sequence[str]], *, numeric: set[int]
) -> list[str]:
    """Rows as aligned columns, indented by two spaces; `numeric` columns align right."""
    every = [list(header), *rows] if header else [list(row) for row in rows]
    widths = [max(len(row[i]) for row in every) for i in range(len(every[0]))]
    out = []
    for row in every:
        cells = [
            cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        out.append(("  " + "  ".join(cells)).rstrip())
    return out


def notes(report: Report) -> list[str]:
    said = []
    if report.retention_days is not None:
        said.append(
            f"messages older than {report.retention_days} days are deleted (BOTS_RETENTION_DAYS):"
            " questions and replies from before then are not counted"
        )
    if report.unmatched_grouped < report.questions - report.matched:
        said.append(
            f"knowledge gaps are grouped from the newest {report.unmatched_grouped} unmatched"
            " questions whose text is still kept"
        )
    if unpriced := [m.model for m in report.costs if not m.priced]:
        said.append(f"no price in BOTS_PRICES for {', '.join(unpriced)}: counted as $0")
    return said


# -- JSON -------------------------------------------------------------------------------------


def render_json(report: Report) -> str:
    data: dict[str, Any] = asdict(report)
    data["resolution"]["rate"] = report.resolution.rate
    data["handoffs_by_reason"] = dict(report.handoffs_by_reason)
    data["claims"]["histogram"] = dict(report.claims.histogram)
    data["handoffs"] = report.handoffs
    data["dollars"] = report.dollars
    return json.dumps(data, default=_json_value, ensure_ascii=False, indent=2)


def _json_value(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


# -- HTML -------------------------------------------------------------------------------------


def render_html(report: Report) -> str:
    r, c = report.resolution, report.claims
    period = f"{_when(report.since)} to {_when(report.until)}"
    figures = [
        (
            "resolved by the bot",
            percent(r.resolved, r.conversations),
            f"{r.resolved} of {r.conversations} conversations",
        ),
        ("hand-offs", str(report.handoffs), f"{c.unclaimed} still unclaimed"),
        ("median time to claim", duration(c.median), f"p90 {duration(c.p90)}"),
        ("feedback", f"{report.thumbs_up} / {report.thumbs_down}", "thumbs up / down"),
        (
            "knowledge matched",
            percent(report.matched, report.questions),
            f"of {report.questions} questions",
        ),
        ("cost", dollars(report.dollars), "from BOTS_PRICES"),
    ]
    body = [
        f"<h1>Support bot report</h1><p class='note'>{escape(period)}</p>",
        "<div class='figures'>",
        *(
            f"<div class='figure'>{escape(name)}<b>{escape(value)}</b>"
            f"<span class='note'>{escape(detail)}</span></div>"
            for name, value, detail in figures
        ),
        "</div>",
        "<h2>Conversations</h2>",
        bar_chart(
            "Conversations started in the period",
            [
                ("resolved by the bot", r.resolved),
                ("handed to people", r.handed_off),
                ("with a thumbs-down", r.thumbs_down),
                ('ending on "I don\'t know"', r.unanswered),
            ],
            total=r.conversations,
        ),
        "<h2>Hand-offs by reason</h2>",
        bar_chart(
            "Hand-offs by reason",
            [(reason_label(reason), n) for reason, n in report.handoffs_by_reason],
        ),
        "<h2>Time to claim</h2>",
        f"<p>{c.claimed} claimed: median {escape(duration(c.median))}, p90 "
        f"{escape(duration(c.p90))}. {c.unclaimed} still unclaimed"
        + (f" (longest waiting {escape(duration(c.longest_waiting))})" if c.unclaimed else "")
        + f"; {c.closed_unclaimed} handed back unclaimed.</p>",
        bar_chart("Claimed hand-offs by time to claim", list(c.histogram)),
        "<h2>Feedback</h2>",
        bar_chart(
            "Feedback", [("thumbs up", report.thumbs_up), ("thumbs down", report.thumbs_down)]
        ),
        "<h2>Knowledge gaps</h2>",
        f"<p>{report.questions - report.matched} of {report.questions} questions had no "
        "confident match in the knowledge: the most frequent, near-duplicates merged.</p>",
        bar_chart(
            "Most frequent questions without a confident match",
            [(_printable(g.example, CHART_LABEL_CHARS), g.count) for g in report.gaps],
        ),
        _gap_table(report),
        "<h2>Ungrounded answers</h2>",
        f"<p>{len(report.ungrounded)} model answers stated figures, times, prices, addresses "
        "or links that none of their snippets held (newest first).</p>",
        _ungrounded_table(report),
        knowledge_use.html(report.entries, report.pending),
        "<h2>Cost</h2>",
        _cost_table(report),
        *(f"<p class='note'>Note: {escape(note)}</p>" for note in notes(report)),
    ]
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>Support bot report, {escape(period)}</title>"
        f"<style>{_STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def _gap_table(report: Report) -> str:
    if not report.gaps:
        return ""
    rows = "".join(
        f"<tr><td class='n'>{g.count}</td>"
        f"<td>{escape(_closest(g.closest_entry, g.best_confidence))}</td>"
        f"<td>{escape(_printable(g.example, 300))}</td>"
        f"<td>{escape(_when(g.last_asked))}</td></tr>"
        for g in report.gaps
    )
    return (
        "<table><tr><th class='n'>asked</th><th>closest entry (confidence)</th>"
        f"<th>example question</th><th>last asked</th></tr>{rows}</table>"
    )


def _ungrounded_table(report: Report) -> str:
    if not report.ungrounded:
        return ""
    rows = "".join(
        f"<tr><td>{escape(_when(u.at))}</td><td>{escape(u.persona)}</td>"
        f"<td>{escape(', '.join(u.facts))}</td><td>{escape(_printable(u.text, 300))}</td></tr>"
        for u in report.ungrounded
    )
    return (
        "<table><tr><th>when</th><th>persona</th><th>facts not in the knowledge</th>"
        f"<th>answer</th></tr>{rows}</table>"
    )


def _cost_table(report: Report) -> str:
    rows = "".join(
        f"<tr><td>{escape(m.model)}</td><td class='n'>{m.calls:,}</td>"
        f"<td class='n'>{m.prompt_tokens:,}</td><td class='n'>{m.completion_tokens:,}</td>"
        f"<td class='n'>{escape(dollars(m.dollars) if m.priced else 'no price')}</td></tr>"
        for m in report.costs
    )
    return (
        "<table><tr><th>model</th><th class='n'>calls</th><th class='n'>tokens in</th>"
        f"<th class='n'>tokens out</th><th class='n'>cost</th></tr>{rows}"
        f"<tr><th>total</th><td></td><td></td><td></td>"
        f"<th class='n'>{escape(dollars(report.dollars))}</th></tr></table>"
    )


def bar_chart(title: str, bars: Sequence[tuple[str, int]], *, total: int | None = None) -> str:
    """Horizontal bars as inline SVG, each labelled with its value (and share of `total`)."""
    if not bars or not any(value for _, value in bars):
        return f"<p class='note'>{escape(title)}: nothing in this period.</p>"
    label_width, bar_width, row = 260, 420, 26
    scale = max(total or 0, *(value for _, value in bars))
    height = row * len(bars) + 8
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' role='img' width='{label_width + bar_width + 90}'"
        f" height='{height}' viewBox='0 0 {label_width + bar_width + 90} {height}'>",
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, value) in enumerate(bars):
        y = 4 + i * row
        length = round(bar_width * value / scale) if scale else 0
        shown = f"{value}" + (f" ({percent(value, total)})" if total else "")
        parts += [
            f"<text x='{label_width - 8}' y='{y + 16}' text-anchor='end'>{escape(label)}</text>",
            f"<rect x='{label_width}' y='{y + 3}' width='{max(length, 1)}' height='{row - 8}'"
            " rx='3' fill='#3b6fd8'/>",
            f"<text x='{label_width + max(length, 1) + 6}' y='{y + 16}'>{escape(shown)}</text>",
        ]
    parts.append("</svg>")
    return "".join(parts)
