"""Language identification on short chat messages, and the built-in messages of each language."""

from __future__ import annotations

import re

import pytest

from bots.language.catalog import MESSAGE_NAMES, SUPPORTED, language_name, message
from bots.language.identify import LanguageIdentifier


@pytest.fixture(scope="module")
def identifier() -> LanguageIdentifier:
    return LanguageIdentifier()


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("where is my order, it has been a week", "en"),
        ("quiero hablar con un agente por favor", "es"),
        ("je voudrais parler à quelqu'un de votre équipe", "fr"),
        ("ich möchte mit einem Mitarbeiter sprechen", "de"),
        ("quero falar com um atendente agora", "pt"),
        ("vorrei parlare con un operatore", "it"),
        ("ik wil graag een medewerker spreken", "nl"),
        ("いいえ、結構です", "ja"),
        ("请帮我转人工客服", "zh"),
        ("상담원 연결해 주세요", "ko"),
        ("Можно поговорить с живым человеком?", "ru"),
    ],
)
def test_identifies_short_messages(
    identifier: LanguageIdentifier, text: str, language: str
) -> None:
    assert identifier.identify(text) == language


@pytest.mark.parametrize("text", ["ok", "hi", "refund?", "", "12345 !!!"])
def test_too_little_text_is_the_default_language(identifier: LanguageIdentifier, text: str) -> None:
    assert identifier.identify(text) == "en"


def test_a_language_outside_the_list_is_the_default() -> None:
    assert LanguageIdentifier(languages=("en", "fr")).identify("상담원 연결해 주세요") == "en"


@pytest.mark.parametrize("language", SUPPORTED)
def test_every_language_has_every_message_with_its_placeholders(language: str) -> None:
    for name in MESSAGE_NAMES:
        text = message(name, language)
        assert text.strip()
        assert set(re.findall(r"\{\w+\}", text)) == set(re.findall(r"\{\w+\}", message(name, "en")))


def test_the_languages_asked_for_are_built_in() -> None:
    assert {"en", "es", "fr", "de", "pt", "it", "nl", "ja", "zh"} <= set(SUPPORTED)


def test_a_persona_text_wins_and_unknown_languages_fall_back_to_english() -> None:
    overrides = {"fr": {"offer": "Un humain ?"}, "sv": {"offer": "Vill du prata med oss?"}}
    assert message("offer", "fr", overrides) == "Un humain ?"
    assert message("offer", "sv", overrides) == "Vill du prata med oss?"
    assert message("offer", "ru", overrides) == message("offer", "en")
    assert language_name("en", "fr") == "anglais"


def test_when_the_team_is_back_is_said_in_the_users_language() -> None:
    from datetime import UTC, datetime

    from bots.handoff.hours import describe_opening
    from bots.handoff.lifecycle import handoff_message
    from bots.knowledge.persona import Persona, SupportHours

    now = datetime(2026, 3, 6, 20, 0, tzinfo=UTC)  # a Friday evening
    monday = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
    assert describe_opening(monday, now, "Europe/Paris", "fr") == "lundi à 09:00 (Europe/Paris)"
    assert describe_opening(monday, now, "Europe/Paris") == "on Monday at 09:00 (Europe/Paris)"
    persona = Persona(
        name="x",
        display_name="X",
        instructions="hi",
        handoff={"hours": SupportHours(timezone="Europe/Paris", days={"monday": "09:00-17:00"})},
    )
    text, away = handoff_message(persona, now, "de")
    assert away
    assert text == (
        "Unser Team ist gerade nicht da; jemand antwortet Ihnen hier am Montag um 09:00 "
        "(Europe/Paris)."
    )


def test_identifiers_share_one_model_loaded_only_when_statistics_are_needed() -> None:
    from bots.language.identify import LanguageIdentifier

    first, second = LanguageIdentifier(), LanguageIdentifier()
    assert first.identify("こんにちは、駐車場はありますか") == "ja"  # the script says it
    assert first.identify("ok") == "en"  # too short: the default
    assert first._model is None
    assert first.identify("¿Hay un aparcamiento cerca del restaurante?") == "es"
    assert second.identify("Gibt es einen Parkplatz in der Nähe?") == "de"
    assert first._model is second._model
