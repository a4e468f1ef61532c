"""The forum tag policy: stage tags by name, exclusive, never none where a tag is required."""

from __future__ import annotations

from bots.handoff.forum import PostStage, Tag, retag, stage_after
from bots.knowledge.forum_settings import ForumTagNames
from bots.models import (
    FinalReply,
    HandoffClaimed,
    HandoffReason,
    HandoffRequested,
    HandoffResolved,
    ReplySource,
    ThreadKey,
)

NAMES = ForumTagNames()
TAGS = [Tag("1", "Unsolved"), Tag("2", "waiting  for STAFF"), Tag("3", "solved"), Tag("4", "bug")]
KEY = ThreadKey("discord", "1", "2", "2")


def test_the_stage_tag_replaces_the_other_stage_tags_and_keeps_the_forums_own() -> None:
    assert retag(["1", "4"], TAGS, PostStage.WAITING, NAMES, required=False) == ("2", "4")
    assert retag(["2", "4"], TAGS, PostStage.SOLVED, NAMES, required=False) == ("3", "4")
    assert retag([], TAGS, PostStage.UNSOLVED, NAMES, required=False) == ("1",)


def test_no_change_is_none() -> None:
    assert retag(["4", "1"], TAGS, PostStage.UNSOLVED, NAMES, required=True) is None


def test_a_forum_without_the_stage_tag_only_loses_the_other_stage_tags() -> None:
    tags = [Tag("1", "unsolved"), Tag("4", "bug")]
    assert retag(["1", "4"], tags, PostStage.SOLVED, NAMES, required=False) == ("4",)
    assert retag(["1"], tags, PostStage.SOLVED, NAMES, required=False) == ()


def test_a_forum_that_requires_a_tag_is_never_left_without_one() -> None:
    tags = [Tag("1", "unsolved"), Tag("4", "bug")]
    assert retag(["1"], tags, PostStage.SOLVED, NAMES, required=True) is None


def test_at_most_five_tags_and_the_stage_tag_is_among_them() -> None:
    many = [*TAGS, *(Tag(str(n), f"t{n}") for n in range(5, 10))]
    result = retag(["5", "6", "7", "8", "9"], many, PostStage.UNSOLVED, NAMES, required=False)
    assert result is not None
    assert len(result) == 5
    assert result[0] == "1"


def test_names_come_from_the_persona() -> None:
    names = ForumTagNames(unsolved="bug")
    assert retag([], TAGS, PostStage.UNSOLVED, names, required=False) == ("4",)


def test_stages_follow_the_hand_off() -> None:
    assert stage_after(HandoffRequested(HandoffReason.USER_ASKED, "", "ok")) is PostStage.WAITING
    assert stage_after(HandoffClaimed(KEY, "9")) is PostStage.WAITING
    assert stage_after(HandoffResolved(KEY, "9", "back")) is PostStage.SOLVED
    assert stage_after(HandoffResolved(KEY, None, "back")) is PostStage.UNSOLVED
    assert stage_after(FinalReply("hi", ReplySource.LLM)) is PostStage.UNSOLVED
