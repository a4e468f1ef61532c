"""Staff and a person in the assistant pane talking through the bot, after a hand-off.

A pane chat is a thread in the person's DM with the app: nobody else can read or write in
it, so the team's usual way (replying in the thread) cannot work there. Instead the team
replies in the thread of the hand-off notice in the support channel; the bot passes each
reply into the pane chat, signed with the staff member's name, and passes the person's
answers back under the notice. The engine sees the staff reply as a staff message in the
pane's conversation (so it claims a waiting hand-off and is kept in the history), and the
person's messages as usual while people have the thread (kept, not answered by the bot).

Only DM conversations are relayed: in a channel thread staff simply reply there. The notice
is found by the thread key the bot keeps for it (`SupportPosts`), or, after a restart, by
the metadata on the notice itself (`conversations.history` at the notice's ts).
"""

from __future__ import annotations

import logging
from typing import Any

from bots.adapters.slack import formatting as fmt
from bots.adapters.slack.send import Sender
from bots.adapters.slack.support_posts import METADATA_TYPE
from bots.adapters.slack.team import SupportTeam
from bots.models import IncomingMessage, ThreadKey

log = logging.getLogger(__name__)


def is_private_chat(key: ThreadKey) -> bool:
    """A DM with the app (the pane's chats are DMs): staff cannot write in it themselves."""
    return key.channel.startswith("D")


class Relay:
    """Finds the pane chat a support-thread reply is for, and carries messages both ways."""

    def __init__(self, send: Sender, team: SupportTeam) -> None:
        self._send = send
        self._team = team

    async def chat_of(self, channel: str, notice_ts: str) -> ThreadKey | None:
        """The private chat whose hand-off notice is `notice_ts` in `channel`, if any."""
        key = self._team.posts.key_of(channel, notice_ts)
        if key is None:
            key = await self._from_metadata(channel, notice_ts)
        return key if key is not None and is_private_chat(key) else None

    async def _from_metadata(self, channel: str, ts: str) -> ThreadKey | None:
        page = await self._send.call(
            "conversations_history",
            channel=channel,
            latest=ts,
            inclusive=True,
            limit=1,
            include_all_metadata=True,
        )
        for message in (page.data or {}).get("messages") or []:
            metadata = message.get("metadata") or {}
            if message.get("ts") == ts and metadata.get("event_type") == METADATA_TYPE:
                return fmt.decode_key(str((metadata.get("event_payload") or {}).get("thread")))
        return None

    async def to_chat(self, key: ThreadKey, staff_id: str, text: str) -> None:
        """A staff reply into the person's chat, signed (mass mentions defused)."""
        signed = f"*{fmt.user_mention(staff_id)} from the team:* {fmt.safe_plain(text)}"
        for piece in fmt.split_text(signed):
            await self._send.post(key.channel, piece, thread_ts=key.thread)

    async def to_team(self, message: IncomingMessage) -> None:
        """The person's message under the hand-off notice, for the team to read."""
        post = await self._team.find_notice(message.key)
        if post is None:
            log.warning("no support message for %s: the reply not relayed", message.key.as_id())
            return
        text = f"{fmt.user_mention(message.author_id)}: {fmt.safe_plain(message.text)}"
        for piece in fmt.split_text(text):
            await self._send.post(post.channel, piece, thread_ts=post.ts)


def support_thread_reply(event: dict[str, Any], support_channels: set[str]) -> bool:
    """Whether `event` is a person's reply in a thread of a support channel."""
    return (
        event.get("channel") in support_channels
        and bool(event.get("thread_ts"))
        and event.get("thread_ts") != event.get("ts")
        and not event.get("subtype")
        and not event.get("bot_id")
        and bool(event.get("user"))
    )
