"""Frozen value objects that cross module boundaries: messages in, engine events out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from urllib.parse import quote


@dataclass(frozen=True, slots=True)
class ThreadKey:
    """Where a conversation lives. Platform ids are opaque strings: the core never parses them."""

    platform: str
    workspace: str
    channel: str
    thread: str

    def as_id(self) -> str:
        """A stable, printable conversation id (also the store's key); parts are %-escaped."""
        return "/".join(quote(part, safe="") for part in self.astuple())

    def astuple(self) -> tuple[str, str, str, str]:
        return (self.platform, self.workspace, self.channel, self.thread)


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file attached to a message, as the adapter downloaded it from the platform's own host.

    `content` is empty when the file was not downloaded; `skipped` then says why in a few
    words ("too large", "type not read", "download failed"), for the model and the user."""

    name: str
    media_type: str
    size: int
    content: bytes = b""
    skipped: str = ""

    @property
    def is_image(self) -> bool:
        return self.media_type.startswith("image/")


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """One user (or staff) message, already translated from the platform's event."""

    key: ThreadKey
    author_id: str
    text: str
    message_id: str
    author_name: str = ""
    is_staff: bool = False
    addressed_to_bot: bool = False
    """The message names the bot (a mention, a DM): a staff member asking the bot, not the user."""
    attachments: tuple[Attachment, ...] = ()
    """Files that came with the message (screenshots, logs), already downloaded and checked
    against the size and type limits (`bots.turn.attachments`)."""


@dataclass(frozen=True, slots=True)
class Requester:
    """The person a help-desk ticket is for: the chat user, with what is known of them.

    Built at hand-off time (bots/desks/requester.py) from the platform's profile; an intake
    form's e-mail can be laid over it with `with_email`.
    """

    user_id: str
    name: str = ""
    """The name the platform shows (Slack display or real name, Discord display name)."""
    email: str = ""
    """Only when the user gave it or the operator allowed sharing it (never guessed)."""

    def with_email(self, email: str) -> Requester:
        """This person with `email` (e.g. from an intake form) when it looks like one."""
        email = email.strip()
        if "@" not in email.strip("@") or any(c.isspace() for c in email):
            return self
        return Requester(self.user_id, self.name, email)


class ConversationState(StrEnum):
    BOT = "bot"
    WAITING_FOR_HUMAN = "waiting_for_human"
    HUMAN = "human"
    RESOLVED = "resolved"


class Role(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    STAFF = "staff"
    NOTE = "note"


@dataclass(frozen=True, slots=True)
class Turn:
    """One recorded message of a conversation."""

    role: Role
    text: str
    author_id: str
    message_id: str
    created_at: datetime
    token_count: int
    cited_ids: tuple[str, ...] = ()
    answer_due: datetime | None = None
    """For a user message being answered: when its turn's deadline (plus a little grace) has
    passed. Until then no process treats the message as interrupted (`Engine.interrupted`)."""
    reply_id: str | None = None
    """For a user message: the platform id of the message its answer began streaming into,
    so that a restart can mark a half-streamed answer a dead process left behind."""


@dataclass(frozen=True, slots=True)
class Conversation:
    id: str
    key: ThreadKey
    persona: str
    state: ConversationState
    created_at: datetime
    updated_at: datetime
    failed_turns: int = 0
    """Consecutive turns the bot could not answer from its knowledge."""
    offer_reason: str | None = None
    """Set while the bot's last message offered a person (why it did); a "yes" accepts."""


@dataclass(frozen=True, slots=True)
class Handoff:
    """One hand-off of a conversation to people, from request to hand-back."""

    id: int
    conversation_id: str
    reason: str
    detail: str
    summary: tuple[str, ...]
    requested_at: datetime
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    reminded_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
        )


@dataclass(frozen=True, slots=True)
class UsageEntry:
    """Tokens one model call spent, for whom and where: one row of the durable usage ledger."""

    at: datetime
    user_id: str
    channel: str
    """The channel's id: `ThreadKey.as_id()` of (platform, workspace, channel) without a thread."""
    conversation_id: str
    model: str
    usage: Usage

    @property
    def day(self) -> date:
        """The UTC day the tokens count against (budgets reset at midnight UTC)."""
        return self.at.astimezone(UTC).date()


@dataclass(frozen=True, slots=True)
class Forgotten:
    """What `forget_conversation` / `forget_user` removed, counted for the operator."""

    conversations: int = 0
    turns: int = 0
    handoffs: int = 0
    feedback: int = 0
    events: int = 0
    usage_rows: int = 0
    """Usage-ledger rows kept for cost reports but no longer naming the user."""
    desk_tickets: tuple[str, ...] = ()
    """Help-desk tickets the conversations had, as `desk:ticket id`: their link is gone here,
    the tickets themselves stay in the desk unless deleting them remotely was asked for."""

    def __add__(self, other: Forgotten) -> Forgotten:
        return Forgotten(
            self.conversations + other.conversations,
            self.turns + other.turns,
            self.handoffs + other.handoffs,
            self.feedback + other.feedback,
            self.events + other.events,
            self.usage_rows + other.usage_rows,
            self.desk_tickets + other.desk_tickets,
        )


@dataclass(frozen=True, slots=True)
class Citation:
    """A knowledge entry a reply was grounded in, for adapters to show as a source."""

    entry_id: str
    title: str
    url: str | None = None


class ReplySource(StrEnum):
    LLM = "llm"
    KNOWLEDGE = "knowledge"
    FALLBACK = "fallback"


class HandoffReason(StrEnum):
    USER_ASKED = "user_asked"
    MODEL_TOOL = "model_tool"
    NO_ANSWER = "no_answer"
    LLM_UNAVAILABLE = "llm_unavailable"
    FEEDBACK = "feedback"
    STAFF = "staff"
    LIMIT = "limit"

    @property
    def label(self) -> str:
        """The reason in plain words, as every adapter shows it to people."""
        return _HANDOFF_REASON_LABELS[self]


_HANDOFF_REASON_LABELS = {
    HandoffReason.USER_ASKED: "a person was asked for",
    HandoffReason.MODEL_TOOL: "the assistant could not help",
    HandoffReason.NO_ANSWER: "no answer in the knowledge base",
    HandoffReason.LLM_UNAVAILABLE: "the answering service is down",
    HandoffReason.FEEDBACK: "the answer did not help",
    HandoffReason.STAFF: "the team took it",
    HandoffReason.LIMIT: "a usage limit was reached",
}


@dataclass(frozen=True, slots=True)
class HandoffRecord:
    """What the support team gets when a thread is handed to them."""

    conversation_id: str
    key: ThreadKey
    persona: str
    user_id: str
    reason: HandoffReason
    detail: str
    summary: tuple[str, ...]
    """About three short lines: what the user wants and what happened so far."""
    last_messages: tuple[tuple[str, str], ...]
    """The latest turns as (who, text), oldest first: "user", "assistant" or "staff"."""
    requested_at: datetime
    out_of_hours: bool = False
    link: str | None = None
    """Where the thread is, as a web link, when the platform adapter can make one."""


class SilenceReason(StrEnum):
    DUPLICATE = "duplicate"
    HUMAN_OWNS_THREAD = "human_owns_thread"
    EMPTY = "empty"
    NOT_HANDED_OFF = "not_handed_off"
    STAFF_MESSAGE = "staff_message"
    # One of several quick messages: the last of the burst answers them all, together.
    MERGED_INTO_NEXT = "merged_into_next"


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the reply as it streams in; the FinalReply that follows is authoritative."""

    text: str


@dataclass(frozen=True, slots=True)
class FinalReply:
    """The complete reply. Adapters that streamed deltas replace them with this text."""

    text: str
    source: ReplySource
    citations: tuple[Citation, ...] = ()
    usage: Usage = field(default_factory=Usage)
    ungrounded: tuple[str, ...] = ()
    """Facts the model stated (figures, times, prices, addresses, links) that none of the
    retrieved snippets holds, as written: the live grounding check (`bots.grounding`)."""


@dataclass(frozen=True, slots=True)
class HandoffRequested:
    """The thread goes to a person: tell the user `message`, send `record` to the team."""

    reason: HandoffReason
    detail: str
    message: str
    record: HandoffRecord | None = None


@dataclass(frozen=True, slots=True)
class HandoffClaimed:
    """A staff member took the thread (claim command, or wrote in it): the bot stays quiet."""

    key: ThreadKey
    staff_id: str


@dataclass(frozen=True, slots=True)
class HandoffResolved:
    """Staff handed the thread back (or it went quiet): tell the user `message`."""

    key: ThreadKey
    staff_id: str | None
    message: str
    staff_answered: bool = False
    """Someone from the team wrote in the thread during the hand-off: adapters offer "Save
    as FAQ" (bots.turn.faq_suggestions)."""


@dataclass(frozen=True, slots=True)
class HandoffReminder:
    """A hand-off is still unclaimed after the persona's reminder delay."""

    record: HandoffRecord
    waiting_minutes: int


@dataclass(frozen=True, slots=True)
class Silent:
    why: SilenceReason


@dataclass(frozen=True, slots=True)
class StaleReply:
    """A reply a dead process left half-streamed in the thread, as platform message
    `message_id`: adapters stop its stream and replace its text with `text` (the persona's
    cut-short note). The new answer follows."""

    message_id: str
    text: str


@dataclass(frozen=True, slots=True)
class StaffReply:
    """A person of the support team answered from a help desk (bots/desks): adapters post
    `text` into the thread, under `author_name` and `desk` ("Zendesk"); the bot stays quiet."""

    key: ThreadKey
    author_name: str
    text: str
    desk: str


EngineEvent = (
    TextDelta
    | FinalReply
    | HandoffRequested
    | HandoffClaimed
    | HandoffResolved
    | HandoffReminder
    | Silent
    | StaleReply
    | StaffReply
)


def thread_of(event: EngineEvent) -> ThreadKey | None:
    """The thread a timed event from `Engine.tick` is about (None for the other events)."""
    if isinstance(event, HandoffReminder):
        return event.record.key
    if isinstance(event, HandoffClaimed | HandoffResolved | StaffReply):
        return event.key
    return None


@dataclass(frozen=True, slots=True)
class IntakeAnswer:
    """One answer of the intake form (the persona's `intake.fields`)."""

    field_id: str
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class IntakeDetails:
    """What the asker told the team in the intake form, for the notice, webhook and store."""

    conversation_id: str
    key: ThreadKey
    persona: str
    user_id: str
    answers: tuple[IntakeAnswer, ...]
    submitted_at: datetime
