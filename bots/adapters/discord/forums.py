"""Discord forum channels as a help desk: new posts answered, tags per stage, Solved, nudges.

A post in a configured forum (`DISCORD_FORUM_CHANNELS`, or the persona's `forum.channels`)
is a public thread whose id is its starter message's id; the starter message is answered
without a mention, with the post's title as part of the question. What the post's tags
should be at each stage, and when the asker is due a nudge, is decided in
`bots.handoff.forum`; this module only reads the forum's tags from discord.py's cache and
edits the thread (`applied_tags`, `archived`, `locked`), which needs Manage Threads.

The Solved button is a `DynamicItem` whose custom id carries the thread key and the asker,
so it works after a restart; only the asker and the support team may press it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import discord

from bots.adapters.discord import formatting as fmt
from bots.adapters.discord import ratelimits
from bots.handoff.forum import (
    Nudges,
    PostStage,
    Tag,
    retag,
    stage_after,
)
from bots.knowledge.forum_settings import ForumSettings
from bots.models import (
    ConversationState,
    EngineEvent,
    HandoffResolved,
    ThreadKey,
)
from bots.store import Store
from bots.turn.engine import Engine
from bots.turn.runtime import PersonaRuntime

log = logging.getLogger(__name__)

HANDLER_ATTRIBUTE = "forum_desk"
SOLVED_PREFIX = "bots:solved"
SOLVED_TEMPLATE = SOLVED_PREFIX + ":" + fmt.KEY_PATTERN + r":(?P<asker>\d+)"
TAG_REQUIRED = 40067
"""Discord's error code for "a tag is required" in a forum with REQUIRE_TAG."""
NO_PINGS = discord.AllowedMentions.none()
_HANDED = frozenset({ConversationState.WAITING_FOR_HUMAN, ConversationState.HUMAN})


def solved_id(key: ThreadKey, asker: str) -> str:
    return f"{SOLVED_PREFIX}:{fmt.key_part(key)}:{asker}"


class SolvedButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=SOLVED_TEMPLATE):
    def __init__(self, key: ThreadKey, asker: str) -> None:
        self.key, self.asker = key, asker
        button: discord.ui.Button[Any] = discord.ui.Button(
            label="Solved",
            emoji="✅",
            style=discord.ButtonStyle.success,
            custom_id=solved_id(key, asker),
        )
        super().__init__(button)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> SolvedButton:
        return cls(fmt.key_from(match), match["asker"])

    async def callback(self, interaction: discord.Interaction) -> None:
        desk = getattr(interaction.client, HANDLER_ATTRIBUTE, None)
        if isinstance(desk, ForumDesk):
            await desk.on_solved(interaction, self.key, self.asker)


def utc_now() -> datetime:
    return datetime.now(UTC)


class ForumDesk:
    """The forum posts of one bot: which threads are posts, their tags, Solved and nudges."""

    def __init__(
        self,
        client: discord.Client,
        engine: Engine,
        personas: Mapping[str, PersonaRuntime],
        *,
        channels: Iterable[str],
        store: Store | None,
        persona_for: Callable[[str, str], str],
        is_staff: Callable[[discord.User | discord.Member], bool],
        render: Callable[[EngineEvent, ThreadKey], Awaitable[None]],
        finished: Callable[[int], Awaitable[None]],
        sleep: ratelimits.Sleep,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._client = client
        self._engine = engine
        self._personas = personas
        self._channels = frozenset(channels)
        self._persona_for = persona_for
        self._is_staff = is_staff
        self._render = render
        self._finished = finished
        self._sleep = sleep
        self._nudges = (
            Nudges(store, lambda name: self._settings_of_persona(name), clock)
            if store is not None
            else None
        )

    # -- which threads are posts --------------------------------------------------------

    def forum_ids(self) -> frozenset[str]:
        """The forums answered: the setting's and every persona's (personas reload live)."""
        listed = {c for r in self._personas.values() for c in r.persona.forum.channels}
        return self._channels | listed

    def post_of(self, channel: object) -> discord.Thread | None:
        """`channel` when it is an open post in an answered forum."""
        if not isinstance(channel, discord.Thread) or channel.archived:
            return None
        if not isinstance(channel.parent, discord.ForumChannel):
            return None
        return channel if str(channel.parent_id) in self.forum_ids() else None

    def post_at(self, key: ThreadKey) -> discord.Thread | None:
        if key.platform != fmt.PLATFORM or not key.thread.isdigit():
            return None
        return self.post_of(self._client.get_channel(int(key.thread)))

    def is_new_post(self, message: discord.Message) -> bool:
        """The starter message of a post: it shares the post's id."""
        return self.post_of(message.channel) is not None and message.id == message.channel.id

    @staticmethod
    def question(title: str, text: str) -> str:
        """A post's title is usually the question; its body the details."""
        return f"{title}\n\n{text}".strip() if text.strip() != title.strip() else text

    def persona_of(self, guild: str, forum: str) -> str:
        """The persona that lists the forum, else the channel and guild mapping."""
        for name, runtime in self._personas.items():
            if forum in runtime.persona.forum.channels:
                return name
        return self._persona_for(guild, forum)

    def _settings_of_persona(self, name: str) -> ForumSettings:
        runtime = self._personas.get(name)
        if runtime is None:
            runtime = next(iter(self._personas.values()))
        return runtime.persona.forum

    def _settings(self, thread: discord.Thread) -> ForumSettings:
        guild = str(thread.guild.id)
        return self._settings_of_persona(self.persona_of(guild, str(thread.parent_id)))

    def add_solved(self, view: discord.ui.View | None, key: ThreadKey) -> discord.ui.View | None:
        """`view` with a Solved button when `key` is a post (a new view if there was none)."""
        thread = self.post_at(key)
        if thread is None or thread.owner_id is None:
            return view
        view = view or discord.ui.View(timeout=None)
        view.add_item(SolvedButton(key, str(thread.owner_id)))
        return view

    # -- tags -----------------------------------------------------------------------------

    async def after(self, event: EngineEvent, key: ThreadKey) -> None:
        """Move a post's tags to the stage this event brings it to."""
        stage = stage_after(event)
        if stage is not None:
            await self.mark(key, stage)

    async def mark(self, key: ThreadKey, stage: PostStage) -> None:
        thread = self.post_at(key)
        if thread is None or not isinstance(thread.parent, discord.ForumChannel):
            return
        forum = thread.parent
        settings = self._settings(thread)
        available = [Tag(str(t.id), t.name) for t in forum.available_tags]
        current = [str(t) for t in thread._applied_tags]  # ids, also of tags not cached
        tags = retag(current, available, stage, settings.tags, required=forum.flags.require_tag)
        changes: dict[str, Any] = {}
        if tags is not None:
            changes["applied_tags"] = [
                tag for t in tags if (tag := forum.get_tag(int(t))) is not None
            ]
        if stage is PostStage.SOLVED and settings.on_solved != "keep":
            changes["archived"] = True
            changes["locked"] = settings.on_solved == "lock"
        if not changes:
            return

        def edit() -> Awaitable[discord.Thread]:
            return thread.edit(**changes)

        try:
            await ratelimits.retry_unretried_429(
                edit, self._sleep, f"the tags of post {key.thread}"
            )
        except discord.HTTPException as exc:
            hint = (
                "the forum requires a tag"
                if exc.code == TAG_REQUIRED
                else "is Manage Threads allowed in the forum?"
            )
            log.warning(
                "discord refused to update forum post %s (%s %s): %s",
                key.thread,
                exc.status,
                exc.code,
                hint,
            )

    # -- Solved -------------------------------------------------------------------------

    async def on_solved(self, interaction: discord.Interaction, key: ThreadKey, asker: str) -> None:
        try:
            user = interaction.user
            if str(user.id) != asker and not self._is_staff(user):
                await interaction.response.send_message(
                    "Only the person who asked, or the support team, can mark this solved.",
                    ephemeral=True,
                )
                return
            await interaction.response.defer()
            thread = self.post_at(key)
            if thread is None:
                await interaction.followup.send("This post is already closed.", ephemeral=True)
                return
            settings = self._settings(thread)
            text = f"{fmt.safe_text(settings.solved_message)} (<@{user.id}>)"
            # Said before the post is archived or locked: a locked post takes no more messages.
            said = await self._send(thread, text, NO_PINGS, None)
            if self._nudges is not None:
                await self._nudges.solved(key, text, str(said.id) if said else "")
            if await self._engine.state(key) in _HANDED:
                event = await self._engine.resolve(key, str(user.id))
                if isinstance(event, HandoffResolved):
                    await self._render(event, key)  # the render moves the post to solved
                    return
            await self.mark(key, PostStage.SOLVED)
        finally:
            await self._finished(interaction.id)

    # -- nudges ---------------------------------------------------------------------------

    async def nudge(self) -> int:
        """Ask the askers of quiet posts whether the answer helped; how many were asked."""
        if self._nudges is None:
            return 0
        due = await self._nudges.due(self._personas, lambda key: self.post_at(key) is not None)
        asked = 0
        for nudge in due:
            thread = self.post_at(nudge.key)
            if thread is None or thread.owner_id is None:
                continue
            settings = self._settings(thread)
            asker = thread.owner_id
            text = f"<@{asker}> {fmt.safe_text(settings.nudge_message)}"
            ping = discord.AllowedMentions(
                everyone=False, roles=False, users=[discord.Object(asker)]
            )
            view = self.add_solved(None, nudge.key)
            said = await self._send(thread, text, ping, view)
            if said is not None:
                await self._nudges.nudged(nudge, text, str(said.id))
                asked += 1
        return asked

    async def _send(
        self,
        thread: discord.Thread,
        text: str,
        mentions: discord.AllowedMentions,
        view: discord.ui.View | None,
    ) -> discord.Message | None:
        def send() -> Awaitable[discord.Message]:
            if view is None:
                return thread.send(text, allowed_mentions=mentions)
            return thread.send(text, allowed_mentions=mentions, view=view)

        try:
            return await ratelimits.retry_unretried_429(send, self._sleep, f"post {thread.id}")
        except discord.HTTPException as exc:
            log.warning(
                "discord refused a message in post %s (%s %s)", thread.id, exc.status, exc.code
            )
            return None
