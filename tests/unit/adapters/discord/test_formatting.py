"""Pure Discord formatting: splitting at 2,000 chars, code fences, sources, names, embeds."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from bots.adapters.discord import formatting as fmt
from bots.models import Citation, HandoffReason, HandoffRecord


def test_short_text_is_one_message() -> None:
    assert fmt.split_message("Hello") == ["Hello"]


def test_long_text_is_cut_at_paragraphs() -> None:
    paragraphs = [f"Paragraph {n}. " + "word " * 80 for n in range(10)]
    pieces = fmt.split_message("\n\n".join(p.strip() for p in paragraphs))
    assert len(pieces) > 1
    assert all(len(piece) <= fmt.MESSAGE_LIMIT for piece in pieces)
    assert all(piece.startswith("Paragraph") for piece in pieces)


def test_a_cut_code_block_is_closed_and_reopened_with_its_language() -> None:
    code = "\n".join(f"let x{n} = {n};" for n in range(300))
    pieces = fmt.split_message(f"Try this:\n```rust\n{code}\n```\nDone.")
    assert len(pieces) >= 2
    assert pieces[0].endswith("\n```")
    for piece in pieces[1:]:
        assert piece.startswith("```rust\n")
    for piece in pieces:
        assert piece.count("```") % 2 == 0


@given(st.text(alphabet=st.sampled_from("ab `\n#"), min_size=0, max_size=6000))
def test_pieces_never_exceed_the_limit_and_never_end_inside_a_code_block(text: str) -> None:
    pieces = fmt.split_message(text, limit=200)
    for piece in pieces:
        assert len(piece) <= 200
    for piece in pieces[:-1]:  # the last one is open only if the model left it open
        assert fmt._open_fence(piece) is None


def test_sources_are_links_without_previews_and_cannot_ping() -> None:
    line = fmt.sources_line(
        [
            Citation("hours", "Opening hours", "https://cafe.example/hours"),
            Citation("x", "@everyone [free]", None),
            Citation("y", "Evil", "javascript:alert(1)"),
        ]
    )
    assert "[Opening hours](<https://cafe.example/hours>)" in line
    assert "@everyone" not in line
    assert "javascript:" not in line


def test_reply_puts_sources_under_the_last_piece() -> None:
    pieces = fmt.reply_messages("x " * 1500, [Citation("a", "A", "https://a.example")])
    assert len(pieces) == 2
    assert pieces[-1].endswith("[A](<https://a.example>)")


def test_thread_names_come_from_the_first_line_without_mentions() -> None:
    assert fmt.thread_name("<@123> When do you open?\nthanks", "fallback") == "When do you open?"
    assert fmt.thread_name("<@123>", "Question from bob") == "Question from bob"
    assert len(fmt.thread_name("word " * 100, "f")) == fmt.THREAD_NAME_LIMIT


def test_custom_ids_carry_the_key_within_discords_100_chars() -> None:
    key = fmt.thread_key("9" * 19, "8" * 19)
    ids = [
        fmt.claim_id(key),
        fmt.resolve_id(key),
        fmt.feedback_id("down", key, "7" * 19, "6" * 19),
    ]
    assert all(len(custom_id) <= 100 for custom_id in ids)
    import re

    match = re.fullmatch(fmt.FEEDBACK_TEMPLATE, ids[2])
    assert match is not None
    assert fmt.key_from(match) == key


def test_the_hand_off_embed_shows_reason_summary_and_link_safely() -> None:
    record = HandoffRecord(
        conversation_id="c1",
        key=fmt.thread_key("1", "2"),
        persona="cafe",
        user_id="42",
        reason=HandoffReason.USER_ASKED,
        detail="",
        summary=("Wants a refund @everyone", "Paid twice"),
        last_messages=(),
        requested_at=datetime.now(UTC),
    )
    embed = fmt.handoff_embed(record, fmt.thread_link(record.key))
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Reason"] == "a person was asked for"
    assert "https://discord.com/channels/1/2" in str(fields["Thread"])
    assert "@everyone" not in str(embed.description)
    updated = fmt.updated_embed(embed, "Claimed by <@7>", fmt.COLOUR_CLAIMED)
    assert {f.name: f.value for f in updated.fields}[fmt.STATUS_FIELD] == "Claimed by <@7>"


def test_only_a_numeric_role_is_pinged() -> None:
    ping = fmt.role_ping("555", "New hand-off")
    assert ping.content == "<@&555> New hand-off"
    assert ping.allowed.to_dict() == {"parse": [], "roles": [555]}
    assert fmt.role_ping("", "x").allowed.to_dict() == {"parse": []}
