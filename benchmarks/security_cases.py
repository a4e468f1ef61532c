"""The security table of docs/proving.md, counted from the tests themselves.

Runs the tests marked `@pytest.mark.security("<category>")` (or, with --all, the whole suite,
so the log scan covers every test) and prints, per category, how many tests and cases ran
and what came of them. A case is one hypothesis example for a fuzzed test (as hypothesis
reports it: passing examples of every phase) and one run for any other test. pytest's own
output goes to stderr (progress); the table to stdout.

    python benchmarks/security_cases.py [--all] [--json] [-- extra pytest arguments]

The exit status is pytest's: non-zero when a case failed or the log scan found a leak.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import time
from collections.abc import Generator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
CATEGORIES = {
    "injection": "prompt injection: delimiters, forged hand-offs and tool calls, pings, "
    "hidden persona sections, masked links to unvetted hosts",
    "signatures": "Slack request signatures: bad, replayed, wrong secret, tampered body, "
    "malformed headers (HTTP front and bolt); signed bodies bolt cannot parse",
    "staff-only": "staff-only commands and buttons refused for non-staff (Slack and Discord); "
    "feedback buttons for the asker only",
    "long-input": "over-long inputs cut with a notice (engine, Slack, Discord)",
    "rate-limits": "per-user message rate and token budgets hold (also under a burst)",
    "log-scan": "the captured-log scan's own tests, bolt's refused bodies (the scan itself: "
    "below the table)",
    "files": "persona and knowledge files: links (to secrets, inside, folders, whole sets), "
    "FIFOs, files outside their folder, oversized files; never read (load, check, reload)",
    "fuzzing": "knowledge and persona files, Slack event payloads, junk over HTTP, "
    "Discord messages",
}
_PASSING = re.compile(r"(\d+) passing, (\d+) failing, and (\d+) invalid")


@dataclass
class Row:
    category: str
    tests: int = 0
    cases: int = 0
    passed: int = 0
    failed: int = 0
    xfailed: int = 0
    skipped: int = 0

    @property
    def result(self) -> str:
        if self.failed:
            return "FAIL"
        if not self.tests or self.skipped == self.tests:
            return "not run"
        return "pass" + (f" ({self.xfailed} known failures)" if self.xfailed else "")


def examples(statistics: str | None) -> int:
    """Passing examples hypothesis ran, from its statistics (None: not a hypothesis test)."""
    if not statistics:
        return 0
    return sum(int(match.group(1)) for match in _PASSING.finditer(statistics))


class Counter:
    """A pytest plugin: the category, outcome and example count of every security test."""

    def __init__(self) -> None:
        self.rows = {name: Row(name) for name in CATEGORIES}
        self.unknown: set[str] = set()

    def _row(self, item: pytest.Item) -> Row | None:
        marker = item.get_closest_marker("security")
        if marker is None:
            return None
        name = str(marker.args[0]) if marker.args else ""
        if name not in self.rows:
            self.unknown.add(f"{item.nodeid}: {name!r}")
            return None
        return self.rows[name]

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, Any, None]:
        outcome = yield
        report: pytest.TestReport = outcome.get_result()
        row = self._row(item)
        if row is None:
            return
        if call.when == "setup" and report.outcome != "passed":
            row.tests += 1
            if report.skipped:
                row.skipped += 1
            else:
                row.failed += 1
        elif call.when == "call":
            row.tests += 1
            row.cases += examples(getattr(item, "hypothesis_statistics", None)) or 1
            if hasattr(report, "wasxfail"):
                row.xfailed += 1
            elif report.passed:
                row.passed += 1
            elif report.skipped:
                row.skipped += 1
            else:
                row.failed += 1
        elif call.when == "teardown" and report.failed:
            row.failed += 1


def log_scan_summary() -> dict[str, int]:
    """What tests/support/log_scan.py checked in this run (it reports at the end of the session)."""
    from tests.support import log_scan as log_scan

    records = log_scan._recorder.records
    return {
        "records": len(records),
        "tests": len({test for test, *_ in records}),
        "secrets": len(log_scan.SECRETS),
        "user_texts": len(log_scan._user_texts),
        "leaks": len(log_scan.leaks()),
        "known_leaks": len(log_scan.leaks(known=True)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="run the whole suite, not -m security")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("pytest_args", nargs="*", help="more pytest arguments (after --)")
    args = parser.parse_args()
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    counter = Counter()
    selection = [] if args.all else ["-m", "security"]
    started = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):  # pytest's lines are the progress
        status = pytest.main([*selection, "-p", "no:cacheprovider", *args.pytest_args], [counter])
    seconds = time.perf_counter() - started
    scan = log_scan_summary()
    rows = list(counter.rows.values())
    if args.json:
        result = {
            "categories": [asdict(r) | {"result": r.result} for r in rows],
            "log_scan": scan,
            "unknown_categories": sorted(counter.unknown),
            "seconds": round(seconds, 1),
            "pytest_exit": int(status),
        }
        print(json.dumps(result, indent=2))
    else:
        print("| category | what | tests | cases | result |")
        print("|---|---|---:|---:|---|")
        for r in rows:
            what = CATEGORIES[r.category]
            print(f"| {r.category} | {what} | {r.tests} | {r.cases} | {r.result} |")
        tests, cases = sum(r.tests for r in rows), sum(r.cases for r in rows)
        verdict = "FAIL" if any(r.failed for r in rows) else "pass"
        print(f"| **all** | | {tests} | {cases} | {verdict} |")
        print(
            f"\nlog scan of this run ({'whole suite' if args.all else 'security tests'}): "
            f"{scan['records']} records at INFO+ from {scan['tests']} tests, checked for "
            f"{scan['secrets']} secrets and {scan['user_texts']} user texts: "
            f"{scan['leaks']} leaks ({scan['known_leaks']} already known)"
        )
        for unknown in sorted(counter.unknown):
            print(f"unknown security category: {unknown}")
        print(f"({seconds:.0f} s; pytest exit status {int(status)})")
    return int(status) or (1 if counter.unknown else 0)


if __name__ == "__main__":
    raise SystemExit(main())
