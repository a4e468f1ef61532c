"""Discord buttons: Claim/Resolve/Save as FAQ on the hand-off card, Approve under a saved
FAQ entry, and 👍/👎 under answers.

They are discord.py `DynamicItem`s: the custom id carries the thread key (and for feedback the
answered message and its asker), so a click is understood after a restart without any view
kept in memory. A click goes to the `ClickHandler` the adapter stores on the client.
"""

from __future__ import annotations

import re
from typing import Any, Protocol, runtime_checkable

import discord

from bots.adapters.discord import formatting as fmt
from bots.models import ThreadKey

HANDLER_ATTRIBUTE = "support_click_handler"


@runtime_checkable
class ClickHandler(Protocol):
    async def on_staff_button(
        self, interaction: discord.Interaction, key: ThreadKey, *, claim: bool
    ) -> None: ...

    async def on_feedback_button(
        self,
        interaction: discord.Interaction,
        key: ThreadKey,
        message_id: str,
        asker: str,
        positive: bool,
    ) -> None: ...

    async def on_faq_button(
        self, interaction: discord.Interaction, key: ThreadKey, *, approve: bool
    ) -> None: ...


class ClaimButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=fmt.CLAIM_TEMPLATE):
    def __init__(self, key: ThreadKey) -> None:
        self.key = key
        button: discord.ui.Button[Any] = discord.ui.Button(
            label="Claim", style=discord.ButtonStyle.primary, custom_id=fmt.claim_id(key)
        )
        super().__init__(button)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ClaimButton:
        return cls(fmt.key_from(match))

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = _bot_of(interaction)
        if bot is not None:
            await bot.on_staff_button(interaction, self.key, claim=True)


class ResolveButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=fmt.RESOLVE_TEMPLATE):
    def __init__(self, key: ThreadKey) -> None:
        self.key = key
        button: discord.ui.Button[Any] = discord.ui.Button(
            label="Resolve", style=discord.ButtonStyle.secondary, custom_id=fmt.resolve_id(key)
        )
        super().__init__(button)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ResolveButton:
        return cls(fmt.key_from(match))

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = _bot_of(interaction)
        if bot is not None:
            await bot.on_staff_button(interaction, self.key, claim=False)


class SaveFaqButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=fmt.SAVE_FAQ_TEMPLATE):
    def __init__(self, key: ThreadKey) -> None:
        self.key = key
        button: discord.ui.Button[Any] = discord.ui.Button(
            label="Save as FAQ", style=discord.ButtonStyle.primary, custom_id=fmt.save_faq_id(key)
        )
        super().__init__(button)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> SaveFaqButton:
        return cls(fmt.key_from(match))

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = _bot_of(interaction)
        if bot is not None:
            await bot.on_faq_button(interaction, self.key, approve=False)


class ApproveFaqButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=fmt.APPROVE_FAQ_TEMPLATE
):
    def __init__(self, key: ThreadKey) -> None:
        self.key = key
        button: discord.ui.Button[Any] = discord.ui.Button(
            label="Approve", style=discord.ButtonStyle.success, custom_id=fmt.approve_faq_id(key)
        )
        super().__init__(button)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ApproveFaqButton:
        return cls(fmt.key_from(match))

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = _bot_of(interaction)
        if bot is not None:
            await bot.on_faq_button(interaction, self.key, approve=True)


class FeedbackButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=fmt.FEEDBACK_TEMPLATE
):
    def __init__(self, vote: str, key: ThreadKey, message_id: str, asker: str) -> None:
        self.vote, self.key, self.message_id, self.asker = vote, key, message_id, asker
        button: discord.ui.Button[Any] = discord.ui.Button(
            emoji="👍" if vote == "up" else "👎",
            style=discord.ButtonStyle.secondary,
            custom_id=fmt.feedback_id(vote, key, message_id, asker),
        )
        super().__init__(button)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> FeedbackButton:
        return cls(match["vote"], fmt.key_from(match), match["message"], match["asker"])

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = _bot_of(interaction)
        if bot is not None:
            await bot.on_feedback_button(
                interaction, self.key, self.message_id, self.asker, self.vote == "up"
            )


def _bot_of(interaction: discord.Interaction) -> ClickHandler | None:
    handler = getattr(interaction.client, HANDLER_ATTRIBUTE, None)
    return handler if isinstance(handler, ClickHandler) else None


def handoff_view(key: ThreadKey, *, claimable: bool = True) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    if claimable:
        view.add_item(ClaimButton(key))
    view.add_item(ResolveButton(key))
    return view


def save_faq_view(key: ThreadKey) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(SaveFaqButton(key))
    return view


def approve_faq_view(key: ThreadKey) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ApproveFaqButton(key))
    return view


def feedback_view(key: ThreadKey, message_id: str, asker: str) -> discord.ui.View | None:
    if not (message_id.isdigit() and asker.isdigit()):
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(FeedbackButton("up", key, message_id, asker))
    view.add_item(FeedbackButton("down", key, message_id, asker))
    return view
