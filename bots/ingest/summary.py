"""The end-of-run summary of an import: what changed, what was skipped and why, in plain lines."""

from __future__ import annotations

from collections import Counter, defaultdict

from bots.ingest.run import ImportReport

EXAMPLES = 3


def render(report: ImportReport) -> str:
    would = "would be " if report.dry_run else ""
    lines = [
        f"{report.source} -> {report.folder}"
        + ("  (dry run: nothing written)" if report.dry_run else ""),
        f"  pages fetched: {report.pages_fetched}; entries "
        f"{'to write' if report.dry_run else 'written'}: {report.entries_written}",
        f"  {would}added {report.count('added')}, {would}changed {report.count('changed')}, "
        f"{would}removed {report.count('removed')}, unchanged {report.count('unchanged')}",
    ]
    for change in report.changes:
        if change.action in ("added", "changed", "removed"):
            lines.append(
                f"    {change.action:<8} {change.path.name}  ({change.address})"
                + (f": {change.why}" if change.why else "")
            )
    edited = [c for c in report.changes if c.action == "kept-edited"]
    for change in edited:
        lines.append(
            f"  kept as you edited it: {change.path.name} ({change.why}); --force overwrites it"
        )
    unreached = [c for c in report.changes if c.action == "kept-unreached"]
    if unreached:
        lines.append(
            f"  kept {len(unreached)} file(s) of pages not fetched this time "
            f"(e.g. {unreached[0].path.name})"
        )
    lines += _skips(report)
    for note in report.notes[:20]:
        lines.append(f"  note: {note.address}: {note.text}")
    if len(report.notes) > 20:
        lines.append(f"  ... and {len(report.notes) - 20} more notes")
    return "\n".join(lines)


def _skips(report: ImportReport) -> list[str]:
    if not report.skipped:
        return ["  skipped: none"]
    by_reason: defaultdict[str, list[str]] = defaultdict(list)
    for skipped in report.skipped:
        by_reason[_kind(skipped.reason)].append(f"{skipped.address} ({skipped.reason})")
    counts = Counter({reason: len(items) for reason, items in by_reason.items()})
    lines = [f"  skipped: {len(report.skipped)}"]
    for reason, count in counts.most_common():
        examples = by_reason[reason][:EXAMPLES]
        more = f" and {count - EXAMPLES} more" if count > EXAMPLES else ""
        lines.append(f"    {count} {reason}: " + "; ".join(examples) + more)
    return lines


def _kind(reason: str) -> str:
    """Reasons grouped by their kind (`HTTP 404`, `timed out`, ...), without the details."""
    for cut in (" (", ";", " after "):
        if cut in reason:
            reason = reason.split(cut, 1)[0]
    return reason
