"""A running bot re-syncs imported knowledge on its persona's schedule (`knowledge.sync_every`):
a page changed on the site is what the next answer comes from, with no restart. The test
prints the time from the change to the bot's retrieval finding the new text."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bots.app.knowledge_sync_wiring import sync_knowledge_forever
from bots.ingest.manifest import ImportOptions
from bots.ingest.run import run_import
from bots.turn.library import PersonaLibrary
from tests.support.site_server import serve_site

PAGE = "<html><head><title>Hours</title></head><body><main><h1>Hours</h1>{}</main></body></html>"
PERSONA = (
    "name: shop\ndisplay_name: Shop\ninstructions: Help shoppers.\n"
    "knowledge:\n  sets: [site]\n  sync_every: 1s\n"
)


def hours(text: str) -> str:
    return PAGE.format(f"<h2>When are you open?</h2><p>{text}</p><p>{'More words. ' * 30}</p>")


async def test_a_changed_page_reaches_the_running_bot(tmp_path: Path) -> None:
    (tmp_path / "site" / "docs").mkdir(parents=True)
    page = tmp_path / "site" / "docs" / "hours.html"
    page.write_text(hours("We open at nine."), encoding="utf-8")
    (tmp_path / "personas").mkdir()
    (tmp_path / "personas" / "shop.yaml").write_text(PERSONA, encoding="utf-8")
    knowledge = tmp_path / "knowledge"
    with serve_site(tmp_path / "site") as site:
        options = ImportOptions(
            source=f"{site.base_url}/docs/hours.html", allow_private_network=True, delay_seconds=0
        )
        await run_import(options, knowledge / "site")
        library = PersonaLibrary(tmp_path / "personas", knowledge)
        assert library.load().problems == ()
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(library.watch(stop)),
            asyncio.create_task(sync_knowledge_forever(library)),
        ]
        try:
            await asyncio.sleep(0.5)  # the watcher is up before the change
            page.write_text(hours("We open at QUARTER PAST SEVEN."), encoding="utf-8")
            changed = time.monotonic()
            while "QUARTER PAST SEVEN" not in _answer(library):
                assert time.monotonic() - changed < 30, "the change never reached the bot"
                await asyncio.sleep(0.05)
            seconds = time.monotonic() - changed
        finally:
            stop.set()
            tasks[1].cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    print(f"\nchanged page -> answered from it: {seconds:.2f} s (sync_every 1s)")
    assert seconds < 30


def _answer(library: PersonaLibrary) -> str:
    best = library["shop"].retriever.search("when are you open?").best
    return best.entry.answer if best is not None else ""
