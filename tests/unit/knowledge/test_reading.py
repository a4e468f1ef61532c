"""Persona and knowledge files are read only when they are plain files inside their folder.

The issue's attack: `ln -s /proc/self/environ knowledge/restaurant/environ.md` put the bot's
tokens into its answers. Each case here is refused with the file named and a plain reason,
by loading, by `bots check` and by the live reload (which keeps the last good version).
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

from bots.app.check import check_paths
from bots.errors import KnowledgeError, PersonaError
from bots.knowledge.files import load_knowledge, load_knowledge_set
from bots.knowledge.persona import load_persona
from bots.knowledge.reading import MAX_FILE_BYTES, read_text_file
from bots.turn.library import PersonaLibrary
from tests.conftest import DATA

SECRET = "xoxb-the-bot-token-nobody-may-see"
pytestmark = pytest.mark.security("files")


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    personas, knowledge = tmp_path / "personas", tmp_path / "knowledge"
    shutil.copytree(DATA / "personas", personas)
    shutil.copytree(DATA / "knowledge", knowledge)
    return personas, knowledge


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    """A file outside the knowledge folder holding a secret, as /proc/self/environ does."""
    outside = tmp_path / "elsewhere" / "environ"
    outside.parent.mkdir()
    outside.write_text(f"SLACK_BOT_TOKEN={SECRET}\n", encoding="utf-8")
    return outside


def refused(files: tuple[Path, Path]) -> KnowledgeError:
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(files[1], ["cafe"])
    assert SECRET not in str(caught.value)
    return caught.value


def check_messages(files: tuple[Path, Path]) -> list[str]:
    report = check_paths([files[0], files[1]], files[1])
    return [f.describe() for f in report.findings if f.severity == "error"]


def test_a_link_to_a_secret_outside_is_never_read(
    files: tuple[Path, Path], secret_file: Path
) -> None:
    link = files[1] / "cafe" / "environ.md"
    link.symlink_to(secret_file)
    problem = refused(files)
    assert problem.path == str(link)
    assert "is a link" in problem.detail
    [message] = check_messages(files)
    assert message.startswith(f"{link}: the file is a link to somewhere else")
    assert SECRET not in message


def test_a_link_to_the_real_proc_environ_is_refused(files: tuple[Path, Path]) -> None:
    (files[1] / "cafe" / "environ.md").symlink_to("/proc/self/environ")
    (files[1] / "cafe" / "passwd.yaml").symlink_to("/etc/passwd")
    messages = check_messages(files)
    assert len(messages) == 2
    assert all("is a link to somewhere else" in m for m in messages)


def test_a_link_inside_the_folder_is_refused_too(files: tuple[Path, Path]) -> None:
    # Even a link to a sibling: it is one edit away from pointing anywhere.
    (files[1] / "cafe" / "again.md").symlink_to(files[1] / "cafe" / "story.md")
    assert "is a link" in refused(files).detail


def test_files_behind_a_linked_subfolder_are_refused(
    files: tuple[Path, Path], secret_file: Path
) -> None:
    (secret_file.parent / "leak.md").write_text(f"# Token\n\n{SECRET}\n", encoding="utf-8")
    (files[1] / "cafe" / "more").symlink_to(secret_file.parent, target_is_directory=True)
    problem = refused(files)
    assert problem.path.endswith("more")
    assert "link" in problem.detail


def test_a_linked_knowledge_set_is_refused(files: tuple[Path, Path], secret_file: Path) -> None:
    (secret_file.parent / "faq.md").write_text(f"# Token\n\n{SECRET}\n", encoding="utf-8")
    (files[1] / "linked").symlink_to(secret_file.parent, target_is_directory=True)
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge_set(files[1], "linked")
    assert "this knowledge set is a link" in caught.value.detail
    assert any("this knowledge set is a link" in m for m in check_messages(files))


def test_a_fifo_is_refused_at_once_instead_of_blocking(files: tuple[Path, Path]) -> None:
    fifo = files[1] / "cafe" / "pipe.md"
    os.mkfifo(fifo)
    outcome: list[KnowledgeError] = []
    # A blocking open would hang forever with no writer: run it where a hang shows as a failure.
    reader = threading.Thread(target=lambda: outcome.append(refused(files)), daemon=True)
    reader.start()
    reader.join(timeout=10)
    assert outcome, "reading a FIFO blocked"
    assert "a named pipe (FIFO), not a file" in outcome[0].detail


def test_an_oversized_file_gets_a_clear_error(files: tuple[Path, Path]) -> None:
    big = files[1] / "cafe" / "dump.md"
    with big.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: no slow write
    problem = refused(files)
    assert problem.path == str(big)
    assert "MiB a persona or knowledge file may have; split it" in problem.detail


def test_a_persona_file_that_is_a_link_is_refused(
    files: tuple[Path, Path], secret_file: Path
) -> None:
    link = files[0] / "leaky.yaml"
    link.symlink_to(secret_file)
    with pytest.raises(PersonaError) as caught:
        load_persona(link)
    assert "is a link" in caught.value.detail
    assert any(m.startswith(f"{link}: the file is a link") for m in check_messages(files))


def test_a_file_outside_its_folder_is_refused(tmp_path: Path, secret_file: Path) -> None:
    folder = tmp_path / "knowledge"
    folder.mkdir()
    with pytest.raises(KnowledgeError) as caught:
        read_text_file(secret_file, KnowledgeError, folder=folder)
    assert "outside its folder" in caught.value.detail


def test_a_plain_file_still_reads(files: tuple[Path, Path]) -> None:
    text = read_text_file(files[1] / "cafe" / "story.md", KnowledgeError, folder=files[1])
    assert text


async def test_the_live_reload_refuses_a_new_link_and_keeps_the_last_good(
    files: tuple[Path, Path], secret_file: Path
) -> None:
    shelf = PersonaLibrary(files[0], files[1], required="cafe")
    shelf.load()
    (files[1] / "cafe" / "environ.md").symlink_to(secret_file)
    result = await shelf.reload()
    assert [p.path for p in result.problems] == [str(files[1] / "cafe" / "environ.md")]
    assert "is a link" in result.problems[0].detail
    leaked = shelf["cafe"].retriever.search("SLACK_BOT_TOKEN").best
    assert leaked is None or SECRET not in leaked.entry.answer
    assert shelf["cafe"].retriever.search("parking?").confident  # the last good version
