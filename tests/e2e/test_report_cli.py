"""`bots report`: the real command line on stores seeded by real engine turns."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

from bots.report.figures import build_report
from bots.report.render import render_html, render_text
from bots.store.activity import Activity, ConversationCounts, UnmatchedQuestion
from bots.turn.runtime import PersonaRuntime
from tests.fakes.fake_llm import FakeLLMServer
from tests.support.cli_runner import clean_env, run_bots
from tests.unit.report.test_figures import PRICES, SCRIPT_QUESTION, seed
from tests.unit.report.test_figures import (
    database_url as database_url,  # the fixture, for both stores
)

PRICE_SETTING = "gpt-4o-mini=0.15/0.6"


async def test_terminal_and_html_report(
    database_url: str, cafe_runtime: PersonaRuntime, llm_server: FakeLLMServer, tmp_path: Path
) -> None:
    await seed(database_url, cafe_runtime, llm_server, datetime.now(UTC) - timedelta(hours=3))
    page = tmp_path / "report.html"
    env = clean_env(DATABASE_URL=database_url, BOTS_PRICES=PRICE_SETTING)

    result = run_bots(["report", "--since", "24h", "--html", str(page)], env, timeout=60)

    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert re.search(r"resolved by the bot\s+2 of 5\s+40%", text), text
    assert re.search(r"a person was asked for\s+1\s+user_asked", text), text
    assert re.search(r"the assistant could not help\s+1\s+model_tool", text), text
    assert re.search(r"claimed\s+1\s+median 3m 00s, p90 3m 00s", text), text
    assert re.search(r"still unclaimed\s+1\s+longest waiting \dh", text), text
    assert re.search(r"thumbs down\s+1", text), text
    assert "3 of 5 questions had no confident match (40% matched)" in text
    assert re.search(r"2\s+none\s+do you sell giftcards", text), text  # no entry came close
    assert SCRIPT_QUESTION in text  # a terminal shows text as it is (control characters aside)
    assert re.search(r"gpt-4o-mini\s+\d+\s+[\d,]+\s+[\d,]+\s+\$\d", text), text
    assert f"HTML report written to {page}" in result.stderr

    html = page.read_text(encoding="utf-8")
    charts = re.findall(r"<svg.*?</svg>", html, flags=re.DOTALL)
    assert len(charts) == 5  # conversations, reasons, time to claim, feedback, gaps
    for chart in charts:
        drawn = ElementTree.fromstring(chart)  # well-formed, with bars and labels
        assert drawn.findall("{http://www.w3.org/2000/svg}rect")
        assert drawn.findall("{http://www.w3.org/2000/svg}text")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower()
    assert not re.search(r"\s(src|href)=", html)  # nothing fetched: the page stands alone
    assert "do you sell giftcards" in html
    assert "a person was asked for" in html

    older = run_bots(["report", "--since", "1h"], env, timeout=60)
    assert older.returncode == 0, older.stderr
    assert re.search(r"resolved by the bot\s+0 of 0\s+n/a", older.stdout), older.stdout


async def test_json_report(
    database_url: str, cafe_runtime: PersonaRuntime, llm_server: FakeLLMServer
) -> None:
    await seed(database_url, cafe_runtime, llm_server, datetime.now(UTC) - timedelta(hours=3))
    env = clean_env(DATABASE_URL=database_url, BOTS_PRICES=PRICE_SETTING)

    result = run_bots(["report", "--json"], env, timeout=60)

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["resolution"]["rate"] == 0.4
    assert data["handoffs_by_reason"] == {"model_tool": 1, "user_asked": 1}
    assert data["claims"]["median"] == 180.0
    assert data["gaps"][0]["example"] == "do you sell giftcards"
    assert data["gaps"][0]["count"] == 2
    assert data["dollars"] > 0


def test_a_period_it_does_not_understand_is_refused(tmp_path: Path) -> None:
    env = clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'bots.sqlite3'}")
    result = run_bots(["report", "--since", "a week"], env, timeout=60)
    assert result.returncode == 2
    assert "--since takes a number of hours, days or weeks, such as 24h, 7d, 30d or 2w" in (
        result.stderr
    )
    assert not (tmp_path / "bots.sqlite3").exists()  # refused before touching the database


def test_control_characters_never_reach_the_terminal_and_html_escapes() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    sneaky = 'Hi\x1b[2J\x1b]0;owned\x07 <img src=x onerror="alert(1)"> & more'
    activity = Activity(
        ConversationCounts(),
        (),
        0,
        0,
        1,
        0,
        (UnmatchedQuestion(sneaky, None, 0.0, t0),),
        (),
    )
    report = build_report(activity, t0 - timedelta(days=1), t0, PRICES)

    text = render_text(report)
    assert "\x1b" not in text
    assert "\x07" not in text
    assert "Hi [2J ]0;owned" in text

    html = render_html(report)
    assert "<img" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; more" in html
    assert "\x1b" not in html
