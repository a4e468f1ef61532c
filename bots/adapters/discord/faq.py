"""The "Save as FAQ" and "Approve" buttons on Discord's hand-off card (translate only).

Save as FAQ is on the card once its hand-off was resolved after a staff answer. A click
(support role only) is deferred at once (Discord allows 3 seconds; drafting and the checks
take longer), the core (`bots.turn.faq_suggestions`) writes the pending entry, and the
result, with the checks' verdict and an Approve button, is posted as a reply to the card;
the Save button goes. Approve moves the entry into the live FAQ and the reply says who
approved it. Refusals are ephemeral: only the clicker sees them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import discord

from bots.adapters.discord import formatting as fmt
from bots.adapters.discord import ui as discord_ui
from bots.models import ThreadKey
from bots.turn.faq_suggestions import (
    FaqRefused,
    FaqSaved,
    FaqSuggestions,
    approved_text,
    saved_text,
)

log = logging.getLogger(__name__)

NO_PINGS = discord.AllowedMentions.none()
STAFF_ONLY = "Only the support team can save or approve FAQ entries."


class FaqClicks:
    def __init__(
        self, faq: FaqSuggestions, is_staff: Callable[[discord.User | discord.Member], bool]
    ) -> None:
        self._faq = faq
        self._is_staff = is_staff

    async def click(
        self, interaction: discord.Interaction, key: ThreadKey, *, approve: bool
    ) -> None:
        if not self._is_staff(interaction.user):
            await interaction.response.send_message(STAFF_ONLY, ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        staff = str(interaction.user.id)
        if approve:
            await self._approve(interaction, key, staff)
        else:
            await self._save(interaction, key, staff)

    async def _save(self, interaction: discord.Interaction, key: ThreadKey, staff: str) -> None:
        result = await self._faq.save(key, staff, link=fmt.thread_link(key))
        if isinstance(result, FaqRefused):
            await self._tell(interaction, result.reason)
            return
        content = _clip(fmt.safe_text(saved_text(result)))
        card = interaction.message
        try:
            if card is not None:
                await card.reply(
                    content,
                    view=discord_ui.approve_faq_view(key),
                    allowed_mentions=NO_PINGS,
                    mention_author=False,
                )
                if isinstance(result, FaqSaved) and not result.already:
                    await card.edit(view=None, allowed_mentions=NO_PINGS)
        except discord.HTTPException as exc:
            log.warning("discord refused the saved-FAQ message (%s)", exc.status)
        await self._tell(interaction, f"Saved as the pending FAQ entry `{result.entry_id}`.")

    async def _approve(self, interaction: discord.Interaction, key: ThreadKey, staff: str) -> None:
        result = await self._faq.approve_thread(key, staff)
        text = fmt.safe_text(approved_text(result))
        if isinstance(result, FaqRefused):
            await self._tell(interaction, text)
            return
        shown = interaction.message
        if shown is not None:
            content = _clip(f"{shown.content}\n-# {text} Approved by <@{staff}>.")
            try:
                await shown.edit(content=content, view=None, allowed_mentions=NO_PINGS)
            except discord.HTTPException as exc:
                log.warning("discord refused the approved-FAQ update (%s)", exc.status)
        await self._tell(interaction, text)

    @staticmethod
    async def _tell(interaction: discord.Interaction, text: str) -> None:
        await interaction.followup.send(_clip(text), ephemeral=True, allowed_mentions=NO_PINGS)


def _clip(text: str) -> str:
    return text if len(text) <= fmt.MESSAGE_LIMIT else text[: fmt.MESSAGE_LIMIT - 1] + "…"
