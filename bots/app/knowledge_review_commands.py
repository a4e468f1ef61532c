"""`bots knowledge pending` and `bots knowledge approve ID`: review suggested FAQ entries.

"Save as FAQ" (bots.turn.faq_suggestions) writes entries drafted from staff answers to each
set's pending file; nothing is answered from them until a person approves one here (or with
the Approve button in the support channel). A running bot picks the approved entry up from
the file within about two seconds.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

from bots.config import Settings

if TYPE_CHECKING:
    from bots.knowledge.pending import PendingFaq


def add_commands(knowledge: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `pending` and `approve` to the `bots knowledge` group."""
    pending = knowledge.add_parser(
        "pending", help="list suggested FAQ entries waiting for approval"
    )
    pending.set_defaults(run=run_pending)
    approve = knowledge.add_parser(
        "approve", help="move a suggested FAQ entry into its set's faq.yaml, then check"
    )
    approve.add_argument("entry_id", metavar="ID", help="the entry's id (bots knowledge pending)")
    approve.set_defaults(run=run_approve)


def _pending(settings: Settings) -> PendingFaq:
    # Imported here: `bots ask` and `bots chat` never load the review commands' code.
    from bots.app.faq_wiring import pending_faq
    from bots.app.wiring import existing_folder

    root = existing_folder(settings.knowledge_dir)
    return pending_faq(settings, root)


async def run_pending(settings: Settings, args: argparse.Namespace) -> int:
    suggestions = await asyncio.to_thread(_pending(settings).suggestions)
    if not suggestions:
        print("no suggested FAQ entries are waiting")
        return 0
    for suggestion in suggestions:
        entry, origin = suggestion.entry, suggestion.origin
        print(f"{entry.id}  ({suggestion.set_name}, {suggestion.path})")
        print(f"  Q: {entry.question}")
        for phrasing in entry.also_asked:
            print(f"     also: {phrasing}")
        print(f"  A: {' '.join(entry.answer.split())[:200]}")
        if origin is not None:
            print(f"  {origin.comment()}")
    print(f"\n{len(suggestions)} waiting; approve one with: bots knowledge approve ID")
    return 0


async def run_approve(settings: Settings, args: argparse.Namespace) -> int:
    from bots.app.suggestion_check import check_suggestion_set
    from bots.app.wiring import existing_folder
    from bots.knowledge.pending import LIVE_FILE

    pending = _pending(settings)
    moved = await asyncio.to_thread(pending.approve, args.entry_id)
    print(f"approved {moved.entry.id}: moved into {moved.path.parent / LIVE_FILE}")
    personas = existing_folder(settings.personas_dir)
    check = await asyncio.to_thread(check_suggestion_set, personas, pending.root, moved.set_name)
    print(check.summary)
    return 0 if check.passed else 1
