"""The `---` block at the top of a Markdown knowledge page: where an imported page came from.

`bots knowledge import` writes it (bots.ingest.provenance); the loader reads the page's
address from it as the entries' `url` and blanks the block out, keeping line numbers, so
problems are still placed on the right line.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_LINES = 40


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """(the block's fields, the text with the block's lines left empty); no block: ({}, text)."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, text
    for end in range(1, min(len(lines), MAX_LINES)):
        if lines[end].strip() == "---":
            try:
                fields = yaml.safe_load("\n".join(lines[1:end]))
            except yaml.YAMLError:
                return {}, text
            if not isinstance(fields, dict):
                return {}, text
            return fields, "\n" * end + "\n" + "\n".join(lines[end + 1 :])
    return {}, text
