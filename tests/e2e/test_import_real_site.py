"""`bots knowledge import` on SQLite's real documentation site (Debian's sqlite3-doc), served
from 127.0.0.1 by a real HTTP server: import, then FAQ-only `bots ask` finds the right section;
re-import unchanged changes no file; a changed page arrives."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli_runner import clean_env, run_bots
from tests.support.debian_docs import SQLITE_DOCS, TASN1_PDF, need
from tests.support.site_server import Site, serve_site

PERSONA = """name: sqlitehelp
display_name: SQLite Help
instructions: Answer questions about SQLite from its documentation.
knowledge:
  sets: [sqlite]
"""


@pytest.fixture(scope="module")
def workspace(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Site, Path, dict[str, str]]]:
    docs = need(SQLITE_DOCS, "sqlite3-doc")
    root = tmp_path_factory.mktemp("import")
    site_folder = root / "site"
    shutil.copytree(docs, site_folder / "docs")
    (root / "personas").mkdir()
    (root / "personas" / "sqlitehelp.yaml").write_text(PERSONA, encoding="utf-8")
    env = clean_env(
        BOTS_KNOWLEDGE_DIR=str(root / "knowledge"),
        BOTS_PERSONAS_DIR=str(root / "personas"),
        DATABASE_URL=f"sqlite:///{root / 'bots.sqlite3'}",
        BOTS_SEMANTIC="off",  # lexical retrieval: the figures here are BM25's
    )
    with serve_site(site_folder) as site:
        yield site, root, env


def bots_import(site: Site, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_bots(
        [
            "knowledge",
            "import",
            f"{site.base_url}/docs/index.html",
            "--set",
            "sqlite",
            "--allow-private-network",
            "--delay",
            "0",
            "--concurrency",
            "4",
            "--max-pages",
            "1000",
            "--max-depth",
            "10",
        ],
        env,
        timeout=600,
    )


def ask(env: dict[str, str], question: str) -> str:
    result = run_bots(["ask", "--persona", "sqlitehelp", question], env, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_import_then_ask_resync_and_change(workspace: tuple[Site, Path, dict[str, str]]) -> None:
    site, root, env = workspace
    first = bots_import(site, env)
    assert first.returncode == 0, first.stderr
    assert "skipped:" in first.stdout
    assert "the set 'sqlite' loads:" in first.stdout
    folder = root / "knowledge" / "sqlite"
    assert len(list(folder.glob("*.md"))) > 500
    # The FAQ page's headings are questions: it became entries with them as `question`.
    assert "question: How do I create an AUTOINCREMENT field?" in (folder / "faq.yaml").read_text()

    # FAQ-only answers (no model) come from the right section.
    assert "INTEGER PRIMARY KEY" in ask(env, "How do I create an AUTOINCREMENT field?")
    assert "SQLite is threadsafe" in ask(env, "Is SQLite threadsafe?")
    assert "VACUUM" in ask(env, "I deleted a lot of data but the database file did not get smaller")

    before = snapshot(folder)
    again = bots_import(site, env)
    assert again.returncode == 0, again.stderr
    assert "added 0, changed 0, removed 0" in again.stdout
    assert snapshot(folder) == before

    faq = root / "site" / "docs" / "faq.html"
    faq.write_text(
        faq.read_text(encoding="utf-8").replace(
            "Threads are evil</a>.", "Threads are evil</a>. Use the QUOKKA mutex mode instead."
        ),
        encoding="utf-8",
    )
    changed = bots_import(site, env)
    assert "added 0, changed 1, removed 0" in changed.stdout
    assert "changed  faq.yaml" in changed.stdout
    assert "QUOKKA mutex mode" in ask(env, "Is SQLite threadsafe?")


def test_a_real_pdf_manual_is_imported_by_its_chapters(tmp_path: Path) -> None:
    pdf = need(TASN1_PDF, "libtasn1-doc")
    env = clean_env(BOTS_KNOWLEDGE_DIR=str(tmp_path / "knowledge"))
    result = run_bots(["knowledge", "import", str(pdf), "--set", "manual"], env, timeout=300)
    assert result.returncode == 0, result.stderr
    written = (tmp_path / "knowledge" / "manual" / "libtasn1.md").read_text(encoding="utf-8")
    # Texinfo wrote an outline: its chapters are the sections.
    assert "## 1 Introduction" in written
    assert "## 4 Function reference" in written
    assert "asn1_parser2tree" in written
    assert "the set 'manual' loads:" in result.stdout
