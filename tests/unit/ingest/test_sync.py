"""Re-running an import is a sync: unchanged files stay byte for byte, changes arrive, gone
pages go, hand edits are kept without --force, and a dry run writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bots.ingest.manifest import ImportOptions, read_manifest
from bots.ingest.run import ImportReport, run_import
from bots.ingest.summary import render
from bots.knowledge.files import load_knowledge_set

FAQ = """# Billing FAQ

## How do I get a refund?

Write to billing within 30 days.

## Can I pay by card?

Yes, all major cards.

## Do you send invoices?

Every month, by email.
"""
GUIDE = (
    "# Getting started\n\nInstall it.\n\n## Configure\n\nSet the `TOKEN`.\n\n"
    "```\n# not a heading\n```\n"
)


def source(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    (docs / "guides").mkdir(parents=True)
    (docs / "faq.md").write_text(FAQ, encoding="utf-8")
    (docs / "guides" / "start.md").write_text(GUIDE, encoding="utf-8")
    (docs / "notes.txt").write_text("Opening hours are 9 to 5.\n", encoding="utf-8")
    return docs


async def sync(docs: Path, knowledge: Path, day: int = 1, **flags: bool) -> ImportReport:
    return await run_import(
        ImportOptions(source=str(docs)),
        knowledge / "docs",
        clock=lambda: datetime(2026, 1, day, tzinfo=UTC),
        **flags,
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


async def test_import_writes_loadable_files_with_provenance(tmp_path: Path) -> None:
    docs, knowledge = source(tmp_path), tmp_path / "knowledge"
    report = await sync(docs, knowledge)
    assert report.count("added") == 3
    folder = knowledge / "docs"
    assert sorted(p.name for p in folder.iterdir()) == [
        ".import.yaml",
        "faq.yaml",
        "guides-start.md",
        "notes.md",
    ]
    entries = {e.id: e for e in load_knowledge_set(knowledge, "docs")}
    assert entries["faq-how-do-i-get-a-refund"].question == "How do I get a refund?"
    assert entries["faq-how-do-i-get-a-refund"].answer == "Write to billing within 30 days."
    assert entries["guides-start-configure"].question == "Getting started: Configure"
    text = (folder / "guides-start.md").read_text(encoding="utf-8")
    assert f"source: {docs / 'guides' / 'start.md'}" in text
    assert "fetched: '2026-01-01T00:00:00Z'" in text
    assert "sha256: " in text
    assert read_manifest(folder) == [ImportOptions(source=str(docs))]


async def test_unchanged_source_changes_no_file(tmp_path: Path) -> None:
    docs, knowledge = source(tmp_path), tmp_path / "knowledge"
    await sync(docs, knowledge, day=1)
    before = snapshot(knowledge / "docs")
    report = await sync(docs, knowledge, day=2)
    assert snapshot(knowledge / "docs") == before
    assert (report.count("unchanged"), report.count("changed"), report.count("added")) == (3, 0, 0)
    assert "added 0, changed 0, removed 0, unchanged 3" in render(report)


async def test_a_change_arrives_and_a_gone_page_is_removed(tmp_path: Path) -> None:
    docs, knowledge = source(tmp_path), tmp_path / "knowledge"
    await sync(docs, knowledge, day=1)
    (docs / "notes.txt").write_text("Opening hours are 8 to 6.\n", encoding="utf-8")
    (docs / "guides" / "start.md").unlink()
    report = await sync(docs, knowledge, day=2)
    assert report.count("changed") == 1
    assert report.count("removed") == 1
    notes = (knowledge / "docs" / "notes.md").read_text(encoding="utf-8")
    assert "8 to 6" in notes
    assert "fetched: '2026-01-02T00:00:00Z'" in notes
    assert not (knowledge / "docs" / "guides-start.md").exists()
    assert "removed  guides-start.md" in render(report)


async def test_hand_edits_are_kept_unless_forced(tmp_path: Path) -> None:
    docs, knowledge = source(tmp_path), tmp_path / "knowledge"
    await sync(docs, knowledge)
    notes = knowledge / "docs" / "notes.md"
    notes.write_text(notes.read_text(encoding="utf-8") + "\nAsk Sam.\n", encoding="utf-8")
    (docs / "notes.txt").write_text("Opening hours are 8 to 6.\n", encoding="utf-8")
    report = await sync(docs, knowledge, day=2)
    assert "Ask Sam." in notes.read_text(encoding="utf-8")
    summary = render(report)
    assert (
        "kept as you edited it: notes.md (edited by hand; the source changed too); --force"
        in summary
    )
    forced = await sync(docs, knowledge, day=3, force=True)
    assert forced.count("changed") == 1
    assert "Ask Sam." not in notes.read_text(encoding="utf-8")
    assert "8 to 6" in notes.read_text(encoding="utf-8")


async def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    docs, knowledge = source(tmp_path), tmp_path / "knowledge"
    report = await sync(docs, knowledge, dry_run=True)
    assert not (knowledge / "docs").exists()
    assert report.count("added") == 3
    assert "would be added 3" in render(report)
    assert "dry run: nothing written" in render(report)


async def test_links_in_the_source_folder_are_not_followed(tmp_path: Path) -> None:
    docs, knowledge = source(tmp_path), tmp_path / "knowledge"
    secret = tmp_path / "secret.md"
    secret.write_text("# Secret\n\npassword\n", encoding="utf-8")
    (docs / "leak.md").symlink_to(secret)
    report = await sync(docs, knowledge)
    assert any(s.reason == "a link; links are not followed" for s in report.skipped)
    assert all("password" not in p.read_text() for p in (knowledge / "docs").iterdir())
