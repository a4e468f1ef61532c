"""Retrieval across languages and turns, and saying "no confident match", with the default model.

These use the real USE multilingual model (the default install's) on the restaurant sample
FAQ, so what they check is what a guest gets.
"""

from __future__ import annotations

import pytest

from bots.knowledge.files import KnowledgeEntry, load_knowledge
from bots.retrieval.embeddings import UniversalSentenceEncoderEmbedder
from bots.retrieval.followup import question_parts, word_count
from bots.retrieval.search import Retriever
from tests.support.paths import REPO_ROOT


@pytest.fixture(scope="module")
def restaurant() -> Retriever:
    entries = list(load_knowledge(REPO_ROOT / "knowledge", ["restaurant"]))
    return Retriever(entries, embedder=UniversalSentenceEncoderEmbedder(), match="strict")


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("¿Se puede traer al perro?", "pets"),
        ("Vous êtes ouverts le lundi ?", "hours-monday"),
        ("Kann ich mit Karte zahlen?", "payment-methods"),
        ("駐車場はありますか？", "parking"),
        ("可以带狗吗？", "pets"),
        ("Hebben jullie een terras?", "terrace"),
    ],
)
def test_a_question_in_another_language_finds_the_english_entry(
    restaurant: Retriever, question: str, entry: str
) -> None:
    result = restaurant.search(question)
    assert result.best is not None
    assert result.best.entry.id == entry
    assert result.confident


@pytest.mark.parametrize(
    "question",
    [
        "who won the football last night",
        "what's 17 times 23?",
        "call my wife and tell her I'm running late",
        "the lamb was cold and I want my money back",
    ],
)
def test_off_topic_questions_get_no_confident_match(restaurant: Retriever, question: str) -> None:
    assert not restaurant.search(question).confident


def test_a_short_follow_up_is_read_with_the_question_before(restaurant: Retriever) -> None:
    alone = restaurant.search("which days?")
    followed = restaurant.search("which days?", earlier=["Can I bring my own wine?"])
    assert alone.best is not None
    assert alone.best.entry.id != "corkage-byo"
    assert followed.best is not None
    assert followed.best.entry.id == "corkage-byo"
    assert followed.confident
    assert followed.query == "which days?"


def test_a_new_full_question_is_not_mixed_with_the_last_one(restaurant: Retriever) -> None:
    result = restaurant.search(
        "I would like to book a table for four on Friday evening",
        earlier=["Can I pay by card?"],
    )
    assert result.best is not None
    assert result.best.entry.id == "reservations-how"


def test_follow_up_parts_weigh_the_newest_message_most() -> None:
    parts = question_parts("and on sundays?", ["hi", "are you open on mondays?"])
    assert [(p.text, p.weight) for p in parts] == [
        ("and on sundays?", 1.0),
        ("are you open on mondays?", 0.8),
        ("hi", 0.4),
    ]
    long = "could you tell me whether you have any vegan desserts at all"
    assert question_parts(long, ["hi"]) == question_parts(long, [])
    assert word_count("自带酒水吗") == 3  # two characters to a word, in Chinese


def test_chinese_is_matched_in_two_character_words_lexically() -> None:
    entries = [
        KnowledgeEntry(id="hours", question="你们的营业时间是几点？", answer="每天十点到九点。"),
        KnowledgeEntry(id="parking", question="附近有停车场吗？", answer="后面有免费停车场。"),
    ]
    result = Retriever(entries).search("营业时间")
    assert result.best is not None
    assert result.best.entry.id == "hours"
    assert result.confident


def test_chinese_against_english_knowledge_is_no_lexical_match() -> None:
    entries = list(load_knowledge(REPO_ROOT / "knowledge", ["restaurant"]))
    result = Retriever(entries, match="strict").search("我可以自带葡萄酒吗？")
    assert not result.confident
