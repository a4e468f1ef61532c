"""The ask-for-a-person detector: requests in six languages, look-alikes, short yeses."""

from __future__ import annotations

import dataclasses

import pytest

from bots.handoff.detect import Detection, detect, is_affirmative, wants_human

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
        # Staff of the business, named by role or as part of the team.
        "Could I speak to a member of staff please?",
        "Can I speak to a member of your team?",
        "can i speak to the owner",
        "I'd like to speak to a waiter",
        "Could someone from the restaurant call me?",
        "can I talk to someone from your team?",
        "is there a member of staff available?",
        "a staff member please",
        "put me through to the manager",
        "could the owner call me back?",
        "I need to get hold of the owner",
        "can I speak to our server?",
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
        "¿Me puede atender una persona?",
        "que me atienda alguien, por favor",
        "quiero hablar con el dueño",
        "¿puedo hablar con el encargado?",
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
        "Puis-je parler au gérant ?",
        "je voudrais parler au patron",
        "je veux parler à la serveuse",
        "puis-je parler au serveur ?",
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
        "Kann ich bitte mit dem Chef sprechen?",
        "Ich hätte gerne einen Mitarbeiter gesprochen",
        "Ich hätte gern mit dem Inhaber gesprochen",
        "kann ich mit dem Geschäftsführer sprechen?",
    ],
    "pt": [
        "quero falar com um atendente",
        "posso falar com uma pessoa?",
        "me transfere para um atendente",
        "preciso de um humano",
        "atendente por favor",
        "quero falar com alguém de verdade",
        "tem algum atendente disponível?",
        "posso falar com o dono?",
        "quero falar com o responsável",
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
        "Vorrei parlare con il titolare",
        "posso parlare con il responsabile?",
        "vorrei parlare con il gestore",
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
    # Staff named in a question about them, not a request to reach them.
    "who is the owner of the restaurant?",
    "is the chef Italian?",
    "what does the chef recommend?",
    "can the waiter split the bill?",
    "do you have a member discount?",
    "someone from the restaurant called me about my booking",
    "what time does the staff leave?",
    "is there a chef on duty on Sundays?",
    "I need a chef for my wedding",
    "transfer it to the owner of the account",
    "how do I get my app to talk to the server?",
    "can I talk to the server from javascript?",
    "Contacting someone on github.",
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
    "me atendió una persona muy amable",
    "¿el chef es italiano?",
    "¿puede atender una persona con discapacidad?",
    "comment se connecter au serveur ?",
    "peut-on avoir un chef à domicile ?",
    "le chef est italien ?",
    "Ich habe gestern mit dem Chef gesprochen",
    "Ist der Chef Italiener?",
    "o chef é italiano?",
    "como transferir dinheiro para o dono do imóvel?",
    "lo chef è italiano?",
    "devo contattare il gestore telefonico?",
    "je ne veux pas parler au gérant",
]

# Said right after "Would you like me to ask someone from our team to help?".
AFFIRMATIVE = [
    "yes",
    "Yes please",
    "yes thanks",
    "yes, thank you",
    "sure",
    "sure thing",
    "yep",
    "yeah go ahead",
    "please do",
    "go ahead",
    "do it",
    "of course",
    "that would be great",
    "yes, get me a person",
    "ok, get me a person",
    # "ok" needs a yes or a "please" after it.
    "ok please do",
    "ok yes",
    "OK, go ahead",
    "ok please",
    "alright, go for it",
    # es
    "sí",
    "si por favor",
    "sí, claro",
    "vale, por favor",
    "adelante",
    # fr
    "oui",
    "oui merci",
    "oui s'il vous plaît",
    "d'accord, allez-y",
    "volontiers",
    # de
    "ja",
    "ja, gerne",
    "ja bitte",
    "gerne",
    "ok, mach das",
    # pt
    "sim",
    "sim, por favor",
    "pode sim, obrigado",
    # it
    "sì",
    "certo, grazie",
    "sì, per favore",
    "va bene, procedi",
]

NOT_AFFIRMATIVE = [
    "yes but what time do you close?",
    "yes, and do you have parking?",
    "no",
    "no thanks",
    "no, thank you",
    "nope",
    "what?",
    "",
    "sure, but first tell me about the menu please",
    "ok so how do I cancel my order",
    "yes yes yes yes yes yes yes yes yes yes",
    # An acknowledgement or a thank-you closes the topic; it does not accept the offer.
    "ok",
    "OK!",
    "okay",
    "ok thanks",
    "ok thank you",
    "ok cool",
    "thanks",
    "thank you",
    "k",
    "kk",
    "y",
    # Politeness alone says nothing.
    "please",
    "bitte",
    "por favor",
    "s'il vous plaît",
    "per favore",
    # The same in the other languages.
    "gracias",
    "vale, gracias",
    "merci",
    "d'accord merci",
    "non merci",
    "danke",
    "ok danke",
    "nein danke",
    "obrigado",
    "tá bom, obrigado",
    "grazie",
    "va bene grazie",
    "no grazie",
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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x" * 5000, False),
        ("🙂" * 50, False),
        ("human" * 1000, False),
        # A request early in a long paste is found...
        ("I want to talk to a human. " + "blah " * 2000, True),
        # ...but only the first 2,000 characters are read (speed is `bots eval handoff`'s).
        ("blah " * 500 + "I want to talk to a human.", False),
    ],
)
def test_long_and_odd_input(text: str, expected: bool) -> None:
    assert wants_human(text) is expected


@pytest.mark.parametrize(
    "text",
    [
        "can you forward me to your team",
        "do you have human support?",
        "put me through with a bank worker!",
        "I'd like human assistance with my refund",
        "get a colleague of yours to answer this",
        "pass this on to someone who can help",
        "kan ik met een echte medewerker praten?",
        "verbind me door met de klantenservice",
        "jag vill prata med en människa",
        "koppla mig till kundtjänst",
        "mujhe support staff se connect kar do please",
        "kisi agent se baat karao",
    ],
)
def test_indirect_english_and_dutch_swedish_hindi_asks(text: str) -> None:
    assert wants_human(text)


@pytest.mark.parametrize(
    "text",
    [
        "tell me about your team",
        "how many workers do you have?",
        "what is the human resources email?",
        "can I transfer money to the team account?",
        "ik hoef niet met een medewerker te praten",
        "jag behöver inte prata med en människa",
        "my brother is a social worker",
    ],
)
def test_look_alikes_of_the_new_rules_are_not_asks(text: str) -> None:
    assert not wants_human(text)
