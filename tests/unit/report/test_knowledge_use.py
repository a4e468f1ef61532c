"""`bots report` lists each knowledge entry's answers in the period, unused ones included,
and the suggested entries waiting for approval."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bots.app.report_commands import knowledge_for_report
from bots.config import Settings
from bots.knowledge.pending import NewSuggestion, Origin, PendingFaq
from bots.llm.pricing import PriceTable
from bots.models import IncomingMessage, ThreadKey
from bots.report.figures import read_report
from bots.report.render import render_html, render_json, render_text
from bots.store.sqlite import SQLiteStore
from bots.turn.engine import Engine
from bots.turn.runtime import PersonaRuntime
from tests.conftest import DATA


async def ask(engine: Engine, thread: str, text: str) -> None:
    message = IncomingMessage(ThreadKey("test", "w", "c", thread), "alice", text, f"m-{thread}")
    async for _event in engine.handle(message, "cafe"):
        pass


async def test_entry_use_and_pending_suggestions_in_the_report(
    tmp_path: Path, store: SQLiteStore, cafe_runtime: PersonaRuntime
) -> None:
    shutil.copytree(DATA / "personas", tmp_path / "personas")
    shutil.copytree(DATA / "knowledge", tmp_path / "knowledge")
    origin = Origin("test/w/c/t9", None, "U0STAFF", "2026-12-02T17:00")
    PendingFaq(tmp_path / "knowledge").add(
        "cafe", NewSuggestion("Do you sell gift cards?", "Yes, from $25.", (), origin)
    )
    engine = Engine(store=store, personas={"cafe": cafe_runtime}, default_persona="cafe", llm=None)
    await ask(engine, "t1", "is there wifi?")
    await ask(engine, "t2", "do you have wifi?")
    await ask(engine, "t3", "where can I park my car?")
    await ask(engine, "t4", "what is the meaning of life?")  # no entry: counts for none

    settings = Settings.from_env(
        {
            "BOTS_PERSONAS_DIR": str(tmp_path / "personas"),
            "BOTS_KNOWLEDGE_DIR": str(tmp_path / "knowledge"),
        },
        data_dir=tmp_path,
    )
    known, pending = knowledge_for_report(settings)
    now = datetime.now(UTC)
    report = await read_report(
        store,
        now - timedelta(days=7),
        now + timedelta(seconds=1),
        PriceTable({}),
        known=known,
        pending=pending,
    )
    answers = {e.entry_id: e.answers for e in report.entries}
    assert answers["wifi"] == 2
    assert answers["parking"] == 1
    assert answers["dogs"] == 0  # never used: listed, so stale entries can be found
    assert "sell-gift-cards" not in answers  # pending: not live
    assert [e.entry_id for e in report.entries][:2] == ["wifi", "parking"]
    assert {e.set_name for e in report.entries} == {"cafe"}

    text = render_text(report)
    assert "Knowledge entries: 2 of" in text
    assert "      2  cafe/wifi" in text
    assert "never used in the period" in text
    assert "cafe/dogs" in text
    assert "Suggested FAQ entries waiting for approval: 1" in text
    assert "cafe/sell-gift-cards: Do you sell gift cards?, saved by U0STAFF on 2026-12-02" in text
    data = json.loads(render_json(report))
    assert data["pending"][0]["entry_id"] == "sell-gift-cards"
    assert {e["entry_id"]: e["answers"] for e in data["entries"]}["dogs"] == 0
    page = render_html(report)
    assert "Suggested FAQ entries waiting for approval (1)" in page
    assert "<td>dogs</td>" in page
