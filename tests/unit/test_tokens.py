"""Token counting: exact for known encodings without any download, safe for unknown models."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from bots.tokens import (
    CharEstimateCounter,
    EncodingCounter,
    _encoding,
    counter_for_model,
    encoding_for_model,
)

ROOT = Path(__file__).resolve().parents[2]


def test_known_models_map_to_their_encodings() -> None:
    assert encoding_for_model("gpt-4o-mini") == "o200k_base"
    assert encoding_for_model("openai/gpt-4o") == "o200k_base"
    assert encoding_for_model("gpt-4-turbo") == "cl100k_base"
    assert encoding_for_model("gpt-3.5-turbo-0125") == "cl100k_base"
    assert encoding_for_model("llama3.1:8b") is None
    assert encoding_for_model("gpt-4oops") is None


def test_exact_counts_for_o200k_and_cl100k() -> None:
    # Reference values from OpenAI's tokenizer for these encodings.
    assert counter_for_model("gpt-4o").count("hello world") == 2
    assert counter_for_model("gpt-4").count("hello world") == 2
    assert counter_for_model("gpt-4o").exact


def test_unknown_models_get_a_padded_estimate() -> None:
    text = "Bonjour! Quelle heure est-il à Montréal? " * 20
    unknown = counter_for_model("mistral-7b-instruct")
    assert not unknown.exact
    assert unknown.count(text) > counter_for_model("gpt-4").count(text)


def test_character_estimate_over_counts() -> None:
    text = "The quick brown fox jumps over the lazy dog. " * 10
    assert CharEstimateCounter().count(text) >= counter_for_model("gpt-4o").count(text)


@given(st.text(max_size=300))
def test_the_bound_without_the_encoding_is_never_below_the_count(text: str) -> None:
    for model in ("gpt-4o", "gpt-4", "llama3.1:8b"):
        counter = counter_for_model(model)
        assert isinstance(counter, EncodingCounter)
        assert counter.at_most(text) >= counter.count(text)


def test_a_short_persona_is_checked_without_loading_an_encoding() -> None:
    from bots.turn.persona_load import load_persona_file

    _encoding.cache_clear()
    loaded = load_persona_file(ROOT / "personas" / "helpdesk.yaml", ROOT / "knowledge")
    assert loaded.findings == ()
    assert _encoding.cache_info().currsize == 0  # the 0.6 s load waits for a real count
    assert loaded.counter is not None
    assert loaded.counter.count("hello world") == 2
