"""Whether a model reply admits it does not know (en, es, fr, de, pt, it), for hand-off counts.

A model that cannot answer says so in words ("I don't know, sorry", "no tengo esa
información") far more often than it calls the hand-off tool; small models never call it.
Such a reply counts towards the persona's `handoff.after_failed_turns`, as an "I don't know"
from the knowledge base does. Written by hand: no maintained library recognises refusals in
these languages, and the phrases are few and stable. A reply that cites an entry answered
something, so the engine only asks this of replies without citations.
"""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})

# Folded text: lower case, no accents, straight apostrophes, single spaces.
_PHRASES = {
    "en": (
        r"\bi (?:really )?(?:don'?t|do not|dont) (?:really )?know\b",
        r"\bi'?m not (?:sure|certain)\b|\bi am not (?:sure|certain)\b",
        r"\bi (?:don'?t|do not) have (?:any |that |this |the |enough |an? )?"
        r"(?:information|info|details|answer|data)\b",
        r"\bi (?:couldn'?t|could not|can'?t|cannot|can not|was unable to|am unable to|"
        r"'?m unable to) (?:find|answer|help with|tell|say)\b",
        r"\bi have no (?:information|info|details|answer|idea)\b",
        r"\b(?:not|isn'?t) (?:in|covered by|part of) (?:my|the) "
        r"(?:knowledge|information|faq|snippets|documents)\b",
        r"\bno information (?:about|on|regarding)\b",
    ),
    "es": (
        # "no se" without its accent is also the impersonal "no se permiten mascotas".
        r"\bno lo se\b|\bno se (?:nada|eso|la respuesta|si|cual|cuando|donde|como)\b",
        r"\bno estoy (?:segur[oa]|al tanto)\b",
        r"\bno (?:tengo|dispongo de|cuento con) (?:esa |esta |la |ninguna |suficiente )?"
        r"(?:informacion|respuesta|datos)\b",
        r"\bno (?:puedo|pude|he podido) (?:encontrar|responder|ayudar|decir)\b",
        r"\bno (?:encuentro|encontre|he encontrado)\b",
    ),
    "fr": (
        r"\bje ne (?:le )?sais pas\b|\bj(?:e n)?'?sais pas\b",
        r"\bje ne suis pas (?:sur|sure|certaine?)\b",
        r"\bje n'?ai pas (?:cette |l'|d'|les |de |la )?(?:information|info|reponse|details)",
        r"\bje ne (?:peux|pourrai|parviens) pas (?:a )?(?:trouver|repondre|vous aider|aider|dire)",
        r"\bje n'?ai (?:pas |rien )trouve\b",
        r"\baucune information\b",
    ),
    "de": (
        r"\bich weiss (?:es |das )?(?:leider )?nicht\b",
        r"\bweiss ich (?:leider |es |das )*nicht\b",
        r"\bich bin (?:mir )?(?:leider )?nicht sicher\b",
        r"\b(?:ich habe|dazu habe ich|dazu liegen mir|mir liegen) (?:leider )?keine "
        r"(?:informationen|angaben|antwort|daten)\b",
        r"\bich kann (?:ihnen |dir )?(?:dabei |damit |das |die frage )?(?:leider )?nicht "
        r"(?:helfen|beantworten|sagen|finden)\b",
        r"\bkeine informationen\b",
        r"\bich habe (?:leider )?nichts gefunden\b",
    ),
    "pt": (
        r"\bnao (?:o )?sei\b",
        r"\bnao tenho (?:certeza|essa informacao|esta informacao|informacoes?|a resposta|dados)",
        r"\bnao (?:posso|consigo|consegui) (?:encontrar|responder|ajudar|dizer)\b",
        r"\bnao encontrei\b",
    ),
    "it": (
        r"\bnon (?:lo )?so\b",
        r"\bnon sono (?:sicur[oa]|certo|certa)\b",
        r"\bnon (?:ho|dispongo di) (?:questa |quest'|l'|informazioni|la risposta|dati|"
        r"abbastanza )",
        r"\bnon (?:posso|riesco a|sono riuscit[oa] a) (?:trovare|rispondere|aiutar|dire)",
        r"\bnon ho trovato\b",
    ),
}
_PATTERN = re.compile("|".join(f"(?:{p})" for group in _PHRASES.values() for p in group))
# Matched before the accents are folded away: "sé" (I know) is not "se".
_ACCENTED = re.compile(r"\bno s\u00e9\b")
LANGUAGES = tuple(_PHRASES)


def fold(text: str) -> str:
    """Lower case without accents, straight apostrophes, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES).casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.replace("ß", "ss").split())


def admits_not_knowing(text: str) -> bool:
    """Whether the reply says it does not know or cannot find the answer."""
    if _ACCENTED.search(unicodedata.normalize("NFC", text.casefold())) is not None:
        return True
    return _PATTERN.search(fold(text)) is not None
