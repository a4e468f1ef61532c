"""The running bot's scheduled re-sync of imported knowledge (a persona's `knowledge.sync_every`).

Each set that a persona with `sync_every` answers from, and that has imports recorded
(`.import.yaml`), is re-imported on that schedule, the first time one period after start.
The files change on disk like any edit, and the persona library's watcher reloads them, so
the next question is answered from the new text. A failing sync is logged and retried on
the next period (bots.ops.periodic); the summary's counts go to the log, never page text.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

from bots.turn.library import PersonaLibrary

log = logging.getLogger(__name__)
LONGEST_NAP = 60.0


def due_sets(library: PersonaLibrary) -> dict[str, float]:
    """Set name -> the shortest `sync_every` (seconds) among the personas answering from it."""
    due: dict[str, float] = {}
    for name in library:
        knowledge = library[name].persona.knowledge
        seconds = knowledge.sync_seconds
        if seconds is None:
            continue
        for set_name in knowledge.sets:
            due[set_name] = min(seconds, due.get(set_name, seconds))
    return due


async def sync_set(knowledge_dir: Path, set_name: str) -> int:
    """Re-run the imports recorded in one set; how many files changed."""
    from bots.ingest.manifest import read_manifest
    from bots.ingest.run import run_import

    folder = knowledge_dir / set_name
    changed = 0
    for options in await asyncio.to_thread(read_manifest, folder):
        report = await run_import(options, folder)
        moved = sum(report.count(action) for action in ("added", "changed", "removed"))
        changed += moved
        log.info(
            "knowledge sync of set %s: %d added, %d changed, %d removed, %d skipped",
            set_name,
            report.count("added"),
            report.count("changed"),
            report.count("removed"),
            len(report.skipped),
        )
    return changed


async def sync_knowledge_forever(
    personas: object, clock: Callable[[], float] = time.monotonic
) -> None:
    """Until cancelled: re-sync each due set. `personas` is the bot's persona library (any
    other watcher, as in some tests, has no personas to read and ends this at once)."""
    if not isinstance(personas, PersonaLibrary):
        return
    started = clock()
    last: dict[str, float] = {}
    while True:
        due = due_sets(personas)
        now = clock()
        for set_name, seconds in sorted(due.items()):
            if now - last.get(set_name, started) >= seconds:
                last[set_name] = now
                try:
                    await sync_set(personas.knowledge_dir, set_name)
                except ImportError as exc:
                    log.warning(
                        'knowledge sync needs the `import` extra (pip install "bots[import]"): '
                        "%s is missing",
                        exc.name,
                    )
                except Exception:
                    log.exception(
                        "knowledge sync of set %s failed; next try in %ss", set_name, seconds
                    )
        waits = [seconds - (clock() - last.get(name, started)) for name, seconds in due.items()]
        await asyncio.sleep(max(0.05, min([LONGEST_NAP, *waits])))
