"""The `/support` slash command: a thread's hand-off state, and staff actions on it.

Slack does not send slash commands from inside threads (its docs: "Slash Commands cannot be
used in message threads"), and a command's payload names only the channel. So the thread is
named by its link, which anyone gets from a message's **Copy link**:

    /support <thread link>                 the thread's state
    /support handoff <thread link> [why]   staff: give the thread to the team
    /support claim <thread link>           staff: take it
    /support resolve <thread link>         staff: hand it back to the bot

The answer is private to whoever typed the command (an ephemeral response).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bots.models import ConversationState, EngineEvent, Silent, ThreadKey
from bots.turn.engine import Engine

ACTIONS = ("status", "handoff", "claim", "resolve")
STAFF_ACTIONS = frozenset({"handoff", "claim", "resolve"})
_ARCHIVES = re.compile(r"/archives/([A-Z0-9]+)/p(\d{7,})$")

USAGE = (
    "Usage: `/support <thread link>` shows a thread's state; the support team can also use "
    "`/support handoff <thread link> [reason]`, `/support claim <thread link>` and "
    "`/support resolve <thread link>`. Get a thread's link from its first message: "
    "*⋮ More actions* > *Copy link*. (Slack does not send slash commands from inside threads, "
    "so the link says which thread.)"
)
DONE = {
    "handoff": "Handed to the team: the user was told and the support channel notified.",
    "claim": "The thread is yours; the assistant stays quiet there.",
    "resolve": "Handed back to the assistant; the user was told.",
}
STATE_WORDS = {
    None: "The assistant has not been asked anything in that thread.",
    ConversationState.BOT: "The assistant is answering in that thread.",
    ConversationState.WAITING_FOR_HUMAN: "That thread is waiting for someone from the team.",
    ConversationState.HUMAN: "Someone from the team has that thread; the assistant is quiet.",
    ConversationState.RESOLVED: "The team handed that thread back; the assistant answers again.",
}


@dataclass(frozen=True, slots=True)
class Command:
    action: str
    key: ThreadKey
    reason: str = ""


def parse(text: str, workspace: str) -> Command | str:
    """A `/support` command's text as a `Command`, or what to tell the user instead."""
    words = text.split()
    if not words or words[0].lower() in ("help", "?"):
        return USAGE
    action = words[0].lower()
    if action in ACTIONS:
        words = words[1:]
    else:
        action = "status"
    if not words:
        return f"Which thread? Add its link. {USAGE}"
    key = thread_from_link(words[0], workspace)
    if key is None:
        return f"That is not a link to a Slack message: `{_clip(words[0])}`. {USAGE}"
    return Command(action, key, " ".join(words[1:]))


def thread_from_link(link: str, workspace: str) -> ThreadKey | None:
    """The thread a message link points into (`?thread_ts=` when it is a reply)."""
    link = link.strip("<>").split("|", 1)[0]
    parts = urlsplit(link)
    found = _ARCHIVES.search(parts.path)
    if parts.scheme not in ("http", "https") or found is None:
        return None
    channel, digits = found.group(1), found.group(2)
    ts = f"{digits[:-6]}.{digits[-6:]}"
    thread = (parse_qs(parts.query).get("thread_ts") or [ts])[0]
    if not re.fullmatch(r"\d+\.\d+", thread):
        return None
    return ThreadKey("slack", workspace, channel, thread)


def _clip(text: str) -> str:
    cleaned = text.replace("`", "'")
    return cleaned if len(cleaned) <= 80 else cleaned[:79] + "…"


async def answer(
    body: dict[str, Any],
    engine: Engine,
    is_staff: Callable[[str], Awaitable[bool]] | None,
    render: Callable[[EngineEvent, ThreadKey], Awaitable[None]],
) -> str:
    """Carry out one `/support` command (its request `body`); what to tell whoever typed it."""
    text, team = str(body.get("text") or ""), str(body.get("team_id") or "")
    parsed = parse(text, team)
    if isinstance(parsed, str):
        return parsed
    key, user = parsed.key, str(body.get("user_id") or "")
    if parsed.action == "status":
        return STATE_WORDS[await engine.state(key)]
    if is_staff is not None and not await is_staff(user):
        return (
            "Sorry, only the support team can hand off, claim or resolve threads. "
            "`/support <thread link>` shows a thread's state."
        )
    if parsed.action == "handoff":
        event = await engine.staff_handoff(key, user, parsed.reason)
    elif parsed.action == "claim":
        event = await engine.claim(key, user)
    else:
        event = await engine.resolve(key, user)
    if isinstance(event, Silent):
        state = STATE_WORDS[await engine.state(key)]
        return f"Nothing to do. {state}"
    await render(event, key)
    return DONE[parsed.action]
