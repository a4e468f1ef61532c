"""What the support team and askers do with clicks and commands on Discord.

Claim/Resolve on the hand-off card, 👍/👎 under answers, and `/support status|handoff|resolve`.
Each interaction is answered or deferred before any slow work (Discord allows 3 seconds),
and staff-only actions check the member's support role first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import discord
from discord import app_commands

from bots.adapters.discord import formatting as fmt
from bots.adapters.discord.faq import FaqClicks
from bots.models import EngineEvent, HandoffClaimed, HandoffRequested, HandoffResolved, ThreadKey
from bots.store import Store
from bots.turn.engine import Engine
from bots.turn.faq_suggestions import FaqSuggestions

NO_PINGS = discord.AllowedMentions.none()


@dataclass
class SupportCard:
    """Where a hand-off card is, and its embed as last shown."""

    channel_id: int
    message_id: int
    embed: discord.Embed


class StaffDesk:
    """Handles clicks and `/support` commands; the adapter supplies rendering and sending."""

    def __init__(
        self,
        engine: Engine,
        store: Store | None,
        *,
        is_staff: Callable[[discord.User | discord.Member], bool],
        render: Callable[[EngineEvent, ThreadKey], Awaitable[None]],
        say: Callable[[ThreadKey, str], Awaitable[None]],
        remember_card: Callable[[ThreadKey, SupportCard], None],
        finished: Callable[[int], Awaitable[None]],
        faq: FaqSuggestions | None = None,
    ) -> None:
        self._faq = None if faq is None else FaqClicks(faq, is_staff)
        self._engine = engine
        self._store = store
        self._is_staff = is_staff
        self._render = render
        self._say = say
        self._remember_card = remember_card
        self._finished = finished

    async def on_staff_button(
        self, interaction: discord.Interaction, key: ThreadKey, *, claim: bool
    ) -> None:
        try:
            if not self._is_staff(interaction.user):
                await interaction.response.send_message(
                    "Only the support team can claim or resolve hand-offs.", ephemeral=True
                )
                return
            await interaction.response.defer()
            if interaction.message is not None and interaction.message.embeds:
                post = SupportCard(
                    interaction.message.channel.id,
                    interaction.message.id,
                    interaction.message.embeds[0],
                )
                self._remember_card(key, post)
            staff = str(interaction.user.id)
            result = await (
                self._engine.claim(key, staff) if claim else self._engine.resolve(key, staff)
            )
            if isinstance(result, HandoffClaimed | HandoffResolved):
                await self._render(result, key)
            else:
                await interaction.followup.send(
                    "Nothing to do: this conversation is not waiting for the team.", ephemeral=True
                )
        finally:
            await self._finished(interaction.id)

    async def on_feedback_button(
        self,
        interaction: discord.Interaction,
        key: ThreadKey,
        message_id: str,
        asker: str,
        positive: bool,
    ) -> None:
        try:
            if str(interaction.user.id) != asker:
                await interaction.response.send_message(
                    "Only the person who asked can rate this answer.", ephemeral=True
                )
                return
            line = fmt.FEEDBACK_THANKS if positive else fmt.FEEDBACK_SORRY
            content = (interaction.message.content if interaction.message else "") + f"\n-# {line}"
            await interaction.response.edit_message(
                content=content[: fmt.MESSAGE_LIMIT],
                view=None,
                allowed_mentions=NO_PINGS,
            )
            offer = await self._engine.feedback(key, message_id, asker, positive)
            if offer is not None:
                await self._say(key, fmt.safe_text(offer.text))
        finally:
            await self._finished(interaction.id)

    async def on_faq_button(
        self, interaction: discord.Interaction, key: ThreadKey, *, approve: bool
    ) -> None:
        try:
            if self._faq is None:
                await interaction.response.send_message(
                    "Saving answers as FAQ entries is not set up.", ephemeral=True
                )
                return
            await self._faq.click(interaction, key, approve=approve)
        finally:
            await self._finished(interaction.id)

    def commands(self) -> app_commands.Group:
        group = app_commands.Group(
            name="support", description="Hand this thread to people and back"
        )

        @group.command(name="status", description="Who has this conversation: the bot or the team")
        async def status(interaction: discord.Interaction) -> None:
            await self._slash(interaction, self._status, staff_only=False)

        @group.command(name="handoff", description="Hand this thread to the support team (staff)")
        @app_commands.describe(reason="Why (shown to the team)")
        async def handoff(interaction: discord.Interaction, reason: str = "") -> None:
            async def run(key: ThreadKey, staff: str) -> str:
                return await self._handoff(key, staff, reason)

            await self._slash(interaction, run, staff_only=True)

        @group.command(name="resolve", description="Hand this thread back to the bot (staff)")
        async def resolve(interaction: discord.Interaction) -> None:
            await self._slash(interaction, self._resolve, staff_only=True)

        return group

    async def _slash(
        self,
        interaction: discord.Interaction,
        run: Callable[[ThreadKey, str], Awaitable[str]],
        *,
        staff_only: bool,
    ) -> None:
        """Defer at once (Discord wants an answer within 3 s), then work, then follow up."""
        try:
            if staff_only and not self._is_staff(interaction.user):
                await interaction.response.send_message(
                    "Only the support team can do that.", ephemeral=True
                )
                return
            await interaction.response.defer(ephemeral=True, thinking=True)
            guild = str(interaction.guild_id) if interaction.guild_id else fmt.DM_WORKSPACE
            key = fmt.thread_key(guild, str(interaction.channel_id))
            if not await self._engine.knows(key):
                await interaction.followup.send(
                    "I have no conversation in this channel.", ephemeral=True
                )
                return
            answer = await run(key, str(interaction.user.id))
            await interaction.followup.send(answer, ephemeral=True, allowed_mentions=NO_PINGS)
        finally:
            await self._finished(interaction.id)

    async def _status(self, key: ThreadKey, user: str) -> str:
        conversation = await self._store.get_conversation(key) if self._store else None
        if conversation is None:
            return "I am answering in this thread."
        return _STATUS_WORDS.get(conversation.state.value, conversation.state.value)

    async def _handoff(self, key: ThreadKey, staff: str, reason: str) -> str:
        event = await self._engine.staff_handoff(key, staff, reason)
        if isinstance(event, HandoffRequested):
            await self._render(event, key)
            return "Handed to the support team."
        return "The team already has this thread."

    async def _resolve(self, key: ThreadKey, staff: str) -> str:
        event = await self._engine.resolve(key, staff)
        if isinstance(event, HandoffResolved):
            await self._render(event, key)
            return "Handed back to the bot."
        return "Nothing to do: this conversation is not with the team."


_STATUS_WORDS = {
    "bot": "I am answering in this thread.",
    "waiting_for_human": "Waiting for someone from the support team.",
    "human": "A person from the support team has this thread; I stay quiet.",
    "resolved": "The team handed this thread back to me.",
}
