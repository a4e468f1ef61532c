"""What every help desk offers the bot: tickets, comments, what agents wrote, and its errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

Opened = Callable[[str], Awaitable[None]]
"""Told the ticket's id the moment the desk has made it."""


@dataclass(frozen=True, slots=True)
class Requester:
    """The person the ticket is for: the chat user, with what is known of them."""

    user_id: str
    name: str = ""
    email: str = ""


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    """One message of the conversation as the desk shows it."""

    who: str
    """"user", "assistant" or "staff"."""
    text: str
    sources: tuple[str, ...] = ()
    """The knowledge the assistant's answer cited: "title (url)" or "title"."""


@dataclass(frozen=True, slots=True)
class TicketRequest:
    """Everything a desk needs to open a ticket for one hand-off."""

    conversation_id: str
    subject: str
    transcript: tuple[TranscriptLine, ...]
    summary: tuple[str, ...]
    requester: Requester
    tags: tuple[str, ...]
    priority: str
    """Zendesk's words: low, normal, high or urgent."""
    link: str | None = None
    """Where the chat thread is, for the agent."""


@dataclass(frozen=True, slots=True)
class AgentReply:
    """A public reply an agent wrote in the desk, to be posted into the chat thread."""

    reply_id: str
    author_name: str
    text: str


@dataclass(frozen=True, slots=True)
class TicketState:
    """What the desk says about a ticket now: its agents' public replies, and if it is done."""

    replies: tuple[AgentReply, ...]
    solved: bool
    solved_by: str = ""


class DeskUnavailable(Exception):
    """The desk is down, timed out or rate-limited us: try again later (`retry_after` s).

    `str()` is the status or the exception type only: never a body, a URL or a token.
    """

    def __init__(self, what: str, retry_after: float | None = None) -> None:
        super().__init__(what)
        self.retry_after = retry_after


class DeskRefused(Exception):
    """The desk refused the call for good (a 4xx other than 429): retrying cannot help."""


class DeskClient(Protocol):
    """One help desk's API, as the outbox and the relay use it."""

    @property
    def name(self) -> str:
        """ "zendesk" or "chatwoot": the name in settings, tags and the store."""

    @property
    def label(self) -> str:
        """The desk's name for people ("Zendesk")."""

    async def create_ticket(
        self, request: TicketRequest, *, key: str, existing: str | None, opened: Opened
    ) -> str:
        """Open the ticket with the transcript; its id. Safe to call again after a failure:

        `key` is the same on every try (a desk that can look tickets up by it finds the one
        an earlier try made); `existing` is the ticket an earlier try already reported to
        `opened`, which is awaited as soon as the ticket exists, before the transcript is
        added, so that a try failing halfway finishes that ticket rather than making another.
        """

    async def add_comment(self, ticket_id: str, who: str, text: str) -> None:
        """Add a chat message (`who`: "user" or "staff") to the ticket."""

    async def ticket_state(self, ticket_id: str) -> TicketState:
        """The ticket's agents' public replies (oldest first) and whether it is solved."""

    async def delete_ticket(self, ticket_id: str) -> None:
        """Delete the ticket in the desk (only when asked for: `bots forget`)."""

    def ticket_link(self, ticket_id: str) -> str:
        """The ticket's page in the desk, for the team's notice."""

    async def aclose(self) -> None: ...
