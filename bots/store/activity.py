"""What the store records about retrieval, and reads back for `bots report`: frozen rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class RetrievalOutcome:
    """How well the knowledge matched one user question (one row per question and message).

    The question's text is not copied here: the report reads it from the message itself, so
    retention and `bots forget` remove it in one place.
    """

    message_id: str
    """The platform id of the question's message (its turn in the conversation)."""
    entry_id: str | None
    """The best knowledge entry, or None when no entry matched at all."""
    confidence: float
    confident: bool
    """Whether the best entry was good enough to answer from (see `RetrievalResult`)."""
    at: datetime


@dataclass(frozen=True, slots=True)
class ConversationCounts:
    """Conversations started in the period that the bot answered or handed over."""

    total: int = 0
    answered: int = 0
    """Where the bot wrote at least once (an "I don't know" or a hand-off notice included)."""
    handed_off: int = 0
    thumbs_down: int = 0
    unanswered: int = 0
    """Ending on the bot's "I don't know" (or a limit), a person offered but not taken."""
    resolved: int = 0
    """Answered, never handed to people, no thumbs-down, and not ending on "I don't know"."""


@dataclass(frozen=True, slots=True)
class HandoffTimes:
    """One hand-off requested in the period: why, and when people took or closed it."""

    reason: str
    requested_at: datetime
    claimed_at: datetime | None
    resolved_at: datetime | None


@dataclass(frozen=True, slots=True)
class ModelUsage:
    """Tokens the model calls of the period spent, for one model (from the usage ledger)."""

    model: str
    calls: int
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True, slots=True)
class UnmatchedQuestion:
    """A question of the period with no confident knowledge match, and its best guess."""

    text: str
    entry_id: str | None
    confidence: float
    at: datetime


@dataclass(frozen=True, slots=True)
class UngroundedAnswer:
    """A model answer stating facts (figures, times, prices, addresses, links) that none of
    its retrieved snippets holds (migration 5). The text is the answer's own turn."""

    conversation_id: str
    persona: str
    text: str
    facts: tuple[str, ...]
    at: datetime


@dataclass(frozen=True, slots=True)
class Activity:
    """Everything `bots report` needs about one period, read in one consistent snapshot."""

    conversations: ConversationCounts
    handoffs: tuple[HandoffTimes, ...]
    thumbs_up: int
    thumbs_down: int
    questions: int
    """User questions whose retrieval was recorded in the period."""
    matched: int
    """Of those, how many had a confident knowledge match."""
    unmatched: tuple[UnmatchedQuestion, ...]
    """Newest first, at most the `unmatched_limit` asked for; text still kept only."""
    usage: tuple[ModelUsage, ...]


@dataclass(frozen=True, slots=True)
class EntryUse:
    """How often one persona's answers were grounded in one knowledge entry (migration 9)."""

    persona: str
    entry_id: str
    answers: int
    last_used: datetime
