"""The studio's files: reading inside the persona and knowledge folders, diffs, safe saves, git."""

from __future__ import annotations

import asyncio
import difflib
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bots.errors import FileProblem
from bots.knowledge.reading import read_text_file

ROOTS = ("personas", "knowledge")


class StudioFileError(FileProblem):
    """A file the studio may not read or write, or cannot."""


@dataclass(frozen=True)
class LoadedFile:
    """A file's text and the hash of that text, carried by the form to detect a second saver."""

    ref: str
    path: Path
    text: str
    digest: str


@dataclass(frozen=True)
class SaveOutcome:
    saved: bool
    conflict_diff: str = ""
    """When not saved: how the file on disk differs from what the user wrote."""
    committed: bool = False
    commit_note: str = ""


def digest_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def unified_diff(ref: str, before: str, after: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"{ref} (now)",
        tofile=f"{ref} (yours)",
    )
    return "".join(lines)


class Workspace:
    """The persona and knowledge folders; files are named by refs like `personas/x.yaml`."""

    def __init__(self, personas_dir: Path, knowledge_dir: Path) -> None:
        self.folders = {"personas": personas_dir, "knowledge": knowledge_dir}

    def resolve(self, ref: str) -> tuple[Path, Path]:
        """The file a ref names and the folder that bounds it; anything outside is refused."""
        pure = PurePosixPath(ref)
        parts = pure.parts
        if pure.is_absolute() or len(parts) < 2 or parts[0] not in self.folders or ".." in parts:
            raise StudioFileError(
                ref, "the studio only edits files in the personas and knowledge folders"
            )
        folder = self.folders[parts[0]]
        path = folder.joinpath(*parts[1:])
        if path.suffix not in (".yaml", ".md"):
            raise StudioFileError(ref, "the studio only edits .yaml and .md files")
        if _has_link(path, folder):
            raise StudioFileError(
                ref, "this file or one of its folders is a link; the studio never follows links"
            )
        return path, folder

    def ref_of(self, path: Path) -> str:
        for root, folder in self.folders.items():
            if path.is_relative_to(folder):
                return str(PurePosixPath(root, *path.relative_to(folder).parts))
        raise StudioFileError(path, "not in the personas or knowledge folders")

    def load(self, ref: str) -> LoadedFile:
        path, folder = self.resolve(ref)
        # The bot's own reader: plain files inside the folder only, no links (reading.py).
        text = read_text_file(path, StudioFileError, folder=folder)
        return LoadedFile(ref, path, text, digest_of(text))

    def current_text(self, ref: str) -> str:
        path, _folder = self.resolve(ref)
        return self.load(ref).text if path.exists() or path.is_symlink() else ""

    def save(self, ref: str, text: str, base_digest: str) -> SaveOutcome:
        """Write `text` unless the file changed since it was loaded (`base_digest`).

        A new file has the digest of the empty text. The write goes to a temporary file in
        the same folder and is renamed over the old one, so the bot's reload never reads half.
        """
        path, folder = self.resolve(ref)
        now = self.current_text(ref)
        if digest_of(now) != base_digest:
            return SaveOutcome(saved=False, conflict_diff=unified_diff(ref, now, text))
        parent = path.parent
        if not parent.resolve().is_relative_to(folder.resolve()) or _has_link(parent, folder):
            raise StudioFileError(ref, "the studio never writes through links")
        parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=parent, prefix=".studio-", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
                out.write(text)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return SaveOutcome(saved=True)

    def delete(self, ref: str, base_digest: str) -> SaveOutcome:
        path, _folder = self.resolve(ref)
        now = self.current_text(ref)
        if digest_of(now) != base_digest:
            return SaveOutcome(saved=False, conflict_diff=unified_diff(ref, now, ""))
        path.unlink()
        return SaveOutcome(saved=True)


def _has_link(path: Path, boundary: Path) -> bool:
    probe = path
    while probe != boundary and probe != probe.parent:
        if probe.is_symlink():
            return True
        probe = probe.parent
    return False


async def git_commit(path: Path, message: str, author: str) -> tuple[bool, str]:
    """Commit one file if its folder is in a git repository: (committed, what happened)."""
    folder = path.parent
    inside, _ = await _git(folder, "rev-parse", "--is-inside-work-tree")
    if not inside:
        return False, "the folder is not a git repository; the file is saved, not committed"
    name = author.strip() or "studio"
    identity = ("-c", f"user.name={name}", "-c", "user.email=studio@localhost")
    added, added_output = await _git(folder, "add", "--", path.name)
    if not added:
        return False, f"git add failed: {added_output}"
    committed, output = await _git(
        folder,
        *identity,
        "commit",
        "--only",
        "-m",
        message.strip() or "Edit in the studio",
        f"--author={name} <studio@localhost>",
        "--",
        path.name,
    )
    return committed, "committed" if committed else f"git commit failed: {output}"


async def _git(folder: Path, *args: str) -> tuple[bool, str]:
    try:
        process = await asyncio.create_subprocess_exec(
            "git",
            *args,
            cwd=folder,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
    except OSError:
        return False, "git is not installed"
    output, _ = await process.communicate()
    return process.returncode == 0, output.decode("utf-8", "replace").strip()
