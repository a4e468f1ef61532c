"""The studio's routes through Starlette's TestClient: forms, diffs, saves, conflicts, preview."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from bots.app.check import check_persona
from tests.unit.studio.rig import changed, form_fields, send, studio_client

FAQ = "knowledge/restaurant/faq.yaml"


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    with studio_client(tmp_path) as client:
        yield client


def comments(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith("#")]


def persona_form(client: TestClient) -> list[tuple[str, str]]:
    page = client.get("/persona/restaurant")
    assert page.status_code == 200
    return form_fields(page.text, "persona-form")


def review_and_save(client: TestClient, review: str, fields: list[tuple[str, str]]) -> str:
    reviewed = send(client, review, fields)
    assert reviewed.status_code == 200, reviewed.text
    saved = send(client, "/save", form_fields(reviewed.text, "/save"))
    assert saved.status_code == 200, saved.text
    return saved.text


def test_the_home_page_opens_a_persona(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "/persona/" in str(page.url)


def test_the_form_has_a_field_per_schema_field_with_the_schemas_help(client: TestClient) -> None:
    page = client.get("/persona/restaurant").text
    for name in ("display_name", "never_discuss", "handoff.hours.days.monday", "knowledge.sets"):
        assert f'name="{name}"' in page
    assert "The assistant&#39;s name, as people see it." in page  # the pydantic description
    assert page.count('name="never_discuss"') == 4  # the list, item by item


def test_changing_the_display_name_shows_a_diff_and_saves_keeping_every_comment(
    client: TestClient, tmp_path: Path
) -> None:
    path = tmp_path / "personas" / "restaurant.yaml"
    before = path.read_text(encoding="utf-8")
    fields = changed(persona_form(client), display_name="Olive Bot")
    reviewed = send(client, "/persona/restaurant/review", fields)
    assert "-display_name: Olive &amp; Thyme Assistant" in reviewed.text
    assert "+display_name: Olive Bot" in reviewed.text
    assert path.read_text(encoding="utf-8") == before  # nothing written before "Save"
    saved = send(client, "/save", form_fields(reviewed.text, "/save"))
    assert saved.status_code == 200
    after = path.read_text(encoding="utf-8")
    assert "display_name: Olive Bot\n" in after
    assert comments(after) == comments(before)
    assert (
        after.replace("display_name: Olive Bot", "display_name: Olive & Thyme Assistant") == before
    )


def test_an_unchanged_form_changes_nothing(client: TestClient, tmp_path: Path) -> None:
    reviewed = send(client, "/persona/restaurant/review", persona_form(client))
    assert "Nothing changed." in reviewed.text


def test_lists_are_edited_item_by_item(client: TestClient, tmp_path: Path) -> None:
    fields = [f for f in persona_form(client) if f != ("never_discuss", "politics and religion")]
    fields.append(("never_discuss", "competitors' prices"))
    review_and_save(client, "/persona/restaurant/review", fields)
    text = (tmp_path / "personas" / "restaurant.yaml").read_text(encoding="utf-8")
    assert "  - competitors' prices\n" in text
    assert "politics and religion" not in text
    assert "  - other restaurants and how we compare to them\n" in text


def test_a_bad_time_is_shown_beside_its_field_in_bots_checks_words(
    client: TestClient, tmp_path: Path
) -> None:
    fields = changed(persona_form(client), handoff__hours__days__tuesday="9-5")
    checked = send(client, "/persona/restaurant/check", fields)
    message = 'tuesday: expected opening times like "09:00-17:00"'
    assert checked.json()["errors"] == {"handoff.hours.days": [message]}
    # The very words `bots check` prints for the same file.
    broken = tmp_path / "scratch" / "restaurant.yaml"
    broken.parent.mkdir()
    text = (tmp_path / "personas" / "restaurant.yaml").read_text(encoding="utf-8")
    broken.write_text(text.replace('tuesday: "11:00-22:00"', 'tuesday: "9-5"'), encoding="utf-8")
    assert [f.message for f in check_persona(broken, tmp_path / "knowledge")] == [message]
    refused = send(client, "/persona/restaurant/review", fields)
    assert refused.status_code == 422
    assert re.search(r'data-error-for="handoff.hours.days"[^>]*>tuesday: expected', refused.text)


def test_a_misspelt_knowledge_set_gets_did_you_mean(client: TestClient) -> None:
    fields = changed(persona_form(client), knowledge__sets="restaurnt")
    errors = send(client, "/persona/restaurant/check", fields).json()["errors"]
    assert "did you mean `restaurant`?" in errors["knowledge.sets"][0]


def test_a_number_that_is_not_one_gets_the_plain_message(client: TestClient) -> None:
    fields = changed(persona_form(client), model__max_tokens="lots")
    errors = send(client, "/persona/restaurant/check", fields).json()["errors"]
    assert errors == {"model.max_tokens": ["expected a whole number"]}


def test_a_second_saver_is_told_the_file_changed_and_nothing_is_overwritten(
    client: TestClient, tmp_path: Path
) -> None:
    path = tmp_path / "personas" / "restaurant.yaml"
    fields = persona_form(client)  # both people open the form
    first = send(client, "/persona/restaurant/review", changed(fields, display_name="First"))
    second = send(client, "/persona/restaurant/review", changed(fields, display_name="Second"))
    assert send(client, "/save", form_fields(first.text, "/save")).status_code == 200
    refused = send(client, "/save", form_fields(second.text, "/save"))
    assert refused.status_code == 409
    assert "the file changed meanwhile" in refused.text
    assert "-display_name: First" in refused.text
    assert "+display_name: Second" in refused.text
    assert "display_name: First\n" in path.read_text(encoding="utf-8")


def test_a_form_without_the_csrf_token_is_refused(client: TestClient, tmp_path: Path) -> None:
    path = tmp_path / "personas" / "restaurant.yaml"
    before = path.read_text(encoding="utf-8")
    loaded = client.get(f"/knowledge/page?ref={FAQ}")
    assert loaded.status_code == 200
    fields = [(k, v) for k, v in form_fields(loaded.text, "/knowledge/page/review") if k != "csrf"]
    assert send(client, "/knowledge/page/review", fields).status_code == 403
    forged = [("ref", "personas/restaurant.yaml"), ("text", "name: x\n"), ("csrf", "guess")]
    assert send(client, "/save", forged).status_code == 403
    assert path.read_text(encoding="utf-8") == before


def test_the_preview_answers_with_the_persona_on_screen_and_names_the_entry(
    client: TestClient,
) -> None:
    fields = changed(persona_form(client), fallback__knowledge_intro="Straight from our FAQ:")
    turn = send(
        client,
        "/persona/restaurant/preview",
        [*fields, ("question", "what time do you open on sunday?"), ("thread", "t1")],
    )
    assert turn.status_code == 200
    assert "Straight from our FAQ:" in turn.text  # unsaved text is used
    assert "<code>hours-sunday</code>" in turn.text
    assert "1.00" in turn.text
    assert "Would not hand off." in turn.text


def test_the_preview_says_when_and_why_it_hands_off(client: TestClient) -> None:
    fields = persona_form(client)
    turn = send(
        client,
        "/persona/restaurant/preview",
        [*fields, ("question", "can I talk to a real person please"), ("thread", "t2")],
    )
    assert "Hands off to a person: <b>a person was asked for</b>" in turn.text


def test_the_preview_refuses_a_persona_with_errors(client: TestClient) -> None:
    fields = changed(persona_form(client), display_name="")
    turn = send(client, "/persona/restaurant/preview", [*fields, ("question", "hours?")])
    assert turn.status_code == 422
    assert "this must not be empty" in turn.text


def test_the_tests_page_runs_the_persona_tests(client: TestClient) -> None:
    page = client.get("/tests/restaurant")
    assert page.status_code == 200
    assert re.search(r'id="tests-summary">\d+ passed, 0 failed', page.text)
    assert "hours-sunday" in page.text


def test_a_test_is_added_from_a_preview_answer(client: TestClient, tmp_path: Path) -> None:
    tests_file = tmp_path / "personas" / "restaurant.tests.yaml"
    before = tests_file.read_text(encoding="utf-8")
    fields = persona_form(client)
    turn = send(
        client,
        "/persona/restaurant/preview",
        [*fields, ("question", "sunday brunch hours?"), ("thread", "t3")],
    )
    add = form_fields(turn.text, "/tests/restaurant/add")
    assert ("entry", "hours-sunday") in add
    review_and_save(client, "/tests/restaurant/add", add)
    after = tests_file.read_text(encoding="utf-8")
    assert after.startswith(before)
    assert after.endswith("  - ask: sunday brunch hours?\n    answer_from: hours-sunday\n")


def test_knowledge_page_lists_and_searches_entries(client: TestClient) -> None:
    everything = client.get("/knowledge").text
    assert "hours-sunday" in everything
    assert "Set: helpdesk" in everything
    found = client.get("/knowledge?q=brunch").text
    assert "hours-sunday" in found
    assert "hours-monday" not in found


def test_an_faq_answer_is_edited_in_place_keeping_the_comments(
    client: TestClient, tmp_path: Path
) -> None:
    path = tmp_path / FAQ
    before = path.read_text(encoding="utf-8")
    page = client.get(f"/knowledge/entry?ref={FAQ}&id=hours-sunday")
    fields = changed(form_fields(page.text, "entry-form"), answer="Sundays: 10:00-20:00.")
    review_and_save(client, "/knowledge/entry/review", fields)
    after = path.read_text(encoding="utf-8")
    assert "Sundays: 10:00-20:00." in after
    assert comments(after) == comments(before)
    assert len(after.splitlines()) < len(before.splitlines())  # only that answer shrank


def test_a_new_entry_is_added_and_a_duplicate_id_refused(
    client: TestClient, tmp_path: Path
) -> None:
    page = client.get("/knowledge/entry?set=restaurant")
    fields = changed(
        form_fields(page.text, "entry-form"),
        id="hours-sunday",
        question="Do you do takeaway?",
        answer="Yes, call us.",
    )
    refused = send(client, "/knowledge/entry/review", fields)
    assert refused.status_code == 422
    assert "is used twice" in refused.text
    review_and_save(client, "/knowledge/entry/review", changed(fields, id="takeaway-boxes"))
    assert "id: takeaway-boxes" in (tmp_path / FAQ).read_text(encoding="utf-8")


def test_an_entry_is_deleted_after_its_diff(client: TestClient, tmp_path: Path) -> None:
    page = client.get(f"/knowledge/entry?ref={FAQ}&id=hours-monday")
    review_and_save(
        client, "/knowledge/entry/delete", form_fields(page.text, "/knowledge/entry/delete")
    )
    assert "id: hours-monday" not in (tmp_path / FAQ).read_text(encoding="utf-8")


def test_a_markdown_page_is_shown_and_edited(client: TestClient, tmp_path: Path) -> None:
    ref = "knowledge/restaurant/about.md"
    page = client.get(f"/knowledge/page?ref={ref}")
    fields = form_fields(page.text, "/knowledge/page/review")
    text = dict(fields)["text"] + "\n## Do you have a terrace?\n\nYes, with twelve tables.\n"
    review_and_save(client, "/knowledge/page/review", changed(fields, text=text))
    assert "twelve tables" in (tmp_path / ref).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "ref", ["../secrets.yaml", "personas/../../x.yaml", "/etc/passwd", "other/x.yaml"]
)
def test_files_outside_the_folders_are_refused(client: TestClient, ref: str) -> None:
    page = client.get(f"/knowledge/page?ref={ref}")
    assert page.status_code == 400
    assert "only edits" in page.text


def test_a_link_in_the_knowledge_folder_is_never_followed(
    client: TestClient, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.md"
    secret.write_text("# key\n\nsk-very-secret\n", encoding="utf-8")
    (tmp_path / "knowledge" / "restaurant" / "leak.md").symlink_to(secret)
    page = client.get("/knowledge/page?ref=knowledge/restaurant/leak.md")
    assert page.status_code == 400
    assert "sk-very-secret" not in page.text
    assert "link" in page.text


def test_saving_can_commit_to_git_with_the_users_message_and_name(
    client: TestClient, tmp_path: Path
) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "."], check=True)
    subprocess.run(
        [
            "git",
            "-C",
            str(tmp_path),
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-qm",
            "start",
        ],
        check=True,
    )
    reviewed = send(
        client,
        "/persona/restaurant/review",
        changed(persona_form(client), display_name="Olive Bot"),
    )
    save = [*form_fields(reviewed.text, "/save"), ("commit", "1")]
    save = changed(save, message="Friendlier name", author="Sam Lead")
    saved = send(client, "/save", save)
    assert "Git: committed" in saved.text
    log = subprocess.run(
        ["git", "-C", str(tmp_path), "log", "-1", "--format=%an|%s", "--stat"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert log.startswith("Sam Lead|Friendlier name")
    assert "personas/restaurant.yaml" in log


def test_a_save_is_checked_again_so_a_changed_form_cannot_write_a_broken_persona(
    client: TestClient, tmp_path: Path
) -> None:
    path = tmp_path / "personas" / "restaurant.yaml"
    before = path.read_text(encoding="utf-8")
    reviewed = send(
        client, "/persona/restaurant/review", changed(persona_form(client), display_name="X")
    )
    save = form_fields(reviewed.text, "/save")
    broken = dict(save)["text"].replace("display_name: X", "display_nam: X")
    refused = send(client, "/save", changed(save, text=broken))
    assert refused.status_code == 422
    assert "this field is not known; did you mean `display_name`?" in refused.text
    assert path.read_text(encoding="utf-8") == before


def test_a_linked_knowledge_folder_is_refused(client: TestClient, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "faq.yaml").write_text("entries: []\n", encoding="utf-8")
    (tmp_path / "knowledge" / "linked").symlink_to(outside)
    page = client.get("/knowledge/entry?ref=knowledge/linked/faq.yaml")
    assert page.status_code == 400
    assert "never follows links" in page.text
    assert "Set: linked" not in client.get("/knowledge").text
