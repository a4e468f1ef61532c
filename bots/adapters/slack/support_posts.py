"""Where each hand-off's message in the support channel is, even after a restart.

The message is posted with Slack message metadata naming its thread
(`event_type` `bots_handoff`). This process remembers the messages it posted or saw clicked;
after a restart, or when another process posted it (several HTTP workers), the message is
found back in the support channel's history by that metadata, searching only what was
posted since the thread began (its `thread_ts`). Slack itself is the record, so no
database table is needed and every process sharing the workspace finds the same message.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

from bots.adapters.slack import formatting as fmt
from bots.adapters.slack.send import Sender
from bots.models import ThreadKey

log = logging.getLogger(__name__)

METADATA_TYPE = "bots_handoff"
HISTORY_PAGES = 5
"""At most this many pages of 200 messages are searched (newest first) before giving up."""
REMEMBERED = 5_000


@dataclass
class SupportPost:
    """One hand-off message in a support channel, with the blocks it shows now."""

    channel: str
    ts: str
    blocks: list[fmt.Block] = field(default_factory=list)


def metadata_for(key: ThreadKey) -> dict[str, object]:
    """The metadata that marks a support message as the one for `key`."""
    return {"event_type": METADATA_TYPE, "event_payload": {"thread": fmt.encode_key(key)}}


class SupportPosts:
    """Remembered support messages, and the search for forgotten ones."""

    def __init__(self, sender: Sender) -> None:
        self._send = sender
        self._known: OrderedDict[ThreadKey, SupportPost] = OrderedDict()

    def remember(self, key: ThreadKey, post: SupportPost) -> None:
        self._known[key] = post
        self._known.move_to_end(key)
        while len(self._known) > REMEMBERED:
            self._known.popitem(last=False)

    def key_of(self, channel: str, ts: str) -> ThreadKey | None:
        """The thread whose remembered support message is `ts` in `channel`."""
        for key, post in reversed(self._known.items()):
            if post.channel == channel and post.ts == ts:
                return key
        return None

    def forget(self, key: ThreadKey) -> None:
        self._known.pop(key, None)

    async def find(self, key: ThreadKey, channels: Iterable[str]) -> SupportPost | None:
        """The support message for `key`: remembered, or searched for in `channels`."""
        known = self._known.get(key)
        if known is not None:
            return known
        for channel in dict.fromkeys(c for c in channels if c):
            found = await self._search(key, channel)
            if found is not None:
                self.remember(key, found)
                return found
        return None

    async def _search(self, key: ThreadKey, channel: str) -> SupportPost | None:
        wanted = fmt.encode_key(key)
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            page = await self._send.call(
                "conversations_history",
                channel=channel,
                oldest=key.thread if _is_ts(key.thread) else None,
                include_all_metadata=True,
                limit=200,
                cursor=cursor,
            )
            if page.data is None:
                return None
            for message in page.data.get("messages") or []:
                if _marks(message, wanted):
                    blocks = list(message.get("blocks") or [])
                    return SupportPost(channel, str(message.get("ts")), blocks)
            cursor = (page.data.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None
        log.info("support message for %s not found in %s", key.as_id(), channel)
        return None


def _marks(message: dict[str, object], wanted: str) -> bool:
    metadata = message.get("metadata")
    if not isinstance(metadata, dict) or metadata.get("event_type") != METADATA_TYPE:
        return False
    payload = metadata.get("event_payload")
    return isinstance(payload, dict) and payload.get("thread") == wanted


def _is_ts(value: str) -> bool:
    head, _, tail = value.partition(".")
    return head.isdigit() and tail.isdigit()
