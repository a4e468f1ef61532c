"""`bots report [--since 7d] [--html FILE] [--json]`: the operator's figures for a period."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bots.config import Settings
from bots.errors import BotsError, FileProblem
from bots.store import open_store

if TYPE_CHECKING:
    from bots.report.knowledge_use import KnownEntry, PendingSuggestion


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = commands.add_parser(
        "report",
        help="resolution rate, hand-offs, time to claim, feedback, knowledge gaps and cost",
    )
    report.add_argument(
        "--since",
        type=_since,
        default=timedelta(days=7),
        metavar="PERIOD",
        help="how far back: 24h, 7d, 30d, 2w ... (default 7d)",
    )
    report.add_argument(
        "--html",
        type=Path,
        metavar="FILE",
        help="also write a self-contained HTML page with charts",
    )
    report.add_argument("--json", action="store_true", help="print one JSON object instead")
    report.set_defaults(run=run_report)


def _since(text: str) -> timedelta:
    from bots.report.figures import parse_since

    try:
        return parse_since(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


async def run_report(settings: Settings, args: argparse.Namespace) -> int:
    # Imported here, not at the top: `bots ask` and `bots chat` never load the report.
    from bots.report.figures import read_report
    from bots.report.render import render_html, render_json, render_text

    until = datetime.now(UTC)
    known, pending = knowledge_for_report(settings)
    store = open_store(settings.database_url)
    await store.open()
    try:
        report = await read_report(
            store,
            until - args.since,
            until,
            settings.prices,
            retention_days=settings.privacy.retention_days,
            known=known,
            pending=pending,
        )
    finally:
        await store.close()
    if args.html is not None:
        try:
            args.html.write_text(render_html(report), encoding="utf-8")
        except OSError as exc:
            raise BotsError(f"cannot write the HTML report to {args.html}: {exc}") from exc
    if args.json:
        print(render_json(report))
    else:
        print(render_text(report), end="")
    if args.html is not None:
        print(f"HTML report written to {args.html}", file=sys.stderr)
    return 0


def knowledge_for_report(settings: Settings) -> tuple[list[KnownEntry], list[PendingSuggestion]]:
    """The live entries of every persona (so unused ones are listed too) and the pending
    suggestions. A persona whose files are broken is left out (`bots check` says why)."""
    from bots.app.wiring import existing_folder
    from bots.knowledge.files import load_knowledge
    from bots.knowledge.pending import PendingFaq
    from bots.knowledge.persona import load_persona, persona_files
    from bots.report.knowledge_use import KnownEntry, PendingSuggestion

    root = existing_folder(settings.knowledge_dir)
    known: list[KnownEntry] = []
    for path in persona_files(existing_folder(settings.personas_dir)):
        try:
            persona = load_persona(path)
            entries = load_knowledge(root, persona.knowledge.sets)
        except FileProblem:
            continue
        for entry in entries:
            known.append(
                KnownEntry(path.stem, entry.id, entry.question, _set_of(entry.source, root))
            )
    try:
        suggestions = PendingFaq(root, settings.pending_file).suggestions()
    except FileProblem as problem:
        print(f"warning: pending suggestions not listed: {problem.describe()}", file=sys.stderr)
        suggestions = []
    pending = [
        PendingSuggestion(
            s.entry.id,
            s.set_name,
            s.entry.question,
            s.origin.saved_by if s.origin else "",
            s.origin.saved_at if s.origin else "",
            s.origin.link if s.origin else None,
        )
        for s in suggestions
    ]
    return known, pending


def _set_of(source: str, root: Path) -> str:
    try:
        return Path(source).resolve().relative_to(root.resolve()).parts[0]
    except (ValueError, IndexError):
        return ""
