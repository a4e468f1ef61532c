"""Reply cleaning: citation markers removed, mentions defused, and streaming agrees with whole."""

from __future__ import annotations

import random
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bots.text import (
    StreamCleaner,
    clean_reply,
    defuse_links,
    neutralise_mentions,
    trim_to_boundary,
)

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


# -- links: only vetted hosts stay links ---------------------------------------------------


def good(url: str) -> bool:
    return urlsplit(url).hostname == "cafe.example"


LINKS = {
    "[click](https://evil.example/login)": "click (`https://evil.example/login`)",
    "<https://evil.example/pay|click here>": "click here (`https://evil.example/pay`)",
    "<https://evil.example/pay>": "`https://evil.example/pay`",
    "see https://evil.example/pay.": "see `https://evil.example/pay`.",
    "https://cafe.example@evil.example/x": "`https://evil.example/x`",
    '[x](<https://evil.example/a> "title")': "x (`https://evil.example/a`)",
    "[menu](https://cafe.example/menu)": "[menu](https://cafe.example/menu)",
    "<https://cafe.example/menu|menu>": "[menu](https://cafe.example/menu)",
    "<https://cafe.example/menu>": "<https://cafe.example/menu>",
    "https://cafe.example/menu": "https://cafe.example/menu",
    "`[click](https://evil.example)` in code": "`[click](https://evil.example)` in code",
}


@pytest.mark.security("injection")
@pytest.mark.parametrize("written", sorted(LINKS))
def test_links_to_unvetted_hosts_show_their_address_as_plain_text(written: str) -> None:
    assert defuse_links(written, good) == LINKS[written]


def test_with_no_vetted_host_every_link_is_plain() -> None:
    text, _ = clean_reply("[menu](https://cafe.example/menu)", ())
    assert text == "menu (`https://cafe.example/menu`)"


LINKY = (
    "Log in [here](https://evil.example/login?a=1) or <https://evil.example|tap me>, "
    "see https://evil.example/x. Our [menu](https://cafe.example/menu) [hours] and "
    "<https://cafe.example/a|this> end"
)


@pytest.mark.security("injection")
@given(st.lists(st.integers(1, 9), min_size=1, max_size=60))
def test_streamed_links_come_out_as_the_whole_text_does(cuts: list[int]) -> None:
    """However the model's pieces cut a link, the stream shows what the final text shows."""
    cleaner = StreamCleaner(KNOWN, good)
    out, start = "", 0
    for size in cuts:
        out += cleaner.feed(LINKY[start : start + size])
        start += size
    out += cleaner.feed(LINKY[start:]) + cleaner.flush()
    assert out == clean_reply(LINKY, KNOWN, good)[0]
    assert "](https://evil" not in out
    assert "<https://evil" not in out


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
