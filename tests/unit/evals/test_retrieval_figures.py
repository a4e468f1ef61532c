"""`bots eval retrieval`'s figures: conversation rows, answered right/wrong, per language."""

from __future__ import annotations

import pytest

from bots.errors import BotsError
from bots.evals.retrieval import evaluate_retrieval, split_queries
from bots.knowledge.files import KnowledgeEntry
from bots.retrieval.search import Retriever

ENTRIES = [
    KnowledgeEntry(id="parking", question="Is there parking?", answer="Free parking behind us."),
    KnowledgeEntry(id="wine", question="Can I bring my own wine?", answer="Yes, corkage is 10."),
    KnowledgeEntry(id="hours", question="What are your opening hours?", answer="Noon to ten."),
]


def test_a_conversation_row_scores_its_last_turn_with_the_earlier_ones() -> None:
    rows = [{"turns": ["Can I bring my own wine?", "on which days?"], "faq_id": "wine"}]
    _, queries = split_queries(rows, ENTRIES, train_as_phrasings=False)
    assert queries[0].text == "on which days?"
    assert queries[0].earlier == ("Can I bring my own wine?",)
    report = evaluate_retrieval(Retriever(ENTRIES), queries)
    assert report.figures["recall_at_1"] == 1.0


def test_answered_right_and_wrong_count_what_clears_the_bar() -> None:
    rows = [
        {"query": "parking", "faq_id": "parking", "lang": "en"},  # right and confident
        {"query": "opening hours", "faq_id": "wine", "lang": "en"},  # confident, wrong entry
        {"query": "Hay aparcamiento?", "faq_id": "parking", "lang": "es"},  # no match
        {"query": "parking for my bike", "faq_id": None, "lang": "en"},  # out of scope, answered
        {"query": "who won the football", "faq_id": None, "lang": "en"},  # out of scope, abstains
    ]
    _, queries = split_queries(rows, ENTRIES, train_as_phrasings=False)
    figures = evaluate_retrieval(Retriever(ENTRIES, match="loose"), queries).figures
    assert figures["answered_right"] == pytest.approx(1 / 3, abs=1e-4)
    assert figures["answered_wrong"] == pytest.approx(2 / 5)
    by_lang = figures["by_lang"]
    assert set(by_lang) == {"en", "es"}
    assert by_lang["es"]["n"] == 1
    assert by_lang["es"]["answered_right"] == 0.0
    assert by_lang["en"]["answered_wrong"] == pytest.approx(2 / 4)


@pytest.mark.parametrize("row", [{"faq_id": "wine"}, {"turns": [], "faq_id": "wine"}])
def test_a_row_without_a_question_is_a_clear_error(row: dict[str, object]) -> None:
    with pytest.raises(BotsError, match="query 1"):
        split_queries([row], ENTRIES, train_as_phrasings=False)
