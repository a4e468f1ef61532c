"""The hand-off detector that adds the nearest labelled examples to the rule tables."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bots.handoff.examples import ASKS, NOT_ASKS
from bots.handoff.semantic import MAX_CHARS, WARM_BATCH, HandoffDetector
from bots.retrieval.embeddings import Progress

HELD_OUT = Path(__file__).parents[3] / "benchmarks" / "handoff"


class KeywordEmbedder:
    """A fake: a text's vector says which of a few words it contains, so tests pick neighbours."""

    name = "keywords"
    words = ("person", "bot", "need", "hours", "人工")

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        self.calls.append(list(texts))
        rows = []
        for text in texts:
            row = np.array([w in text for w in self.words] + [0.1], dtype=np.float32)
            rows.append(row / np.linalg.norm(row))
        return np.array(rows, dtype=np.float32).reshape(len(texts), len(self.words) + 1)


def detector(embedder: KeywordEmbedder) -> HandoffDetector:
    found = HandoffDetector(
        embedder,
        asks={"en": ["a person please", "I don't want a bot"], "zh": ["转人工"]},
        not_asks={"en": ["no need for a person", "opening hours"]},
        min_similarity=0.9,
        min_similarity_with_rules=0.9,
        min_margin=0.05,
        neighbours=1,
    )
    found.warm()
    return found


def test_a_message_near_an_ask_is_an_ask_in_any_language() -> None:
    assert detector(KeywordEmbedder()).wants_human("请帮我转人工客服")


def test_negation_sits_by_the_non_asks() -> None:
    found = detector(KeywordEmbedder())
    assert found.wants_human("bot? I don't want one")  # by "I don't want a bot"
    assert not found.wants_human("no need, a person is not needed")  # by "no need for a person"


def test_an_ordinary_question_is_not_an_ask() -> None:
    assert not detector(KeywordEmbedder()).wants_human("what are your hours?")


def test_the_rules_decide_first_without_embedding() -> None:
    embedder = KeywordEmbedder()
    found = detector(embedder)
    embedder.calls.clear()
    assert found.wants_human("I want to talk to a human")
    assert embedder.calls == []


def test_long_messages_are_left_to_the_rules() -> None:
    embedder = KeywordEmbedder()
    found = detector(embedder)
    embedder.calls.clear()
    assert not found.wants_human("a person please " * (MAX_CHARS // 10))
    assert embedder.calls == []


def test_languages_without_full_rules_get_the_lower_bar() -> None:
    embedder = KeywordEmbedder()
    # "person hours" is as near "a person please" as "opening hours": 0.5 of the way.
    strict = HandoffDetector(
        embedder,
        asks={"en": ["a person please"]},
        not_asks={"en": ["need"]},
        min_similarity=0.5,
        min_similarity_with_rules=0.9,
        min_margin=0.0,
        neighbours=1,
        language_of=lambda text: "ko" if "ko:" in text else "en",
    )
    strict.warm()
    assert strict.wants_human("ko: person hours")
    assert not strict.wants_human("en: person hours")


def test_several_neighbours_vote_so_one_stray_example_does_not_decide() -> None:
    embedder = KeywordEmbedder()
    asks = {"en": ["a person please", "person, need one", "I need a person"]}
    # One non-ask happens to sit right on "person need": alone it would veto the ask.
    not_asks = {"en": ["person need", "opening hours", "hours"]}

    def built(neighbours: int) -> HandoffDetector:
        found = HandoffDetector(
            embedder,
            asks=asks,
            not_asks=not_asks,
            min_similarity=0.6,
            min_similarity_with_rules=0.6,
            min_margin=0.05,
            neighbours=neighbours,
        )
        found.warm()
        return found

    assert not built(1).wants_human("person need?")
    assert built(3).wants_human("person need?")
    assert not built(3).wants_human("what are your hours?")


def test_until_the_examples_are_loaded_the_rules_answer() -> None:
    embedder = KeywordEmbedder()
    loading = HandoffDetector(embedder, asks={"zh": ["转人工"]}, not_asks={"en": ["hours"]})
    assert not loading.wants_human("转人工")
    assert embedder.calls == []
    loading.warm_in_background().join(timeout=10)
    assert loading.wants_human("转人工")


def test_without_an_embedder_it_is_the_rules() -> None:
    rules = HandoffDetector(None)
    assert rules.wants_human("can I talk to a real person")
    assert not rules.wants_human("请帮我转人工客服")


def test_examples_are_embedded_once_in_one_batch() -> None:
    embedder = KeywordEmbedder()
    found = detector(embedder)
    found.wants_human("what are your hours?")
    found.wants_human("转人工 please")
    assert [len(call) for call in embedder.calls] == [5, 1, 1]


def test_the_examples_cover_many_languages_and_stay_apart_from_the_held_out_sets() -> None:
    assert {"en", "es", "fr", "de", "pt", "it", "nl", "ja", "zh", "ko", "ru", "pl", "tr", "sv"} <= (
        set(ASKS) & set(NOT_ASKS)
    )
    examples = {t.casefold() for texts in (*ASKS.values(), *NOT_ASKS.values()) for t in texts}
    held_out = [
        json.loads(line)["text"].casefold()
        for path in HELD_OUT.glob("*.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    assert len(held_out) >= 160
    assert examples.isdisjoint(held_out)


def test_the_held_out_sets_have_three_asks_and_negatives_per_language() -> None:
    rows = [
        json.loads(line)
        for line in (HELD_OUT / "languages.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    for language in ("ja", "zh", "nl", "pl", "tr", "ru", "hi", "ar", "ko", "sv"):
        mine = [r for r in rows if r["lang"] == language]
        assert sum(r["wants_human"] for r in mine) >= 3
        assert sum(not r["wants_human"] for r in mine) >= 3


class GatedEmbedder(KeywordEmbedder):
    """Each batch waits for the test to let it through, like a slow model still loading."""

    def __init__(self) -> None:
        super().__init__()
        self.started = threading.Event()
        self.go_on = threading.Event()

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        self.started.set()
        assert self.go_on.wait(10), "the test never let the batch through"
        return super().embed(texts, progress)


def test_stop_ends_a_background_warm_up_after_its_current_batch() -> None:
    embedder = GatedEmbedder()
    many = [f"a person please {n}" for n in range(3 * WARM_BATCH)]
    slow = HandoffDetector(embedder, asks={"en": many}, not_asks={"en": ["opening hours"]})
    thread = slow.warm_in_background()
    assert embedder.started.wait(10)
    stopper = threading.Thread(target=slow.stop)
    stopper.start()
    assert slow._stopping.wait(10)  # asked to stop while a batch is under way
    embedder.go_on.set()  # that batch finishes; no further batch starts
    stopper.join(10)
    assert not stopper.is_alive()
    assert not thread.is_alive()
    assert len(embedder.calls) == 1
    assert not slow.wants_human("hi there")  # not ready: the rules alone answer
