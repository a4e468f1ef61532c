"""Hot reload: edits to personas and knowledge go live; a broken edit keeps the last good one."""

from __future__ import annotations

import asyncio
import logging
import shutil
from pathlib import Path

import pytest

from bots.errors import KnowledgeError, PersonaError
from bots.models import FinalReply, IncomingMessage, ThreadKey
from bots.store.sqlite import SQLiteStore
from bots.turn.engine import Engine
from bots.turn.library import PersonaLibrary, ReloadResult
from tests.conftest import DATA


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    personas, knowledge = tmp_path / "personas", tmp_path / "knowledge"
    shutil.copytree(DATA / "personas", personas)
    shutil.copytree(DATA / "knowledge", knowledge)
    return personas, knowledge


def library(files: tuple[Path, Path]) -> PersonaLibrary:
    personas, knowledge = files
    shelf = PersonaLibrary(personas, knowledge, required="cafe")
    shelf.load()
    return shelf


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


async def test_an_edit_goes_live_on_reload(files: tuple[Path, Path]) -> None:
    shelf = library(files)
    assert shelf["cafe"].persona.display_name == "Test Cafe Helper"
    edit(files[0] / "cafe.yaml", "Test Cafe Helper", "Cafe Buddy")
    edit(files[1] / "cafe" / "faq.yaml", "free car park", "paid car park")
    result = await shelf.reload()
    assert result.problems == ()
    assert shelf["cafe"].persona.display_name == "Cafe Buddy"
    best = shelf["cafe"].retriever.search("parking?").best
    assert best is not None
    assert "paid car park" in best.entry.answer


async def test_a_broken_edit_keeps_the_last_good_version(
    files: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    shelf = library(files)
    edit(files[0] / "cafe.yaml", "  max_tokens: 200", "  max_tokns: 200")
    with caplog.at_level(logging.ERROR, logger="bots.turn.library"):
        result = await shelf.reload()
    assert [p.field for p in result.problems] == ["model.max_tokns"]
    assert shelf["cafe"].persona.display_name == "Test Cafe Helper"  # still the old one
    logged = caplog.records[-1].getMessage()
    assert "cafe.yaml:9:3: `model.max_tokns`: this field is not known; did you mean" in logged
    assert "keeping the last good version" in logged


async def test_broken_knowledge_keeps_the_last_good_version(files: tuple[Path, Path]) -> None:
    shelf = library(files)
    (files[1] / "cafe" / "faq.yaml").write_text("entries:\n  - id: x\n", encoding="utf-8")
    result = await shelf.reload()
    assert len(result.problems) == 1
    assert shelf["cafe"].retriever.search("parking?").confident


def test_a_broken_required_persona_stops_the_start(files: tuple[Path, Path]) -> None:
    edit(files[0] / "cafe.yaml", "name: cafe", "name: [cafe")
    with pytest.raises(PersonaError):
        library(files)


async def test_the_engine_answers_with_the_reloaded_persona(
    files: tuple[Path, Path], store: SQLiteStore
) -> None:
    shelf = library(files)
    engine = Engine(store=store, personas=shelf, default_persona="cafe", llm=None)
    edit(files[1] / "cafe" / "faq.yaml", "free car park", "paid car park")
    await shelf.reload()
    message = IncomingMessage(ThreadKey("t", "w", "c", "1"), "u", "where can I park?", "m1")
    replies = [e async for e in engine.handle(message) if isinstance(e, FinalReply)]
    assert "paid car park" in replies[0].text


async def test_the_watcher_reloads_after_a_file_changes(files: tuple[Path, Path]) -> None:
    shelf = library(files)
    reloaded = asyncio.Event()
    results: list[ReloadResult] = []

    def heard(result: ReloadResult) -> None:
        results.append(result)
        reloaded.set()

    shelf.on_reload(heard)
    stop = asyncio.Event()
    watcher = asyncio.create_task(shelf.watch(stop))
    await asyncio.sleep(0.2)  # let the watcher start before the edit (a real file watcher)
    edit(files[0] / "cafe.yaml", "Test Cafe Helper", "Cafe Buddy")
    await asyncio.wait_for(reloaded.wait(), timeout=2.0)  # the "within 2 seconds"
    stop.set()
    await watcher
    assert shelf["cafe"].persona.display_name == "Cafe Buddy"


def test_a_knowledge_problem_at_start_names_the_knowledge_file(files: tuple[Path, Path]) -> None:
    (files[1] / "cafe" / "faq.yaml").write_text("entries:\n  - id: x\n", encoding="utf-8")
    with pytest.raises(KnowledgeError) as caught:
        library(files)
    assert caught.value.path.endswith("faq.yaml")


def test_editor_lock_files_are_not_personas(files: tuple[Path, Path]) -> None:
    (files[0] / ".#cafe.yaml").write_text("not: [a persona", encoding="utf-8")
    (files[1] / "cafe" / "._faq.yaml").write_bytes(b"\x00\x01junk")
    shelf = library(files)
    assert list(shelf) == ["cafe"]
    assert shelf["cafe"].retriever.search("parking?").confident


async def test_instructions_too_long_for_the_model_are_refused(files: tuple[Path, Path]) -> None:
    shelf = library(files)
    edit(files[0] / "cafe.yaml", "Keep answers short.", "Keep answers short. " + "Be nice. " * 2500)
    result = await shelf.reload()
    assert [p.field for p in result.problems] == ["instructions"]
    assert "more than the prompt budget" in str(result.problems[0])
    assert "Be nice." not in shelf["cafe"].persona.instructions  # the last good one stays


def test_saving_a_suggestion_reloads_nothing_approving_it_does() -> None:
    from watchfiles import Change

    from bots.turn.library import changes_that_matter

    matters = changes_that_matter()
    assert not matters(Change.modified, "/k/cafe/pending.yaml")
    assert not matters(Change.added, "/k/cafe/staff.pending.yaml")
    assert not matters(Change.added, "/k/cafe/.pending.yaml.x1y2z3")  # its temporary copy
    assert matters(Change.modified, "/k/cafe/faq.yaml")
    assert matters(Change.modified, "/p/cafe.yaml")
    assert not matters(Change.modified, "/k/.git/index")
