"""The ask-for-a-person detector: requests in six languages, look-alikes, short yeses."""

from __future__ import annotations

import dataclasses

import pytest

from bots.handoff_detect import Detection, detect, is_affirmative, wants_human

ASKS = {
    "en": [
        "can I talk to a real person",
        "agent please",
        "human pls",
        "I want a human",
        "get me a manager",
        "connect me to customer service",
        "connect me with a support agent",
        "representative!",
        "live agent",
        "operator",
        "OPERATOR!!!",
        "Human agent",
        "I'd like to speak with a representative, please",
        "let me talk to someone",
        "I need to speak to somebody about my order",
        "please transfer me to an agent",
        "put me through to a human",
        "escalate this to a supervisor",
        "can you hand me over to a person?",
        "is there a human available?",
        "is there anyone I can talk to?",
        "I need someone to talk to about my bill",
        "can someone call me back?",
        "can a human help me with this?",
        "I'd rather talk to an actual human being",
        "speak to human",
        "I want to speak to your manager",
        "i need human assistance",
        "this bot is useless, get me a fucking person",
        "You're not helping. Let me chat with a live person.",
        "how do I reach a human?",
        "I can't reach an agent",
        "can i speak with a humna",  # typo
        "i want to tlak to an agnet",  # typos
        "I want tospeak with someone",  # glued words
        "you are not helpful so talk to a human",
        "can I be transferred to a live agent?",
    ],
    "es": [
        "quiero hablar con una persona",
        "¿Puedo hablar con alguien?",
        "necesito hablar con un agente humano",
        "pásame con un asesor, por favor",
        "comunícame con un operador",
        "quiero un humano",
        "agente por favor",
        "¿me puedes transferir a un representante?",
        "¿hay alguien disponible?",
        "quiero hablar con una persona real",
    ],
    "fr": [
        "je veux parler à un humain",
        "je veux parler a un humain",
        "Je voudrais parler à quelqu'un",
        "puis-je parler à un conseiller ?",
        "passez-moi un conseiller svp",
        "mettez-moi en relation avec un agent",
        "un humain svp",
        "je veux une vraie personne",
        "y a-t-il quelqu'un de disponible ?",
    ],
    "de": [
        "ich möchte mit einem Mitarbeiter sprechen",
        "ich mochte mit einem Mitarbeiter sprechen",
        "Kann ich mit einem echten Menschen reden?",
        "Verbinden Sie mich bitte mit einem Mitarbeiter",
        "Ich will einen echten Menschen!",
        "Mitarbeiter bitte",
        "bitte an einen Mitarbeiter weiterleiten",
        "kann ich mit jemandem vom Support sprechen?",
        "Ist ein Mitarbeiter erreichbar?",
    ],
    "pt": [
        "quero falar com um atendente",
        "posso falar com uma pessoa?",
        "me transfere para um atendente",
        "preciso de um humano",
        "atendente por favor",
        "quero falar com alguém de verdade",
        "tem algum atendente disponível?",
    ],
    "it": [
        "voglio parlare con un operatore",
        "posso parlare con una persona?",
        "passami un operatore",
        "operatore per favore",
        "vorrei parlare con un essere umano",
        "mi metta in contatto con un consulente",
        "c'è un operatore disponibile?",
        "vorrei un operatore umano",
    ],
}

NOT_ASKS = [
    # The brief's hard negatives: the same words, another meaning.
    "am I talking to a bot?",
    "are you human?",
    "who is the human resources contact",
    "my travel agent booked it",
    "someone stole my card",
    "talk to me about the menu",
    "can a person with a disability get in?",
    "how many people can I bring?",
    "the agent at the desk was rude",
    "what does a real estate agent do",
    "speak to me in French",
    # More of the same kind.
    "am I talking to a real person?",
    "are you a real person or a bot?",
    "is this a human or a machine?",
    "I don't want to talk to a human, just tell me the hours",
    "I need a travel agent to book my flight",
    "I want a human resources job",
    "can you act like a real person",
    "I spoke to an agent yesterday and she said it shipped",
    "I was transferred to an agent yesterday",
    "I dont really want to talk to a person",
    "do I have to talk to someone to close my account?",
    "I made a transfer to someone last week, where is it?",
    "find me someone who can fix my car",
    "you arent helping",
    "I'm taking my kids to see a person",
    "the person at the counter was great",
    "how do I contact customer service",
    "what is the customer service phone number?",
    "ask an agent if I can get a refund",
    "connect to wifi",
    "send a text to someone",
    "is anyone available to check my car engine",
    "how many humans live on earth",
    "table for 4 people at 8",
    "I need a hotel room for 2 people",
    "who do you work for?",
    "call me by my name",
    "what's your name?",
    "",
    "   ",
    "!!!",
    # Other languages.
    "¿eres un humano?",
    "háblame en francés",
    "¿cuántas personas puedo llevar?",
    "mi agente de viajes lo reservó",
    "alguien robó mi tarjeta",
    "êtes-vous un humain ?",
    "parle-moi en français",
    "je ne veux parler à personne",
    "Bist du ein Mensch?",
    "Sprich mit mir auf Deutsch",
    "Ich hatte ein Problem mit einem Mitarbeiter",
    "Ich will nicht mit einem Menschen sprechen",
    "você é humano?",
    "fala comigo em francês",
    "quero falar com a atendente virtual",
    "sei umano?",
    "parlami in francese",
    "quante persone posso portare?",
    "una persona con disabilità può entrare?",
]

AFFIRMATIVE = [
    "yes",
    "Yes please",
    "sure",
    "ok",
    "OK!",
    "yep",
    "please do",
    "yes, get me a person",
    "yeah go ahead",
    "oui",
    "oui merci",
    "sí",
    "si por favor",
    "ja",
    "ja, gerne",
    "sim",
    "sim, por favor",
    "sì",
    "certo, grazie",
]

NOT_AFFIRMATIVE = [
    "yes but what time do you close?",
    "yes, and do you have parking?",
    "no",
    "no thanks",
    "nope",
    "what?",
    "",
    "sure, but first tell me about the menu please",
    "ok so how do I cancel my order",
    "yes yes yes yes yes yes yes yes yes yes",
    "non merci",
    "nein danke",
]


@pytest.mark.parametrize(("language", "text"), [(k, t) for k, v in ASKS.items() for t in v])
def test_asks_for_a_person(language: str, text: str) -> None:
    found = detect(text)
    assert found is not None, text
    assert wants_human(text)
    assert found.rule


@pytest.mark.parametrize("text", NOT_ASKS)
def test_look_alikes_do_not_hand_off(text: str) -> None:
    assert detect(text) is None, (text, detect(text))
    assert not wants_human(text)


def test_detection_names_the_rule_and_language_never_the_text() -> None:
    found = detect("quiero hablar con una persona")
    assert found == Detection(language="es", rule=found.rule if found else "")
    assert found is not None
    assert {f.name for f in dataclasses.fields(found)} == {"language", "rule"}
    assert "persona" not in repr(found)
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.rule = "other"  # type: ignore[misc]


@pytest.mark.parametrize("text", AFFIRMATIVE)
def test_short_yes(text: str) -> None:
    assert is_affirmative(text), text


@pytest.mark.parametrize("text", NOT_AFFIRMATIVE)
def test_not_a_short_yes(text: str) -> None:
    assert not is_affirmative(text), text


def test_many_messages_run_without_error() -> None:
    # Speed is measured by `bots eval handoff` (ms_per_message); here only that a large,
    # varied batch, including long and odd input, goes through.
    samples = [*(t for v in ASKS.values() for t in v), *NOT_ASKS, "x" * 5000, "🙂" * 50]
    flagged = sum(wants_human(samples[i % len(samples)]) for i in range(10_000))
    assert 0 < flagged < 10_000
