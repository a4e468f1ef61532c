"""Benchmark: what "Save as FAQ" costs on the shipped personas: writing the pending entry, the
checks (`bots check` and the persona tests as if approved), and approving.

Prints one JSON object on stdout:

    python benchmarks/save_faq_checks.py [--set restaurant]

Runs on a temporary copy of `personas/` and `knowledge/`, so the checkout is not changed.
CPU seconds (`time.process_time`) are the figure to compare; wall seconds depend on the load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from bots.app.suggestion_check import check_suggestion_set
from bots.knowledge.pending import NewSuggestion, Origin, PendingFaq

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", default="restaurant", help="the knowledge set to save into")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bots-save-faq-") as scratch:
        work = Path(scratch)
        shutil.copytree(ROOT / "personas", work / "personas")
        shutil.copytree(ROOT / "knowledge", work / "knowledge")
        pending = PendingFaq(work / "knowledge")
        new = NewSuggestion(
            "Can I bring my own birthday cake?",
            "Yes, for a cake-cutting fee of $3 per guest; tell us when you book.",
            ("bring a cake",),
            Origin("slack/T0/C0/1.2", None, "U0STAFF", "2026-12-02T17:00"),
        )
        clock, cpu = time.perf_counter(), time.process_time()
        added = pending.add(args.set, new)
        write = (time.process_time() - cpu, time.perf_counter() - clock)
        clock, cpu = time.perf_counter(), time.process_time()
        check = check_suggestion_set(
            work / "personas", work / "knowledge", args.set, added.suggestion.entry.id
        )
        checks = (time.process_time() - cpu, time.perf_counter() - clock)
        clock, cpu = time.perf_counter(), time.process_time()
        pending.approve(added.suggestion.entry.id)
        approve = (time.process_time() - cpu, time.perf_counter() - clock)
    print(
        json.dumps(
            {
                "set": args.set,
                "write_pending": {"cpu_s": round(write[0], 3), "wall_s": round(write[1], 3)},
                "checks": {"cpu_s": round(checks[0], 3), "wall_s": round(checks[1], 3)},
                "approve": {"cpu_s": round(approve[0], 3), "wall_s": round(approve[1], 3)},
                "checks_passed": check.passed,
                "verdict": check.summary.splitlines(),
                "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                "load_average_1m": round(os.getloadavg()[0], 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
