"""Screenshots of every studio page at 1280x800, for docs/studio.md (docs/studio/*.png).

    python benchmarks/studio_screenshots.py [--out docs/studio]

It starts the real `bots studio` on copies of personas/ and knowledge/ and drives the same
headless Chromium as the browser tests (tests/support/studio_rig.py), walking the steps
docs/studio.md describes. Prints each file written and the seconds it took.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.cli_runner import clean_env, run_bots
from tests.support.studio_rig import VIEWPORT, browser_missing, chromium, running_studio


def shoot(page: Any, out: Path, name: str) -> None:
    path = out / f"{name}.png"
    page.screenshot(path=str(path))
    print(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/studio"))
    args = parser.parse_args()
    missing = browser_missing()
    if missing:
        print(f"cannot take screenshots: {missing}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch, chromium() as browser:
        folder = Path(scratch) / "studio"
        folder.mkdir()
        with running_studio(folder) as studio:
            env = clean_env(
                BOTS_PERSONAS_DIR=str(studio.personas),
                BOTS_KNOWLEDGE_DIR=str(studio.knowledge),
                DATABASE_URL=f"sqlite:///{folder / 'bots.sqlite3'}",
                BOTS_SEMANTIC="0",
            )
            run_bots(["ask", "is there parking near the restaurant?"], env)
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(f"{studio.url}/persona/restaurant")
            page.fill(
                "#f-greeting", "Hi! I'm Olive's helper. Ask me about hours, bookings or the menu."
            )
            page.fill("#preview-question", "what time do you open on sunday?")
            page.click("#preview-send")
            page.locator(".bubble.answer").last.wait_for()
            page.evaluate("window.scrollTo(0, 0)")
            page.locator("#preview-log").evaluate("log => log.scrollTop = 0")
            shoot(page, args.out, "persona-preview")

            page.fill("#f-handoff\\.hours\\.days\\.tuesday", "9 till 5")
            page.locator('[data-error-for="handoff.hours.days"]').filter(
                has_text="tuesday"
            ).wait_for()
            page.locator('[data-error-for="handoff.hours.days"]').evaluate(
                "slot => slot.scrollIntoView({block: 'center'})"
            )
            shoot(page, args.out, "persona-inline-error")
            page.fill("#f-handoff\\.hours\\.days\\.tuesday", "11:00-22:00")

            page.click("#review")
            page.wait_for_selector("#diff")
            page.fill("#author", "Sam (support lead)")
            page.fill("#message", "Friendlier greeting")
            shoot(page, args.out, "review-diff")
            page.click("#save")
            page.wait_for_selector("#saved")
            shoot(page, args.out, "saved")

            page.goto(f"{studio.url}/knowledge?q=sunday")
            shoot(page, args.out, "knowledge")
            page.click("a[href*='id=hours-sunday']")
            page.wait_for_selector("#f-answer")
            shoot(page, args.out, "knowledge-entry")

            page.goto(f"{studio.url}/tests/restaurant")
            page.wait_for_selector("#tests-summary")
            shoot(page, args.out, "tests")

            page.goto(f"{studio.url}/conversations")
            shoot(page, args.out, "conversations")
            page.locator("table.conversations a").first.click()
            page.wait_for_selector(".transcript")
            shoot(page, args.out, "conversation")
        locked = Path(scratch) / "locked"
        locked.mkdir()
        with running_studio(
            locked, host="0.0.0.0", extra_env={"BOTS_STUDIO_PASSWORD": "example"}
        ) as studio:
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(f"{studio.url}/")
            shoot(page, args.out, "login")
    print(f"{time.perf_counter() - started:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
