"""The intake form on Discord: an "Add details" button on the hand-off message, then a modal.

A modal is an interaction response (type 9, MODAL), so it needs a click: the message that
tells the asker a person is coming carries the persona's button, a `DynamicItem` whose
custom id holds the thread and the asker, so it works after a restart. Only the asker may
open it. The modal's text inputs (at most five, as Discord allows) come back as an
INTERACTION_CREATE of type 5 (MODAL_SUBMIT); the engine checks them (`Engine.add_intake`).
Discord cannot show an error under a field, so a wrong answer is named in a private reply
with the button again, and the modal reopens with what was typed (kept in memory for this
process), so nothing is lost. A choice is a text input whose hint lists the options (the
engine accepts only those). Accepted answers are stored, sent to the webhook, posted to the
support channel as a reply to the team's card, and thanked for privately.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol, runtime_checkable

import discord

from bots.adapters.discord import formatting as fmt
from bots.handoff.intake import IntakeCheck, max_length, notice_lines
from bots.knowledge.entry_points import IntakeField, IntakeForm
from bots.models import IntakeDetails, ThreadKey
from bots.turn.engine import Engine

log = logging.getLogger(__name__)

HANDLER_ATTRIBUTE = "support_intake_handler"
PREFIX = "bots:intake"
TEMPLATE = PREFIX + ":" + fmt.KEY_PATTERN + r":(?P<asker>\d+)"
ONLY_THE_ASKER = "Only the person who asked can add details to this conversation."
REMEMBERED = 1_000
"""Unaccepted attempts kept to prefill the reopened modal."""


def custom_id(key: ThreadKey, asker: str) -> str:
    return f"{PREFIX}:{fmt.key_part(key)}:{asker}"


@runtime_checkable
class IntakeHandler(Protocol):
    async def on_intake_button(
        self, interaction: discord.Interaction, key: ThreadKey, asker: str
    ) -> None: ...

    async def on_intake_submit(
        self, interaction: discord.Interaction, key: ThreadKey, raw: Mapping[str, str]
    ) -> None: ...


def _handler(interaction: discord.Interaction) -> IntakeHandler | None:
    found = getattr(interaction.client, HANDLER_ATTRIBUTE, None)
    return found if isinstance(found, IntakeHandler) else None


class IntakeButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=TEMPLATE):
    def __init__(self, key: ThreadKey, asker: str, label: str = "Add details") -> None:
        self.key, self.asker = key, asker
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=label[:80], style=discord.ButtonStyle.primary, custom_id=custom_id(key, asker)
        )
        super().__init__(button)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> IntakeButton:
        return cls(fmt.key_from(match), match["asker"], str(getattr(item, "label", "") or ""))

    async def callback(self, interaction: discord.Interaction) -> None:
        handler = _handler(interaction)
        if handler is not None:
            await handler.on_intake_button(interaction, self.key, self.asker)


def intake_view(form: IntakeForm, key: ThreadKey, asker: str) -> discord.ui.View | None:
    if not asker.isdigit():
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(IntakeButton(key, asker, form.button))
    return view


def _input(spec: IntakeField, default: str | None) -> discord.ui.TextInput[Any]:
    hint = " / ".join(spec.options) if spec.kind == "choice" else spec.placeholder
    return discord.ui.TextInput(
        label=spec.label,
        custom_id=spec.id,
        style=discord.TextStyle.paragraph if spec.kind == "long_text" else discord.TextStyle.short,
        required=spec.required,
        max_length=max_length(spec),
        placeholder=hint[:100] or None,
        default=default,
    )


class IntakeModal(discord.ui.Modal):
    """The persona's fields as a Discord modal; its submission goes to the handler."""

    def __init__(self, form: IntakeForm, key: ThreadKey, before: Mapping[str, str]) -> None:
        super().__init__(title=form.title[:45], custom_id=f"bots:intake-form:{fmt.key_part(key)}")
        self.key = key
        self.inputs = [_input(spec, before.get(spec.id)) for spec in form.fields]
        for text_input in self.inputs:
            self.add_item(text_input)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        handler = _handler(interaction)
        if handler is not None:
            raw = {str(i.custom_id): i.value for i in self.inputs}
            await handler.on_intake_submit(interaction, self.key, raw)


class DiscordIntake:
    """What the button and the modal do; the adapter puts it on the client."""

    def __init__(
        self,
        engine: Engine,
        post_details: Callable[[IntakeDetails, str], Awaitable[None]],
        finished: Callable[[int], Awaitable[None]],
    ) -> None:
        """`finished(interaction id)` once a click or a submission is handled (tests wait)."""
        self._engine = engine
        self._post_details = post_details
        self._finished = finished
        self._attempts: OrderedDict[tuple[ThreadKey, str], dict[str, str]] = OrderedDict()

    async def on_intake_button(
        self, interaction: discord.Interaction, key: ThreadKey, asker: str
    ) -> None:
        try:
            await self._open(interaction, key, asker)
        finally:
            await self._finished(interaction.id)

    async def on_intake_submit(
        self, interaction: discord.Interaction, key: ThreadKey, raw: Mapping[str, str]
    ) -> None:
        try:
            await self._submit(interaction, key, raw)
        finally:
            await self._finished(interaction.id)

    async def _open(self, interaction: discord.Interaction, key: ThreadKey, asker: str) -> None:
        if str(interaction.user.id) != asker:
            await interaction.response.send_message(ONLY_THE_ASKER, ephemeral=True)
            return
        form = await self._engine.intake_form(key)
        if form is None:
            await interaction.response.send_message("There is no form here.", ephemeral=True)
            return
        before = self._attempts.get((key, asker), {})
        await interaction.response.send_modal(IntakeModal(form, key, before))

    async def _submit(
        self, interaction: discord.Interaction, key: ThreadKey, raw: Mapping[str, str]
    ) -> None:
        user = str(interaction.user.id)
        result = await self._engine.add_intake(key, user, raw)
        form = await self._engine.intake_form(key)
        if isinstance(result, IntakeCheck):
            self._attempts[(key, user)] = dict(raw)
            while len(self._attempts) > REMEMBERED:
                self._attempts.popitem(last=False)
            wrong = "\n".join(
                f"- {_label(form, field_id)}: {why}" for field_id, why in result.errors.items()
            )
            view = intake_view(form, key, user) if form is not None else None
            await interaction.response.send_message(
                f"Please check:\n{wrong}",
                ephemeral=True,
                view=view or discord.utils.MISSING,
                allowed_mentions=discord.AllowedMentions.none(),
            )
            return
        self._attempts.pop((key, user), None)
        if result is None or form is None:
            await interaction.response.send_message("There is no form here.", ephemeral=True)
            return
        await interaction.response.send_message(fmt.safe_text(form.thanks), ephemeral=True)
        await self._post_details(result, details_text(result))


def _label(form: IntakeForm | None, field_id: str) -> str:
    for spec in form.fields if form is not None else ():
        if spec.id == field_id:
            return spec.label
    return field_id


def details_text(details: IntakeDetails) -> str:
    """The answers for the support channel (the asker's words made inert)."""
    lines = [f"- {fmt.safe_text(line)}" for line in notice_lines(details)]
    return f"Details from <@{details.user_id}>:\n" + "\n".join(lines)
