"""The persona's help-desk choice (`handoff.desk`, `handoff.desk_priority`): placed errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bots.desks.settings import REASONS
from bots.errors import PersonaError
from bots.knowledge.persona import HANDOFF_REASONS, load_persona
from bots.models import HandoffReason

VALID = """\
name: shop
display_name: Shop Helper
instructions: Be brief.
handoff:
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(VALID + text, encoding="utf-8")
    return path


def test_the_desk_and_its_priorities_are_read(tmp_path: Path) -> None:
    text = "  desk: chatwoot\n  desk_priority:\n    llm_unavailable: urgent\n    staff: low\n"
    handoff = load_persona(write(tmp_path, text)).handoff
    assert handoff.desk == "chatwoot"
    assert handoff.desk_priority == {"llm_unavailable": "urgent", "staff": "low"}


def test_left_out_the_settings_choose(tmp_path: Path) -> None:
    handoff = load_persona(write(tmp_path, "  reminder_minutes: 5\n")).handoff
    assert (handoff.desk, handoff.desk_priority) == (None, {})


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        ("  desk: freshdesk\n", 5, "handoff.desk", "zendesk"),
        (
            "  desk_priority:\n    user_asked: asap\n",
            6,
            "handoff.desk_priority.user_asked",
            "urgent",
        ),
        ("  desk_priority:\n    user_askd: high\n", 5, "handoff.desk_priority", "`user_asked`"),
    ],
)
def test_mistakes_name_the_file_line_and_field(
    tmp_path: Path, text: str, line: int, field: str, words: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(PersonaError) as caught:
        load_persona(path)
    error = caught.value
    assert (error.line, error.field) == (line, field), str(error)
    assert words in str(error)
    assert str(error).startswith(f"{path}:{line}:")


def test_the_persona_knows_every_hand_off_reason() -> None:
    assert set(HANDOFF_REASONS) == {r.value for r in HandoffReason} == set(REASONS)
