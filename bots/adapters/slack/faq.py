"""The "Save as FAQ" and "Approve" buttons in Slack's support channel (translate only).

Save as FAQ is on a hand-off message once it was resolved after a staff answer; a click
(staff only) asks the core (`bots.turn.faq_suggestions`) to draft and write the pending
entry, posts the result and the checks' verdict in that message's thread with an Approve
button, and takes the Save button off the message. Approve (staff only) moves the entry
into the live FAQ; the result message then says who approved it. Refusals are ephemeral:
only the clicker sees them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bots.adapters.slack import formatting as fmt
from bots.adapters.slack.send import Sender
from bots.adapters.slack.team import SupportTeam
from bots.turn.faq_suggestions import (
    FaqRefused,
    FaqSaved,
    FaqSuggestions,
    approved_text,
    saved_text,
)

log = logging.getLogger(__name__)

StaffCheck = Callable[[str], Awaitable[bool]]
STAFF_ONLY = "Only the support team can save or approve FAQ entries."


class FaqButtons:
    """What the two buttons do; the adapter routes bolt's actions here."""

    def __init__(
        self,
        faq: FaqSuggestions,
        sender: Sender,
        team: SupportTeam,
        is_staff: StaffCheck | None,
    ) -> None:
        self._faq = faq
        self._send = sender
        self._team = team
        self._is_staff = is_staff

    async def save(self, body: dict[str, Any]) -> None:
        click = await self._click(body)
        if click is None:
            return
        key, staff, channel, posted = click
        link = await self._team.permalink(key)
        result = await self._faq.save(key, staff, link=link)
        if isinstance(result, FaqRefused):
            await self._tell(channel, staff, result.reason)
            return
        blocks = fmt.faq_result_blocks(saved_text(result), key)
        text = f"Saved as the pending FAQ entry {result.entry_id}"
        await self._send.post(channel, text, blocks, thread_ts=str(posted.get("ts") or "") or None)
        if posted.get("ts") and isinstance(result, FaqSaved) and not result.already:
            who = fmt.user_mention(staff)
            status = f"Saved as a pending FAQ entry by {who}: `{fmt.escape(result.entry_id)}`"
            shown = list(posted.get("blocks") or [])
            updated = fmt.updated_handoff_blocks(shown, status=status, key=None, resolvable=False)
            await self._send.update(channel, str(posted["ts"]), status, updated, thread_ts=None)

    async def approve(self, body: dict[str, Any]) -> None:
        click = await self._click(body)
        if click is None:
            return
        key, staff, channel, posted = click
        result = await self._faq.approve_thread(key, staff)
        if isinstance(result, FaqRefused):
            await self._tell(channel, staff, result.reason)
            return
        if posted.get("ts"):
            who = fmt.user_mention(staff)
            status = f"{fmt.safe_plain(approved_text(result))} Approved by {who}."
            blocks = fmt.approved_blocks(list(posted.get("blocks") or []), status)
            await self._send.update(
                channel, str(posted["ts"]), status, blocks, thread_ts=posted.get("thread_ts")
            )

    async def _click(self, body: dict[str, Any]) -> tuple[Any, str, str, dict[str, Any]] | None:
        """The thread, the clicker, the channel and the clicked message, for staff only."""
        action = (body.get("actions") or [{}])[0]
        key = fmt.decode_key(str(action.get("value", "")))
        staff = str((body.get("user") or {}).get("id", ""))
        channel = str((body.get("channel") or {}).get("id", "")) or str(
            (body.get("container") or {}).get("channel_id", "")
        )
        if key is None or not staff or not channel:
            log.warning("slack faq button without a thread, a user or a channel: ignored")
            return None
        if self._is_staff is not None and not await self._is_staff(staff):
            await self._tell(channel, staff, STAFF_ONLY)
            return None
        return key, staff, channel, dict(body.get("message") or {})

    async def _tell(self, channel: str, user: str, text: str) -> None:
        await self._send.call(
            "chat_postEphemeral", channel=channel, user=user, text=fmt.safe_plain(text)
        )
