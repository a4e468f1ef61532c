"""Reading persona and knowledge files safely: plain files inside their folder, of bounded size.

A knowledge file ends up in the model's prompt and, without a model, in the chat itself. So a
link in the knowledge folder (`environ.md -> /proc/self/environ`) must never be followed, and
neither may anything that is not a regular file (a FIFO would block the bot, a device would
never end). The checks run on the open file descriptor, so the file cannot be swapped for a
link between the check and the read.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from bots.errors import FileProblem

MAX_FILE_BYTES = 5 * 1024 * 1024
"""Larger persona or knowledge files are refused: 5 MiB is thousands of FAQ entries, and a
file that size is far more likely a log or a data dump saved into the folder by mistake."""

_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


def read_text_file(path: Path, error: type[FileProblem], *, folder: Path | None = None) -> str:
    """The UTF-8 text of `path`, which must be a regular file that really lives in `folder`.

    `folder` (by default the file's own folder) is the boundary: neither the file nor any
    folder between it and `folder` may be a link, and its real path must stay inside. Every
    refusal is an `error` naming the file with a plain reason and what to do.
    """
    boundary = folder if folder is not None else path.parent
    link = _link_between(path, boundary)
    if link is not None:
        raise error(path, _link_message(link, path))
    if not path.resolve().is_relative_to(boundary.resolve()):
        raise error(path, f"the file is outside its folder {boundary}; move it into the folder")
    return _read_regular(path, error)


def _link_between(path: Path, boundary: Path) -> Path | None:
    """The first link among `path` and its folders up to (not including) `boundary`."""
    try:
        inside = path.absolute().relative_to(boundary.absolute())
    except ValueError:
        return None  # not lexically inside: the resolved-path check refuses it
    probe = boundary.absolute()
    for part in inside.parts:
        probe = probe / part
        if probe.is_symlink():
            return probe
    return None


def _link_message(link: Path, path: Path) -> str:
    what = "the file" if link.absolute() == path.absolute() else f"the folder {link.name}"
    return (
        f"{what} is a link to somewhere else; the bot never follows links out of its files "
        "(they could expose secrets): put a real copy of the file here instead"
    )


def _read_regular(path: Path, error: type[FileProblem]) -> str:
    try:
        descriptor = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # O_NOFOLLOW: it became a link after the check
            raise error(path, _link_message(path, path)) from None
        raise error(path, f"cannot read the file ({exc.strerror})") from None
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise error(path, f"this is {_kind(info.st_mode)}, not a file; remove it from here")
        if info.st_size > MAX_FILE_BYTES:
            raise error(path, _too_large(info.st_size))
        # Read one byte past the limit: a file can grow after fstat.
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise error(path, _too_large(len(data)))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise error(path, "the file is not UTF-8 text; save it as UTF-8") from None


def _too_large(size: int) -> str:
    return (
        f"the file is {size / 1024 / 1024:.1f} MiB, more than the {MAX_FILE_BYTES // 1024 // 1024}"
        " MiB a persona or knowledge file may have; split it into several files"
    )


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


def listed_as_file(path: Path) -> bool:
    """Whether a folder listing should hand `path` to the reader: anything but a real folder.

    Links, FIFOs and devices are listed on purpose, so the reader refuses them out loud
    (`bots check` and the live reload name them) instead of skipping them in silence.
    """
    return path.is_symlink() or not path.is_dir()
