"""Where the repository and the test data are, for tests at any depth."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
TEST_DATA = REPO_ROOT / "tests" / "data"
