"""Reply cleaning: citation markers removed, mentions defused, and streaming agrees with whole."""

from __future__ import annotations

import random

import pytest

from bots.text import StreamCleaner, clean_reply, neutralise_mentions, trim_to_boundary

KNOWN = {"hours", "parking"}
SAMPLE = (
    "We open at 11 [hours]. Parking is free [parking, hours] for @everyone and @here, "
    "see <!channel> <@U42> <!subteam^S1> [not-an-id] and [unclosed bracket text here.\n\nBye."
)


def test_known_citations_are_stripped_and_returned_in_order() -> None:
    text, cited = clean_reply("A [parking]. B [hours, parking]. C [other].", KNOWN)
    assert text == "A. B. C [other]."
    assert cited == ("parking", "hours")


@pytest.mark.parametrize(
    "mention",
    [
        "@everyone",
        "@here",
        "@channel",
        "<!channel>",
        "<!here>",
        "<!everyone>",
        "<!subteam^S0123|team>",
        "<@U123>",
        "<@&987>",
        "<#C1>",
    ],
)
def test_mentions_are_defused(mention: str) -> None:
    assert mention not in neutralise_mentions(f"hi {mention} there")


@pytest.mark.parametrize("seed", range(25))
def test_stream_pieces_add_up_to_the_cleaned_whole(seed: int) -> None:
    rng = random.Random(seed)
    cleaner = StreamCleaner(KNOWN)
    out, i = "", 0
    while i < len(SAMPLE):
        step = rng.randint(1, 12)
        out += cleaner.feed(SAMPLE[i : i + step])
        i += step
    out += cleaner.flush()
    assert out == clean_reply(SAMPLE, KNOWN)[0]


def test_text_without_spaces_streams_before_the_end() -> None:
    cleaner = StreamCleaner(KNOWN)
    released = cleaner.feed("我们每天早上八点开门，") + cleaner.feed("晚上六点关门。")
    assert released.startswith("我们每天早上八点开门")
    assert released + cleaner.flush() == "我们每天早上八点开门，晚上六点关门。"


def test_a_mention_split_across_pieces_is_still_defused() -> None:
    cleaner = StreamCleaner(KNOWN)
    out = "".join(cleaner.feed(p) for p in ["hi <", "@U1", "23> and @every", "one!"])
    out += cleaner.flush()
    assert "<@U123>" not in out
    assert "@everyone" not in out


@pytest.mark.parametrize(
    "text",
    [
        "[[handoff: refund]]\nA colleague will take over.",
        "Sorry.\nHANDOFF: refund\nA colleague will help.",
        "HANDOFF: angry",
        "The handover of keys is at 5. Hand me the menu.",
    ],
)
@pytest.mark.parametrize("seed", range(10))
def test_handoff_markers_never_stream_out(text: str, seed: int) -> None:
    rng = random.Random(seed)
    cleaner = StreamCleaner(KNOWN)
    out, i = "", 0
    while i < len(text):
        step = rng.randint(1, 5)
        out += cleaner.feed(text[i : i + step])
        i += step
    out += cleaner.flush()
    assert out == clean_reply(text, KNOWN)[0]
    assert "handoff" not in out.lower()
    assert "[" not in out
    assert "]" not in out


@pytest.mark.parametrize(
    ("cut", "kept"),
    [
        ("Parking is behind the restaur", "Parking is behind the"),
        ("We open at 9. On Sunday we open at 1", "We open at 9. On Sunday we open at"),
        (
            "Yes, there is free wifi. The password is on the rec",
            "Yes, there is free wifi. The password is on the",
        ),
        ("One. Two three four five six seven eig", "One. Two three four five six seven"),
        ("Already whole.", "Already whole."),
        ("Ends at a word ", "Ends at a word"),
        ("東京駅から歩いて", "東京駅から歩いて"),
        ("Supercalifragilistic", "Supercalifragilistic"),
        ("Run this:\n```sh\nbots chec", "Run this:\n```sh\nbots\n```"),
    ],
)
def test_a_cut_text_is_trimmed_back_to_a_word_or_sentence(cut: str, kept: str) -> None:
    assert trim_to_boundary(cut) == kept
