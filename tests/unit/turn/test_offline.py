"""Answers from the knowledge alone: the best entry when confident, else an honest fallback."""

from __future__ import annotations

from bots.knowledge.files import KnowledgeEntry
from bots.knowledge.persona import Persona
from bots.models import Citation, ReplySource
from bots.retrieval.search import RetrievalResult, ScoredEntry
from bots.turn.offline import citation_for, offline_reply

PARKING = KnowledgeEntry(
    id="parking",
    question="Is there parking?",
    answer="Yes, behind the cafe.",
    url="https://cafe.example/parking",
)


def retrieval(confident: bool, *entries: KnowledgeEntry) -> RetrievalResult:
    hits = tuple(ScoredEntry(entry, 1.0, 0.9 if confident else 0.01) for entry in entries)
    return RetrievalResult("parking?", hits, confident)


def test_a_confident_match_answers_with_the_entry_and_cites_it(cafe_persona: Persona) -> None:
    other = KnowledgeEntry(id="hours", question="When do you open?", answer="At 8.")
    reply = offline_reply(cafe_persona, retrieval(True, PARKING, other), llm_down=False)
    assert reply.source is ReplySource.KNOWLEDGE
    assert reply.text == "From our FAQ:\n\nYes, behind the cafe."
    assert reply.citations == (
        Citation("parking", "Is there parking?", "https://cafe.example/parking"),
    )


def test_when_the_model_is_down_the_user_is_told_before_the_faq_answer(
    cafe_persona: Persona,
) -> None:
    reply = offline_reply(cafe_persona, retrieval(True, PARKING), llm_down=True)
    assert reply.text.split("\n\n") == [
        "My answering service is down right now.",
        "From our FAQ:",
        "Yes, behind the cafe.",
    ]


def test_no_confident_match_says_so_and_offers_a_person(cafe_persona: Persona) -> None:
    # A weak hit is not answered from, even though it is the best there is.
    reply = offline_reply(cafe_persona, retrieval(False, PARKING), llm_down=False)
    assert reply.source is ReplySource.FALLBACK
    assert reply.text == "Sorry, I don't know that. Shall I get a person?"
    assert reply.citations == ()
    assert "behind the cafe" not in reply.text


def test_no_hits_at_all_with_the_model_down(cafe_persona: Persona) -> None:
    reply = offline_reply(cafe_persona, retrieval(True), llm_down=True)
    assert reply.source is ReplySource.FALLBACK
    assert reply.text == (
        "My answering service is down right now.\n\nSorry, I don't know that. Shall I get a person?"
    )


def test_a_citation_names_the_entry_by_its_question() -> None:
    plain = KnowledgeEntry(id="menu", question="What is on the menu?", answer="Soup.")
    assert citation_for(plain) == Citation("menu", "What is on the menu?", None)
