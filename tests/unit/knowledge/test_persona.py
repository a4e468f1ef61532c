"""Persona files: the samples load, and every mistake names the file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from bots.errors import PersonaError
from bots.knowledge.persona import load_persona, load_personas
from tests.support.paths import REPO_ROOT

ROOT = REPO_ROOT
VALID = """\
name: shop
display_name: Shop Helper
instructions: Be brief.
"""


def write(tmp_path: Path, text: str, name: str = "shop.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_personas_load() -> None:
    personas = load_personas(ROOT / "personas")
    assert "restaurant" in personas
    restaurant = personas["restaurant"]
    assert restaurant.knowledge.sets == ("restaurant",)
    assert restaurant.greeting
    assert restaurant.ai_disclosure


def test_minimal_persona_gets_defaults(tmp_path: Path) -> None:
    persona = load_persona(write(tmp_path, VALID))
    assert persona.model.name == "gpt-4o-mini"
    assert persona.handoff.offer


def test_misspelt_key_names_line_and_suggests(tmp_path: Path) -> None:
    path = write(tmp_path, VALID + "model:\n  temprature: 0.5\n")
    with pytest.raises(PersonaError) as caught:
        load_persona(path)
    error = caught.value
    assert (error.line, error.column, error.field) == (5, 3, "model.temprature")
    assert "did you mean `temperature`?" in str(error)
    assert str(error).startswith(f"{path}:5:3: ")


def test_wrong_type_is_explained_in_plain_words(tmp_path: Path) -> None:
    path = write(tmp_path, VALID + "model:\n  max_tokens: lots\n")
    with pytest.raises(PersonaError) as caught:
        load_persona(path)
    assert caught.value.line == 5
    assert "expected a whole number" in str(caught.value)


def test_missing_required_field(tmp_path: Path) -> None:
    path = write(tmp_path, "name: shop\ndisplay_name: Shop\n")
    with pytest.raises(PersonaError) as caught:
        load_persona(path)
    assert caught.value.field == "instructions"
    assert "required" in str(caught.value)


def test_yaml_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, VALID + "greeting: Hello: welcome\n")
    with pytest.raises(PersonaError) as caught:
        load_persona(path)
    assert caught.value.line == 4
    assert "quotes" in str(caught.value)


def test_not_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(PersonaError, match="group of `key: value` lines"):
        load_persona(write(tmp_path, "- just\n- a list\n"))


def test_several_problems_are_counted(tmp_path: Path) -> None:
    path = write(tmp_path, "name: Shop Name\ndisplay_name: ''\ninstructions: ok\ncolour: red\n")
    with pytest.raises(PersonaError) as caught:
        load_persona(path)
    assert caught.value.line == 1
    assert "and 2 more problem(s)" in str(caught.value)


def test_name_must_match_the_file_name(tmp_path: Path) -> None:
    with pytest.raises(PersonaError) as caught:
        load_persona(write(tmp_path, VALID, "store.yaml"))
    assert (caught.value.line, caught.value.field) == (1, "name")
    assert "store.yaml" in str(caught.value)


def test_duplicate_keys_are_refused_not_silently_merged(tmp_path: Path) -> None:
    path = write(tmp_path, VALID + "model:\n  name: a\nmodel:\n  name: b\n")
    with pytest.raises(PersonaError) as caught:
        load_persona(path)
    assert (caught.value.line, caught.value.field) == (6, "model")
    assert "appears twice" in str(caught.value)


def test_reply_length_must_leave_room_for_the_prompt(tmp_path: Path) -> None:
    path = write(tmp_path, VALID + "model:\n  max_tokens: 3000\n  context_window: 4000\n")
    with pytest.raises(PersonaError) as caught:
        load_persona(path)
    assert caught.value.field == "model"
    assert "at most half of context_window" in str(caught.value)


def test_tabs_get_a_hint(tmp_path: Path) -> None:
    with pytest.raises(PersonaError, match="use spaces, not tabs"):
        load_persona(write(tmp_path, VALID + "model:\n\tname: x\n"))


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(PersonaError, match="group of `key: value` lines"):
        load_persona(write(tmp_path, ""))


def test_alias_bombs_are_refused_quickly(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 9)]
    with pytest.raises(PersonaError, match="alias"):
        load_persona(write(tmp_path, "\n".join(lines) + "\n"))


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('name: shop\ndisplay_name: Shop\ninstructions "hi"\n# c\n# d\n', 3, "missing the ':'"),
        ('name: shop\ndisplay_name: "Shop\ninstructions: hi\n\n\n', 2, "never closed"),
        (
            "name: shop\ndisplay_name: Shop\ninstructions: hi\nknowledge:\n  sets: [a, b\n\n",
            5,
            "not closed",
        ),
        ("name: shop\ndisplay_name: *Shop*\ninstructions: hi\n", 2, "needs quotes"),
    ],
)
def test_syntax_errors_point_at_where_they_start(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    with pytest.raises(PersonaError) as caught:
        load_persona(write(tmp_path, text))
    assert caught.value.line == line
    assert words in str(caught.value)


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ("display_name: ''\n", "this must not be empty"),
        ("model:\n  temperature: 5\n", "this must be at most 2"),
        ("handoff:\n  hours:\n    time_zone: UTC\n", "did you mean `timezone`?"),
    ],
)
def test_value_errors_in_plain_words(tmp_path: Path, extra: str, words: str) -> None:
    text = VALID.replace("display_name: Shop Helper\n", "") if "display_name" in extra else VALID
    with pytest.raises(PersonaError) as caught:
        load_persona(write(tmp_path, text + extra))
    assert words in str(caught.value)
    assert "Input should" not in str(caught.value)
    assert "String should" not in str(caught.value)


def test_numeric_ids_without_quotes_are_kept_as_text(tmp_path: Path) -> None:
    extra = "handoff:\n  discord:\n    channel_id: 112233445566778899\n    role_id: 42\n"
    persona = load_persona(write(tmp_path, VALID + extra))
    assert persona.handoff.discord.channel_id == "112233445566778899"
    assert persona.handoff.discord.role_id == "42"


@pytest.mark.parametrize(("written", "read"), [("on", "on"), ("off", "off"), ('"on"', "on")])
def test_rewrite_followups_reads_on_and_off_as_written(
    tmp_path: Path, written: str, read: str
) -> None:
    path = write(tmp_path, VALID + f"knowledge:\n  rewrite_followups: {written}\n")
    assert load_persona(path).knowledge.rewrite_followups == read


def test_rewrite_followups_rejects_other_values_with_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, VALID + "knowledge:\n  rewrite_followups: sometimes\n")
    with pytest.raises(PersonaError) as caught:
        load_persona(path)
    assert caught.value.line == 5
    assert "'off' or 'on'" in str(caught.value)


def test_forum_settings_read_ids_and_name_a_bad_one(tmp_path: Path) -> None:
    persona = load_persona(
        write(tmp_path, VALID + "forum:\n  channels: [123456789012345678]\n  on_solved: lock\n")
    )
    assert persona.forum.channels == ("123456789012345678",)
    assert persona.forum.tags.waiting == "waiting for staff"
    path = write(tmp_path, VALID + "forum:\n  channels: ['#help']\n", name="shop.yaml")
    with pytest.raises(PersonaError) as caught:
        load_persona(path)
    assert caught.value.line == 5
    assert "forum.channels" in str(caught.value.field)
    assert "numeric ID" in str(caught.value)
    with pytest.raises(PersonaError, match="on_solved"):
        load_persona(write(tmp_path, VALID + "forum:\n  on_solved: close\n"))
