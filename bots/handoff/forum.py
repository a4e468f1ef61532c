"""Forum help desks, platform-neutral: the tag a post wears at each stage, and when to nudge.

A forum post moves through three stages that follow its hand-off state: `unsolved` while the
assistant has it, `waiting` once it is handed to the team (requested or claimed), `solved` once
the team resolves it or the asker presses Solved. The persona names the forum's tags for each
stage; `retag` works out the post's new tags from what the forum offers, keeping the three
mutually exclusive, never touching tags the stages do not own, and never leaving a forum that
requires a tag without one (Discord refuses that with error 40067).

The nudge: once the assistant has answered and the asker has said nothing for the persona's
quiet period, the asker is asked once whether it helped. What was said is the record: the
nudge, and the solved notice, are stored as the assistant's turns with their own author ids,
so a restart neither nudges twice nor nudges a solved post, and no new table is needed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bots.knowledge.forum_settings import ForumSettings, ForumTagNames
from bots.models import (
    ConversationState,
    EngineEvent,
    FinalReply,
    HandoffClaimed,
    HandoffRequested,
    HandoffResolved,
    Role,
    ThreadKey,
    Turn,
)
from bots.store import Store

NUDGE_AUTHOR = "bots:nudge"
"""The author id of a stored nudge: the asker was asked whether the answer helped."""
SOLVED_AUTHOR = "bots:solved"
"""The author id of a stored solved notice: nobody is nudged about a solved post."""
TAG_LIMIT = 5
"""Discord applies at most five tags to a post."""
LOOK_BACK = timedelta(days=30)
"""Posts quiet for longer than this (plus the quiet period) are not nudged any more."""


class PostStage(StrEnum):
    UNSOLVED = "unsolved"
    WAITING = "waiting"
    SOLVED = "solved"


@dataclass(frozen=True, slots=True)
class Tag:
    """One of a forum's tags: its platform id and the name people see."""

    id: str
    name: str


def stage_after(event: EngineEvent) -> PostStage | None:
    """The stage a post reaches with this engine event (None: the event changes nothing).

    A hand-back after quiet (no staff member) returns the post to the assistant, unsolved:
    nobody said it was solved."""
    if isinstance(event, HandoffRequested | HandoffClaimed):
        return PostStage.WAITING
    if isinstance(event, HandoffResolved):
        return PostStage.SOLVED if event.staff_id else PostStage.UNSOLVED
    if isinstance(event, FinalReply):
        return PostStage.UNSOLVED
    return None


def stage_of(state: ConversationState) -> PostStage:
    """The stage that a conversation state stands for (a post's tags after a restart)."""
    if state in (ConversationState.WAITING_FOR_HUMAN, ConversationState.HUMAN):
        return PostStage.WAITING
    return PostStage.UNSOLVED


def tag_name(names: ForumTagNames, stage: PostStage) -> str:
    return {
        PostStage.UNSOLVED: names.unsolved,
        PostStage.WAITING: names.waiting,
        PostStage.SOLVED: names.solved,
    }[stage]


def _normal(name: str) -> str:
    return " ".join(name.casefold().split())


def retag(
    current: Sequence[str],
    available: Iterable[Tag],
    stage: PostStage,
    names: ForumTagNames,
    *,
    required: bool,
) -> tuple[str, ...] | None:
    """The post's tag ids for `stage`, or None when they stay as they are.

    Tags are matched by name, ignoring case and spacing. The stage's tag replaces the other
    stages' tags; a forum without a tag of that name only loses the other stages' tags, and
    not even those when it requires a tag and nothing else would be left."""
    by_name: dict[str, str] = {}
    for tag in available:
        by_name.setdefault(_normal(tag.name), tag.id)
    owned = {
        by_name[n]
        for n in map(_normal, (names.unsolved, names.waiting, names.solved))
        if n in by_name
    }
    target = by_name.get(_normal(tag_name(names, stage)))
    kept = [tag for tag in current if tag not in owned]
    wanted = ([target] if target else []) + kept
    wanted = list(dict.fromkeys(wanted))[:TAG_LIMIT]
    if not wanted and required:
        return None  # the post keeps the tag it has: a forum that requires one refuses none
    if set(wanted) == set(current):
        return None
    return tuple(wanted)


@dataclass(frozen=True, slots=True)
class Nudge:
    """A forum post whose asker is due the question whether the answer helped."""

    key: ThreadKey
    conversation_id: str
    persona: str


class Nudges:
    """Finds the posts due a nudge and records the nudges and solved notices as turns."""

    def __init__(
        self,
        store: Store,
        settings_of: Callable[[str], ForumSettings],
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._settings_of = settings_of
        self._clock = clock

    async def due(
        self, personas: Iterable[str], is_post: Callable[[ThreadKey], bool]
    ) -> list[Nudge]:
        """Posts (`is_post`: an open forum post of this platform) where the assistant spoke
        last, long enough ago, and that were neither nudged nor solved since."""
        periods = [self._settings_of(p).nudge_after_minutes for p in personas]
        shortest = min((m for m in periods if m > 0), default=0)
        if shortest <= 0:
            return []
        now = self._clock()
        quiet = await self._store.quiet_conversations(
            ConversationState.BOT, now - timedelta(minutes=shortest)
        )
        found: list[Nudge] = []
        for conversation in quiet:
            minutes = self._settings_of(conversation.persona).nudge_after_minutes
            since = now - conversation.updated_at
            if minutes <= 0 or since < timedelta(minutes=minutes):
                continue
            if since > LOOK_BACK + timedelta(minutes=minutes) or not is_post(conversation.key):
                continue
            last = await self._store.recent_turns(conversation.id, 1)
            if not last or last[-1].role != Role.ASSISTANT:
                continue
            if last[-1].author_id in (NUDGE_AUTHOR, SOLVED_AUTHOR):
                continue
            found.append(Nudge(conversation.key, conversation.id, conversation.persona))
        return found

    async def nudged(self, nudge: Nudge, text: str, message_id: str) -> None:
        """Record the nudge that was posted, so it is never posted again for this silence."""
        await self._record(nudge.conversation_id, text, message_id, NUDGE_AUTHOR)

    async def solved(self, key: ThreadKey, text: str, message_id: str) -> None:
        """Record that the post was marked solved (no nudge follows)."""
        conversation = await self._store.get_conversation(key)
        if conversation is not None:
            await self._record(conversation.id, text, message_id, SOLVED_AUTHOR)

    async def _record(self, conversation_id: str, text: str, message_id: str, author: str) -> None:
        turn = Turn(
            role=Role.ASSISTANT,
            text=text,
            author_id=author,
            message_id=message_id,
            created_at=self._clock(),
            token_count=0,
        )
        await self._store.append_turn(conversation_id, turn)
