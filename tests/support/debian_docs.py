"""Real documentation that Debian packages ship, for the import's tests and benchmark.

sqlite3-doc installs SQLite's whole HTML site (about 770 pages, with an FAQ) under
/usr/share/doc/sqlite3; libtasn1-doc installs a PDF manual made by Texinfo. `.ci/run`
installs both; elsewhere the tests that need them skip with this reason, except under CI=true.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SQLITE_DOCS = Path("/usr/share/doc/sqlite3")
TASN1_PDF = Path("/usr/share/doc/libtasn1-doc/libtasn1.pdf")


def need(path: Path, package: str) -> Path:
    """`path`, or a skip naming the package to install (a failure under CI=true)."""
    if path.exists():
        return path
    reason = f"needs Debian's {package} (apt-get install {package}): {path} is missing"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)
