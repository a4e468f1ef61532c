"""`.import.yaml` in a set's folder: the imports made into it, so `bots knowledge sync` can
re-run them (from cron, a Procfile process or the running bot) with the same options.

A dotfile, so the knowledge loader skips it; kept in git with the files it produced.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from bots.errors import BotsError

FILE_NAME = ".import.yaml"


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """One import into a set: its source and the options it was run with."""

    source: str
    max_pages: int = 500
    max_depth: int = 5
    concurrency: int = 2
    delay_seconds: float = 0.5
    whole_site: bool = False
    max_bytes: int = 5 * 1024 * 1024
    timeout_seconds: float = 20.0
    allow_private_network: bool = False


def read_manifest(folder: Path) -> list[ImportOptions]:
    path = folder / FILE_NAME
    if not path.is_file():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return [ImportOptions(**item) for item in data.get("imports", [])]
    except (OSError, yaml.YAMLError, TypeError, AttributeError) as exc:
        raise BotsError(
            f"{path}: cannot read the list of imports ({exc}); fix or delete it"
        ) from None


def remember(folder: Path, options: ImportOptions) -> None:
    """Add or replace the import of `options.source` in the folder's manifest."""
    imports = [item for item in read_manifest(folder) if item.source != options.source]
    imports.append(options)
    text = "# Written by `bots knowledge import`; `bots knowledge sync` re-runs these.\n"
    text += yaml.safe_dump({"imports": [asdict(item) for item in imports]}, sort_keys=False)
    path = folder / FILE_NAME
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return  # an unchanged import changes no file, this one included
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
