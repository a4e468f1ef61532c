"""Pure Slack formatting: mrkdwn conversion, defused mentions, splitting, hand-off blocks."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from bots.adapters.slack import formatting as fmt
from bots.models import Citation, HandoffReason, HandoffRecord, ThreadKey

LIVE = re.compile(r"<[!@#][^>]*>")
KEY = ThreadKey("slack", "T1", "C1", "111.222")


@pytest.mark.parametrize(
    "loud",
    [
        "<!channel>",
        "<!here>",
        "<!here|here>",
        "<!everyone>",
        "<!subteam^S123|@team>",
        "<@U123ABC>",
        "<#C123|general>",
        "<@W123>",
    ],
)
def test_model_mentions_are_defused(loud: str) -> None:
    shown = fmt.to_mrkdwn(f"hello {loud} there")
    assert LIVE.findall(shown) == []
    assert "<" not in shown


def test_plain_mass_mentions_are_broken() -> None:
    shown = fmt.to_mrkdwn("@channel @here @everyone")
    for loud in ("@channel", "@here", "@everyone"):
        assert loud not in shown


def test_control_characters_are_escaped() -> None:
    assert fmt.to_mrkdwn("a & b < c > d") == "a &amp; b &lt; c &gt; d"
    assert fmt.escape("<&>") == "&lt;&amp;&gt;"


def test_markdown_becomes_mrkdwn() -> None:
    shown = fmt.to_mrkdwn(
        "# Menu\n**Bold** and *italic* and ~~gone~~\n- one\n* two\n[site](https://x.example/a?b=1&c=2)"
    )
    assert shown.splitlines() == [
        "*Menu*",
        "*Bold* and _italic_ and ~gone~",
        "• one",
        "• two",
        "<https://x.example/a?b=1&amp;c=2|site>",
    ]


def test_only_web_links_become_links() -> None:
    shown = fmt.to_mrkdwn("[x](javascript:alert(1)) [y](<!channel>)")
    assert "<" not in shown.replace("&lt;", "")


def test_code_is_escaped_but_not_converted() -> None:
    shown = fmt.to_mrkdwn("`**a** <b>`\n```\n**x** <!here>\n```")
    assert "`**a** &lt;b&gt;`" in shown
    assert "**x**" in shown
    assert LIVE.findall(shown) == []


def test_split_keeps_short_text_whole() -> None:
    assert fmt.split_text("hello") == ["hello"]
    assert fmt.split_text("   ") == []


def test_split_cuts_at_paragraphs_within_the_limit() -> None:
    text = "\n\n".join(f"paragraph {i} " + "word " * 100 for i in range(20))
    pieces = fmt.split_text(text, 1000)
    assert all(len(p) <= 1000 for p in pieces)
    assert all(p.startswith("paragraph") for p in pieces)
    assert "".join(pieces).replace(" ", "") == text.replace("\n", "").replace(" ", "")


def test_split_closes_and_reopens_code_blocks() -> None:
    text = "intro\n```\n" + "\n".join(f"line {i}" for i in range(300)) + "\n```\nend"
    pieces = fmt.split_text(text, 500)
    assert len(pieces) > 2
    for piece in pieces:
        assert len(piece) <= 500
        assert piece.count("```") % 2 == 0


def test_split_cuts_a_word_without_spaces() -> None:
    pieces = fmt.split_text("x" * 7000, 3000)
    assert [len(p) for p in pieces] == [2996, 2996, 1008]


def test_reply_messages_put_sources_under_the_last_piece() -> None:
    citations = (
        Citation("hours", "When are you open?", "https://cafe.example/hours"),
        Citation("parking", "Parking <!here>", None),
    )
    messages = fmt.reply_messages("word " * 1000, citations)
    assert len(messages) == 2
    _text, blocks = messages[-1]
    assert blocks[-1]["type"] == "context"
    sources = blocks[-1]["elements"][0]["text"]
    assert sources.startswith("Sources: <https://cafe.example/hours|When are you open?>")
    assert LIVE.findall(sources) == []
    assert all(b["type"] == "section" for b in messages[0][1])


def test_button_values_round_trip_thread_keys() -> None:
    assert fmt.decode_key(fmt.encode_key(KEY)) == KEY
    assert fmt.decode_key("not json") is None
    assert fmt.decode_key('["a", "b"]') is None


def test_group_mention_only_for_group_ids() -> None:
    assert fmt.group_mention("S0123ABC") == "<!subteam^S0123ABC>"
    assert fmt.group_mention("") == ""
    assert fmt.group_mention("channel>") == ""


def record(**changes: object) -> HandoffRecord:
    base = HandoffRecord(
        conversation_id="c1",
        key=KEY,
        persona="cafe",
        user_id="U0ALICE",
        reason=HandoffReason.MODEL_TOOL,
        detail="model said <!channel>",
        summary=("Wants a refund <@U0BOSS>", "Asked twice @everyone"),
        last_messages=(),
        requested_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    return HandoffRecord(**{**base.__dict__, **changes}) if changes else base


def test_handoff_blocks_mention_only_the_group() -> None:
    blocks = fmt.handoff_blocks(record(), "https://x.slack.com/archives/C1/p111222", "S0TEAM")
    shown = str(blocks)
    assert LIVE.findall(shown) == ["<!subteam^S0TEAM>"]
    assert "<https://x.slack.com/archives/C1/p111222|Open the thread>" in shown
    assert "the assistant could not help" in shown
    actions = blocks[-1]
    assert [e["action_id"] for e in actions["elements"]] == [fmt.CLAIM_ACTION, fmt.RESOLVE_ACTION]


def test_updated_blocks_keep_resolve_until_resolved() -> None:
    blocks = fmt.handoff_blocks(record(), None, "")
    claimed = fmt.updated_handoff_blocks(blocks, status="Claimed", key=KEY, resolvable=True)
    assert [e["action_id"] for e in claimed[-1]["elements"]] == [fmt.RESOLVE_ACTION]
    resolved = fmt.updated_handoff_blocks(claimed, status="Resolved", key=KEY, resolvable=False)
    assert not [b for b in resolved if b["type"] == "actions"]
    assert (
        next(b for b in resolved if b.get("block_id") == fmt.STATUS_BLOCK)["elements"][0]["text"]
        == "Resolved"
    )


def test_feedback_buttons_go_under_the_last_piece_only() -> None:
    value = fmt.encode_feedback(KEY, "111.333", "U1")
    citation = Citation("wifi", "Wifi", "https://cafe.example/wifi")
    messages = fmt.reply_messages("word " * 2000, [citation], value)
    assert len(messages) >= 2
    assert all(b.get("block_id") != fmt.FEEDBACK_BLOCK for _, bs in messages[:-1] for b in bs)
    last = messages[-1][1]
    assert [b["type"] for b in last[-2:]] == ["context", "actions"]
    actions = [e["action_id"] for e in last[-1]["elements"]]
    assert actions == [fmt.FEEDBACK_UP_ACTION, fmt.FEEDBACK_DOWN_ACTION]
    assert all(e["value"] == value for e in last[-1]["elements"])
    assert "actions" not in [b["type"] for _, bs in fmt.reply_messages("hi", []) for b in bs]


def test_feedback_values_round_trip_and_bad_ones_are_refused() -> None:
    target = fmt.decode_feedback(fmt.encode_feedback(KEY, "111.333", "U1"))
    assert target == fmt.FeedbackTarget(KEY, "111.333", "U1")
    assert fmt.decode_feedback(fmt.encode_key(KEY)) is None
    assert fmt.decode_key(fmt.encode_feedback(KEY, "1", "U1")) is None
    for bad in ("", "nope", "[1, 2, 3, 4, 5, 6]", '{"a": 1}'):
        assert fmt.decode_feedback(bad) is None


@pytest.mark.parametrize("positive", [True, False])
def test_rated_blocks_replace_the_buttons_with_a_line(positive: bool) -> None:
    _, blocks = fmt.reply_messages("hello", [], fmt.encode_feedback(KEY, "1", "U1"))[0]
    rated = fmt.rated_blocks(blocks, positive=positive)
    assert [b["type"] for b in rated] == ["section", "context"]
    line = rated[-1]["elements"][0]["text"]
    assert line == ("Thanks for the feedback" if positive else "Sorry that didn't help")
    assert fmt.rated_blocks(rated, positive=positive) == rated
