"""The studio in a real headless Chromium: edit, see the diff, save, check, preview, test, log in.

These skip with the reason when Chromium or Playwright is missing, except under CI=true.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli_runner import clean_env, run_bots
from tests.support.studio_rig import (
    VIEWPORT,
    StudioProcess,
    browser_missing,
    chromium,
    copy_project_folders,
    in_ci,
    running_chat,
    running_studio,
)

_MISSING = browser_missing()
if _MISSING is not None and not in_ci():
    pytest.skip(f"browser tests need Chromium and Playwright: {_MISSING}", allow_module_level=True)

PASSWORD = "studio-test-password"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StudioProcess]:
    with running_studio(tmp_path_factory.mktemp("studio")) as studio:
        yield studio


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def comments(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith("#")]


def save_with_diff(page: Any, expect_in_diff: list[str]) -> None:
    page.click("#review")
    page.wait_for_selector("#diff")
    diff = page.inner_text("#diff")
    for line in expect_in_diff:
        assert line in diff
    page.click("#save")
    page.wait_for_selector("#saved")


def test_change_the_name_and_an_faq_answer_see_the_diff_and_save(
    studio: StudioProcess, page: Any
) -> None:
    persona_file = studio.personas / "restaurant.yaml"
    faq_file = studio.knowledge / "restaurant" / "faq.yaml"
    persona_before = persona_file.read_text(encoding="utf-8")
    faq_before = faq_file.read_text(encoding="utf-8")
    with running_chat(clean_env(**_settings(studio))) as bot:  # the bot, already running
        assert bot.ask_until("what time do you open on sunday?", "11:00 to 21:00", 30)
        _edit_name_and_answer(studio, page, persona_file, faq_file, persona_before, faq_before)
        # The running bot's hot reload picks the saved file up: it answers with the change.
        assert bot.ask_until("what time do you open on sunday?", "we open 10:00-20:00", 10)


def _edit_name_and_answer(
    studio: StudioProcess,
    page: Any,
    persona_file: Path,
    faq_file: Path,
    persona_before: str,
    faq_before: str,
) -> None:
    page.goto(f"{studio.url}/persona/restaurant")
    page.fill("#f-display_name", "Olive the Helper")
    save_with_diff(
        page, ["-display_name: Olive & Thyme Assistant", "+display_name: Olive the Helper"]
    )
    persona_after = persona_file.read_text(encoding="utf-8")
    assert "display_name: Olive the Helper\n" in persona_after
    assert comments(persona_after) == comments(persona_before)

    page.goto(f"{studio.url}/knowledge?q=sunday")
    page.click("a[href*='id=hours-sunday']")
    page.fill("#f-answer", "On Sundays we open 10:00-20:00, brunch until 14:00.")
    save_with_diff(page, ["+      On Sundays we open 10:00-20:00, brunch until 14:00."])
    faq_after = faq_file.read_text(encoding="utf-8")
    assert "On Sundays we open 10:00-20:00, brunch until 14:00." in faq_after
    assert comments(faq_after) == comments(faq_before)


def _settings(studio: StudioProcess) -> dict[str, str]:
    return {
        "BOTS_PERSONAS_DIR": str(studio.personas),
        "BOTS_KNOWLEDGE_DIR": str(studio.knowledge),
        "DATABASE_URL": f"sqlite:///{studio.folder / 'ask.sqlite3'}",
        "BOTS_SEMANTIC": "0",
    }


def test_a_bad_time_and_a_misspelt_set_show_inline_as_you_type(
    studio: StudioProcess, page: Any
) -> None:
    page.goto(f"{studio.url}/persona/restaurant")
    page.fill("#f-handoff\\.hours\\.days\\.tuesday", "9 till 5")
    slot = page.locator('[data-error-for="handoff.hours.days"]')
    slot.filter(has_text="tuesday").wait_for()
    assert slot.inner_text() == 'tuesday: expected opening times like "09:00-17:00"'

    page.fill("#f-handoff\\.hours\\.days\\.tuesday", "11:00-22:00")
    page.locator("#f-knowledge\\.sets input").first.fill("restaurnt")
    sets = page.locator('[data-error-for="knowledge.sets"]')
    sets.filter(has_text="did you mean").wait_for()
    assert "did you mean `restaurant`?" in sets.inner_text()
    assert page.locator('[data-error-for="handoff.hours.days"]').inner_text() == ""

    page.click("#review")  # saving is refused, with the message beside the field
    page.wait_for_selector(".has-error")
    assert "did you mean `restaurant`?" in sets.inner_text()


def test_the_preview_answers_and_shows_the_retrieved_entry(
    studio: StudioProcess, page: Any
) -> None:
    page.goto(f"{studio.url}/persona/restaurant")
    page.fill("#f-greeting", "Hello from the studio!")
    assert page.inner_text(".bubble.greeting") == "Hello from the studio!"
    page.fill("#f-fallback\\.knowledge_intro", "Our FAQ, fresh from the studio:")
    page.fill("#preview-question", "is there parking nearby?")
    page.click("#preview-send")
    answer = page.locator(".bubble.answer").last
    answer.wait_for()
    assert answer.inner_text().startswith("Our FAQ, fresh from the studio:")  # unsaved
    hits = page.locator(".hits").last.inner_text()
    assert re.search(r"parking\S*", hits)
    assert "sure enough" in hits

    page.fill("#preview-question", "I want to speak to a human")
    page.click("#preview-send")
    page.locator(".handoff").last.wait_for()
    assert "a person was asked for" in page.locator(".handoff").last.inner_text()

    page.click("#preview-reset")
    assert page.locator(".bubble.answer").count() == 0


def test_run_the_persona_tests_and_add_one_from_the_preview(
    studio: StudioProcess, page: Any
) -> None:
    page.goto(f"{studio.url}/tests/restaurant")
    summary = page.inner_text("#tests-summary")
    assert re.fullmatch(r"\d+ passed, \d+ failed", summary)
    before = int(summary.split()[0]) + int(summary.split()[2])

    page.goto(f"{studio.url}/persona/restaurant")
    page.fill("#preview-question", "can i bring my dog")
    page.click("#preview-send")
    page.locator(".add-test button").last.click()
    page.wait_for_selector("#diff")
    assert "+  - ask: can i bring my dog" in page.inner_text("#diff")
    page.click("#save")
    page.wait_for_selector("#saved")
    page.goto(f"{studio.url}/tests/restaurant")
    summary = page.inner_text("#tests-summary")
    assert int(summary.split()[0]) + int(summary.split()[2]) == before + 1


def test_without_a_password_it_refuses_a_public_address() -> None:
    result = run_bots(["studio", "--host", "0.0.0.0", "--port", "0"], clean_env(), timeout=60)
    assert result.returncode == 2
    assert "without a login" in result.stderr


def test_on_a_public_address_it_asks_for_the_login(browser: Any, tmp_path: Path) -> None:
    with running_studio(
        tmp_path, host="0.0.0.0", extra_env={"BOTS_STUDIO_PASSWORD": PASSWORD}
    ) as studio:
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        page.goto(f"{studio.url}/persona/restaurant")
        assert "/login" in page.url
        page.fill("#password", "wrong")
        page.click("button.primary")
        assert "That password is not right." in page.inner_text("main")
        page.fill("#password", PASSWORD)
        page.click("button.primary")
        page.wait_for_selector("#f-display_name")
        assert page.url.endswith("/persona/restaurant")
        context.close()


def test_the_copied_folders_are_the_shipped_ones(tmp_path: Path) -> None:
    settings = copy_project_folders(tmp_path)
    assert Path(settings["BOTS_PERSONAS_DIR"], "restaurant.yaml").is_file()
