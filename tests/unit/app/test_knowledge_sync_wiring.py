"""The persona's `knowledge.sync_every`: parsed, validated, and which sets are due how often."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bots.app.knowledge_sync_wiring import due_sets, sync_knowledge_forever
from bots.knowledge.persona import KnowledgeSettings
from bots.turn.library import PersonaLibrary


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("", None), ("30s", 30.0), ("15m", 900.0), ("6h", 21600.0), ("1d", 86400.0)],
)
def test_sync_every_reads_as_seconds(text: str, seconds: float | None) -> None:
    assert KnowledgeSettings(sync_every=text).sync_seconds == seconds


@pytest.mark.parametrize("text", ["6", "0h", "6 hours", "-1m", "1w"])
def test_a_wrong_sync_every_is_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        KnowledgeSettings(sync_every=text)


def test_each_set_is_due_at_the_shortest_period_of_its_personas(tmp_path: Path) -> None:
    (tmp_path / "personas").mkdir()
    for name in ("docs", "help"):
        (tmp_path / "knowledge" / name).mkdir(parents=True)
        (tmp_path / "knowledge" / name / "faq.yaml").write_text(
            f"entries:\n- id: {name}\n  question: q?\n  answer: a\n", encoding="utf-8"
        )
    personas = {
        "a": "[docs, help]\n  sync_every: 6h",
        "b": "[docs]\n  sync_every: 30m",
        "c": "[help]",
    }
    for name, knowledge in personas.items():
        (tmp_path / "personas" / f"{name}.yaml").write_text(
            f"name: {name}\ndisplay_name: {name}\ninstructions: hi\n"
            f"knowledge:\n  sets: {knowledge}\n",
            encoding="utf-8",
        )
    library = PersonaLibrary(tmp_path / "personas", tmp_path / "knowledge")
    assert library.load().problems == ()
    assert due_sets(library) == {"docs": 1800.0, "help": 21600.0}


async def test_without_a_persona_library_there_is_nothing_to_sync() -> None:
    await sync_knowledge_forever(object())  # returns at once
