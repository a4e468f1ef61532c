"""`/save` and `/approve` in `bots chat`, on the app `build_app` wires (the real checks)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from bots.adapters import console
from bots.app.wiring import build_app
from bots.config import Settings
from tests.conftest import DATA
from tests.unit.adapters.test_console import lines


def settings_for(tmp_path: Path) -> Settings:
    shutil.copytree(DATA / "personas", tmp_path / "personas")
    shutil.copytree(DATA / "knowledge", tmp_path / "knowledge")
    (tmp_path / "personas" / "cafe.tests.yaml").write_text(
        "tests:\n  - ask: is there wifi?\n    answer_from: wifi\n", encoding="utf-8"
    )
    environ = {
        "BOTS_PERSONAS_DIR": str(tmp_path / "personas"),
        "BOTS_KNOWLEDGE_DIR": str(tmp_path / "knowledge"),
        "BOTS_PERSONA": "cafe",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bots.sqlite3'}",
        "BOTS_SEMANTIC": "off",
        "BOTS_HANDOFF_SEMANTIC": "off",
        "BOTS_PENDING_FILE": "staff.pending.yaml",
    }
    return Settings.from_env(environ, data_dir=tmp_path)


async def test_save_and_approve_in_the_console(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    out = io.StringIO()
    async with build_app(settings, None, bursts=False) as app:
        key = console.new_thread_key("tester", "cafe")
        typed = [
            "Do you sell gift cards?",
            "/save",  # not yet: nobody from the team answered
            "yes",
            "/staff Yes, gift cards from $25 at the counter; they never expire.",
            "/save",  # not yet: still with the team
            "/resolve",
            "/save",
            "do you sell gift cards?",
            "/approve",
            "/new",
            "do you sell gift cards?",
        ]
        await console.chat(app.engine, app.persona, key, "tester", lines(*typed), out, faq=app.faq)
    shown = out.getvalue()
    assert "[Resolve the hand-off first" in shown
    saved = shown.split("[Saved as the pending FAQ entry `sell-gift-cards`")[1]
    assert "staff.pending.yaml. Nothing is answered from it until it is approved." in saved
    assert "Q: Do you sell gift cards?" in saved
    assert "A: Yes, gift cards from $25 at the counter; they never expire." in saved
    assert "bots check: all good" in saved
    assert "its question would be answered from it" in saved
    assert "persona tests for cafe with it approved: 1 passed, 0 failed" in saved
    before_approval, after_approval = saved.split("[Approved: `sell-gift-cards`")
    assert "Sorry, I don't know that." in before_approval.split("bots knowledge approve")[-1]
    assert "gift cards from $25 at the counter" in after_approval.split("(new conversation")[1]
    live = (tmp_path / "knowledge" / "cafe" / "faq.yaml").read_text(encoding="utf-8")
    assert "id: sell-gift-cards" in live
    assert "# From a staff answer by console-staff" in live
