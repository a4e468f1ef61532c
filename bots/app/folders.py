"""Where the commands find the personas and knowledge folders a setting names."""

from __future__ import annotations

from pathlib import Path

from bots.config import Settings
from bots.errors import BotsError
from bots.knowledge.persona import persona_files

# A checkout run from elsewhere still finds its own personas/ and knowledge/ folders.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def persona_path(settings: Settings, name: str) -> Path:
    """The file of the persona called `name`, or an error listing the personas there are."""
    directory = existing_folder(settings.personas_dir)
    path = directory / f"{name}.yaml"
    if not path.is_file():
        known = [p.stem for p in persona_files(directory)]
        raise BotsError(
            f"no persona named {name!r} in {directory}; available: {', '.join(known) or 'none'}"
        )
    return path


def existing_folder(directory: Path) -> Path:
    """A relative folder is looked up in the current directory, then in the project checkout."""
    if directory.is_absolute() or directory.is_dir():
        return directory
    fallback = PROJECT_ROOT / directory
    return fallback if fallback.is_dir() else directory
