"""The model's "I don't know" in the six languages the hand-off detector knows."""

from __future__ import annotations

import pytest

from bots.handoff.unknown import LANGUAGES, admits_not_knowing


def test_the_languages_are_those_of_the_hand_off_detector() -> None:
    assert set(LANGUAGES) == {"en", "es", "fr", "de", "pt", "it"}


@pytest.mark.parametrize(
    "text",
    [
        "I don't know, sorry.",
        "I’m not sure about that.",
        "Sorry, I do not have that information.",
        "I couldn't find anything about that in our FAQ.",
        "That is not covered by the FAQ, I'm afraid.",
        "Lo siento, no lo sé.",
        "No sé.",
        "No tengo esa información.",
        "No he encontrado nada sobre eso.",
        "Je ne sais pas.",
        "Désolé, je n'ai pas cette information.",
        "Je ne peux pas vous aider avec ça.",
        "Ich weiß es leider nicht.",
        "Das weiß ich leider nicht.",
        "Dazu habe ich leider keine Informationen.",
        "Não sei, desculpe.",
        "Não tenho essa informação.",
        "Não encontrei nada sobre isso.",
        "Non lo so, mi dispiace.",
        "Non ho questa informazione.",
        "Non sono sicuro.",
    ],
)
def test_admissions_are_recognised(text: str) -> None:
    assert admits_not_knowing(text)


@pytest.mark.parametrize(
    "text",
    [
        "We open at 8:00 every day.",
        "Hello! How can I help you today?",
        "No se permiten perros en la terraza.",  # impersonal "se", not "sé"
        "Non sono previste modifiche al menu.",
        "Je sais que vous aimez le café.",
        "Ich weiß, dass Parken schwierig ist: es gibt einen Parkplatz.",
        "Você sabe que abrimos às 8?",
        "Do you know our opening hours? We open at 8.",
    ],
)
def test_answers_are_not_admissions(text: str) -> None:
    assert not admits_not_knowing(text)
