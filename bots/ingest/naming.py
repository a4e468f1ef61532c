"""File names for imported pages: stable, readable, flat, and unique within the set.

Flat (`c3ref-open.md`, not `c3ref/open.md`) because the loader makes entry ids from file
names, and two `open.md` in different folders would clash.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

MAX_STEM = 80


def stem_for(address: str, root: str) -> str:
    """A file stem for a page, from its path below the import's root (a URL or a folder)."""
    if "://" in address:
        parts = urlsplit(address)
        path = unquote(parts.path)
        root_path = unquote(urlsplit(root).path) if "://" in root else ""
        base = root_path[: root_path.rfind("/") + 1]  # the start page's folder
        query = parts.query
    else:
        path, base, query = address, root, ""
    if base and path in (base, base.rstrip("/")):  # a single file (or the start page itself)
        path = PurePosixPath(path).name
    elif base and path.startswith(base.rstrip("/") + "/"):
        path = path[len(base.rstrip("/")) + 1 :]
    pure = PurePosixPath(path.strip("/"))
    text = str(pure.with_suffix("")) if pure.suffix else str(pure)
    stem = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "index"
    if query:
        stem += "-" + hashlib.sha256(query.encode()).hexdigest()[:8]
    return stem[:MAX_STEM].strip("-") or "index"
