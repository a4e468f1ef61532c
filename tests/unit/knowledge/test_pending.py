"""Pending FAQ suggestions: written with comments kept, never answered from, approved into
the live file, and checked like every knowledge file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bots.app.check import check_paths
from bots.errors import KnowledgeError
from bots.knowledge.files import is_pending_file, load_knowledge
from bots.knowledge.pending import LIVE_FILE, NewSuggestion, Origin, PendingFaq, pending_name

LIVE = """# The cafe's FAQ: keep this comment.
entries:
  # wifi
  - id: wifi
    question: Is there wifi?
    answer: Yes, free Wi-Fi.
"""


def knowledge(tmp_path: Path) -> Path:
    root = tmp_path / "knowledge"
    (root / "cafe").mkdir(parents=True)
    (root / "cafe" / LIVE_FILE).write_text(LIVE, encoding="utf-8")
    return root


def suggestion(thread: str = "slack/T1/C1/100.1") -> NewSuggestion:
    return NewSuggestion(
        question="Do you sell gift cards?",
        answer="Yes: gift cards from $25 at the bar.\nThey never expire.",
        also_asked=("can I buy a voucher",),
        origin=Origin(
            thread, "https://x.slack.com/archives/C1/p1001", "U0STAFF", "2026-12-02T17:00"
        ),
    )


def test_a_suggestion_is_written_to_the_pending_file_and_not_answered_from(
    tmp_path: Path,
) -> None:
    root = knowledge(tmp_path)
    added = PendingFaq(root).add("cafe", suggestion())
    assert not added.already
    assert added.suggestion.entry.id == "sell-gift-cards"
    text = (root / "cafe" / "pending.yaml").read_text(encoding="utf-8")
    assert "The bot does NOT answer from this file" in text
    assert "thread: slack/T1/C1/100.1" in text
    assert [e.id for e in load_knowledge(root, ["cafe"])] == ["wifi"]
    (listed,) = PendingFaq(root).suggestions()
    assert listed.entry.question == "Do you sell gift cards?"
    assert listed.entry.also_asked == ("can I buy a voucher",)
    assert listed.origin is not None
    assert listed.origin.saved_by == "U0STAFF"


def test_saving_one_thread_twice_keeps_one_suggestion(tmp_path: Path) -> None:
    root = knowledge(tmp_path)
    PendingFaq(root).add("cafe", suggestion())
    again = PendingFaq(root).add("cafe", suggestion())
    assert again.already
    other = PendingFaq(root).add("cafe", suggestion(thread="slack/T1/C1/200.1"))
    assert other.suggestion.entry.id == "sell-gift-cards-2"
    assert len(PendingFaq(root).suggestions()) == 2


def test_approve_moves_the_entry_into_the_live_file_keeping_comments(tmp_path: Path) -> None:
    root = knowledge(tmp_path)
    pending = PendingFaq(root)
    pending.add("cafe", suggestion())
    path = root / "cafe" / "pending.yaml"
    # A reviewer's note at the top stays; comments inside the moved entry leave with it.
    path.write_text("# a reviewer's note\n" + path.read_text(encoding="utf-8"), "utf-8")
    moved = pending.approve("sell-gift-cards")
    assert moved.entry.id == "sell-gift-cards"
    live = (root / "cafe" / LIVE_FILE).read_text(encoding="utf-8")
    assert live.startswith(LIVE)  # the file as it was, comments and all, then the entry
    assert "# From a staff answer by U0STAFF on 2026-12-02: https://x.slack.com" in live
    assert "from:" not in live  # the origin is a comment in live files
    assert [e.id for e in load_knowledge(root, ["cafe"])] == ["wifi", "sell-gift-cards"]
    assert pending.suggestions() == []
    assert "a reviewer's note" in path.read_text(encoding="utf-8")
    assert check_paths([root], root).ok


def test_approving_an_unknown_id_names_the_pending_ones(tmp_path: Path) -> None:
    root = knowledge(tmp_path)
    PendingFaq(root).add("cafe", suggestion())
    with pytest.raises(KnowledgeError, match=r"'nope'.*pending: sell-gift-cards"):
        PendingFaq(root).approve("nope")


def test_approve_after_a_stop_between_the_two_writes_finishes_the_move(tmp_path: Path) -> None:
    root = knowledge(tmp_path)
    pending = PendingFaq(root)
    pending.add("cafe", suggestion())
    pending_text = (root / "cafe" / "pending.yaml").read_text(encoding="utf-8")
    pending.approve("sell-gift-cards")
    (root / "cafe" / "pending.yaml").write_text(pending_text, encoding="utf-8")  # as if stopped
    report = check_paths([root], root)
    assert any("used twice" in f.message for f in report.errors)
    pending.approve("sell-gift-cards")
    live = (root / "cafe" / LIVE_FILE).read_text(encoding="utf-8")
    assert live.count("id: sell-gift-cards") == 1
    assert check_paths([root], root).ok


def test_bots_check_reads_pending_files_and_places_their_mistakes(tmp_path: Path) -> None:
    root = knowledge(tmp_path)
    (root / "cafe" / "pending.yaml").write_text(
        "entries:\n  - id: x\n    question: Q?\n    answr: typo\n", encoding="utf-8"
    )
    report = check_paths([root], root)
    messages = [f.describe() for f in report.errors]
    assert any("pending.yaml:4" in m and "did you mean `answer`" in m for m in messages), messages
    # ... but the bot itself never reads it, so a broken suggestion cannot stop it.
    assert [e.id for e in load_knowledge(root, ["cafe"])] == ["wifi"]


def test_from_is_only_allowed_in_pending_files(tmp_path: Path) -> None:
    root = knowledge(tmp_path)
    (root / "cafe" / "more.yaml").write_text(
        "entries:\n  - id: y\n    question: Q?\n    answer: A\n    from: {thread: t}\n",
        encoding="utf-8",
    )
    assert any(
        "`from`" in f.describe() or "from" in (f.field or "")
        for f in check_paths([root], root).errors
    )


def test_writing_through_a_link_is_refused(tmp_path: Path) -> None:
    root = knowledge(tmp_path)
    outside = tmp_path / "outside.yaml"
    outside.write_text("entries: []\n", encoding="utf-8")
    (root / "cafe" / "pending.yaml").symlink_to(outside)
    with pytest.raises(KnowledgeError, match="link"):
        PendingFaq(root).add("cafe", suggestion())
    assert outside.read_text(encoding="utf-8") == "entries: []\n"


def test_pending_file_names() -> None:
    assert is_pending_file(Path("k/cafe/pending.yaml"))
    assert is_pending_file(Path("k/cafe/staff.pending.yaml"))
    assert not is_pending_file(Path("k/cafe/faq.yaml"))
    assert pending_name("staff.pending.yaml") == "staff.pending.yaml"
    with pytest.raises(KnowledgeError, match=r"must be called pending\.yaml"):
        pending_name("suggestions.yaml")
    with pytest.raises(KnowledgeError):
        pending_name("../x.pending.yaml")
