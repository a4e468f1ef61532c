"""Message shortcuts on Slack: "Ask <bot> about this" and "Hand to support" on any message.

Slack sends a `message_action` interaction with the shortcut's `callback_id`, the `message`
(its `ts`, `thread_ts`, `user`, `text`), the `channel`, the `user` who used it and the `team`.
Each is acknowledged first (Slack wants it within 3 seconds); the work follows.

"Ask" answers the message in its thread (the message's own thread, or a new one on it) as if
its author had asked, and says who asked for it. "Hand to support" is staff-only and hands
that thread to the team. Both work in the assistant pane too, where slash commands do not.
Refusals are ephemeral, to the one who used the shortcut.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from bots.adapters.slack import formatting as fmt
from bots.models import EngineEvent, HandoffRequested, IncomingMessage, ThreadKey
from bots.turn.engine import Engine

PLATFORM = "slack"
ASK_CALLBACK = "bots_ask_about_message"
HANDOFF_CALLBACK = "bots_hand_to_support"
EXCERPT = 300
"""How much of a handed-over message the team's notice quotes."""


class MessageShortcuts:
    """The two shortcuts; the adapter supplies turns, rendering and Web API calls."""

    def __init__(
        self,
        engine: Engine,
        *,
        is_staff: Callable[[str], Awaitable[bool]] | None,
        run_turn: Callable[[IncomingMessage], Awaitable[None]],
        render: Callable[[EngineEvent, ThreadKey], Awaitable[None]],
        say: Callable[[ThreadKey, str], Awaitable[None]],
        call: Callable[..., Awaitable[dict[str, Any] | None]],
    ) -> None:
        self._engine = engine
        self._is_staff = is_staff
        self._run_turn = run_turn
        self._render = render
        self._say = say
        self._call = call

    async def ask(self, body: dict[str, Any], bot_user_id: str | None) -> None:
        found = _target(body)
        if found is None:
            return
        key, message, who = found
        author = str(message.get("user") or "")
        if message.get("bot_id") or not author or author == bot_user_id:
            await self._tell(key, who, "I only answer messages from people.")
            return
        text = str(message.get("text") or "")
        if bot_user_id:
            text = re.sub(rf"<@{re.escape(bot_user_id)}>\s*", "", text)
        if not text.strip():
            await self._tell(key, who, "That message has no text for me to answer.")
            return
        line = (
            f"{fmt.user_mention(who)} asked me to answer this."
            if who == author
            else f"{fmt.user_mention(who)} asked me to answer {fmt.user_mention(author)}'s message."
        )
        await self._say(key, line)
        staff = await self._is_staff(author) if self._is_staff is not None else False
        incoming = IncomingMessage(
            key=key,
            author_id=author,
            text=text,
            message_id=str(message["ts"]),
            is_staff=staff,
            addressed_to_bot=True,
        )
        await self._run_turn(incoming)

    async def hand_to_support(self, body: dict[str, Any]) -> None:
        found = _target(body)
        if found is None:
            return
        key, message, who = found
        if self._is_staff is not None and not await self._is_staff(who):
            await self._tell(key, who, "Only the support team can hand messages to support.")
            return
        author = fmt.user_mention(str(message.get("user") or "someone"))
        excerpt = str(message.get("text") or "")[:EXCERPT]
        reason = f"a message from {author}: {excerpt}".strip()
        event = await self._engine.staff_handoff(key, who, reason)
        if isinstance(event, HandoffRequested):
            await self._render(event, key)
        else:
            await self._tell(key, who, "The team already has this thread.")

    async def _tell(self, key: ThreadKey, user: str, text: str) -> None:
        await self._call(
            "chat_postEphemeral", channel=key.channel, user=user, thread_ts=key.thread, text=text
        )


def _target(body: dict[str, Any]) -> tuple[ThreadKey, dict[str, Any], str] | None:
    """The message's thread key, the message and who used the shortcut (None: not usable)."""
    message = body.get("message") or {}
    channel = str((body.get("channel") or {}).get("id") or "")
    team = str((body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id") or "")
    who = str((body.get("user") or {}).get("id") or "")
    if not message.get("ts") or not channel or not who:
        return None
    thread = str(message.get("thread_ts") or message["ts"])
    return ThreadKey(PLATFORM, team, channel, thread), message, who
