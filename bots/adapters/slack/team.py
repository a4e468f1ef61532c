"""The support team's side of Slack: hand-off messages in the support channel, their updates
(claimed, resolved) and reminders, each persona's destination from its `handoff.slack`."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bots.adapters.slack import formatting as fmt
from bots.adapters.slack.send import Sender
from bots.adapters.slack.support_posts import SupportPost, SupportPosts, metadata_for
from bots.knowledge.persona import SlackDestination
from bots.models import HandoffRecord, HandoffReminder, ThreadKey
from bots.turn.runtime import PersonaRuntime

log = logging.getLogger(__name__)


class SupportTeam:
    """Posts and updates the hand-off messages; `posts` finds them again after a restart."""

    def __init__(
        self, sender: Sender, personas: Mapping[str, PersonaRuntime], default_persona: str
    ) -> None:
        self._send = sender
        self._personas = personas
        self._default = default_persona
        self.posts = SupportPosts(sender)

    def destination(self, persona: str) -> SlackDestination:
        runtime = self._personas.get(persona) or self._personas[self._default]
        return runtime.persona.handoff.slack

    def _support_channels(self) -> list[str]:
        """Every support channel a hand-off may have gone to (personas can share one)."""
        return [r.persona.handoff.slack.channel for r in self._personas.values()]

    async def notify(self, record: HandoffRecord) -> None:
        where = self.destination(record.persona)
        if not where.channel:
            log.warning(
                "persona %s has no handoff.slack.channel: team not notified", record.persona
            )
            return
        link = await self._permalink(record.key) or record.link
        blocks = fmt.handoff_blocks(record, link, where.mention_group)
        text = fmt.handoff_fallback_text(record, where.mention_group)
        posted = await self._send.post(
            where.channel, text, blocks, metadata=metadata_for(record.key)
        )
        if posted.data is None:
            # The user has been told; the hand-off stays open in the store and its reminder
            # posts it again, so fixing the channel (or inviting the bot) recovers it.
            log.error(
                "hand-off of %s NOT posted to the support channel %s; it is posted again "
                "with the reminder after %s min",
                record.key.as_id(),
                where.channel,
                self._reminder_minutes(record.persona),
            )
            return
        channel = str(posted.data.get("channel") or where.channel)
        post = SupportPost(channel, str(posted.data.get("ts")), blocks)
        self.posts.remember(record.key, post)

    def _reminder_minutes(self, persona: str) -> int:
        runtime = self._personas.get(persona) or self._personas[self._default]
        return runtime.persona.handoff.reminder_minutes

    async def permalink(self, key: ThreadKey) -> str | None:
        """The web link to the user's thread (None when Slack will not say)."""
        return await self._permalink(key)

    async def _permalink(self, key: ThreadKey) -> str | None:
        response = await self._send.call(
            "chat_getPermalink", channel=key.channel, message_ts=key.thread
        )
        return str(response.data["permalink"]) if response.data is not None else None

    async def update(
        self, key: ThreadKey, status: str, *, resolvable: bool, savable: bool = False
    ) -> None:
        post = await self.posts.find(key, self._support_channels())
        if post is None:
            log.info("no support message found for %s: nothing to update", key.as_id())
            return
        post.blocks = fmt.updated_handoff_blocks(
            post.blocks, status=status, key=key, resolvable=resolvable, savable=savable
        )
        await self._send.update(post.channel, post.ts, status, post.blocks, thread_ts=None)
        if not resolvable:
            self.posts.forget(key)

    def support_channels(self) -> set[str]:
        return {c for c in self._support_channels() if c}

    async def find_notice(self, key: ThreadKey) -> SupportPost | None:
        return await self.posts.find(key, self._support_channels())

    async def add_details(self, key: ThreadKey, text: str) -> None:
        """Post the intake form's answers (mrkdwn, made safe) under the thread's notice."""
        post = await self.posts.find(key, self._support_channels())
        if post is None:
            log.warning("no support message found for %s: its details not posted", key.as_id())
            return
        await self._send.post(post.channel, text, thread_ts=post.ts)

    async def remind(self, event: HandoffReminder) -> None:
        where = self.destination(event.record.persona)
        post = await self.posts.find(event.record.key, self._support_channels())
        if post is None:
            # The first notification never arrived (channel misconfigured, bot not invited):
            # post the whole hand-off now rather than a reminder of nothing.
            await self.notify(event.record)
            return
        mention = fmt.group_mention(where.mention_group)
        text = f"{mention} Still unclaimed after {event.waiting_minutes} min.".strip()
        await self._send.post(post.channel, text, thread_ts=post.ts)
