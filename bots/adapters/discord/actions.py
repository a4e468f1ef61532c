"""Message actions on Discord: "Ask <bot> about this" and "Hand to support" on any message.

Both are message context-menu commands (right-click a message > Apps): Discord sends an
interaction of type 2 whose command type is 3, with the message under `resolved.messages`
(its content included, whatever the Message Content intent). The interaction is deferred at
once (Discord allows 3 seconds); the work follows.

"Ask" answers the message in a thread as if its author had asked (a message in a text
channel gets a thread on it, as a mention would; a message in a thread is answered there),
and says who asked for it. "Hand to support" is staff-only and hands that thread to the team.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import discord
from discord import app_commands

from bots.adapters.discord import formatting as fmt
from bots.models import EngineEvent, HandoffRequested, IncomingMessage, ThreadKey
from bots.turn.engine import Engine

NO_PINGS = discord.AllowedMentions.none()
HAND_TO_SUPPORT = "Hand to support"
COMMAND_NAME_LIMIT = 32
"""Discord's longest command name."""
EXCERPT = 300
"""How much of a handed-over message the team's notice quotes."""


def ask_name(bot_name: str) -> str:
    """The menu entry: "Ask <bot> about this", shortened to fit Discord's 32 characters."""
    name = f"Ask {bot_name} about this"
    return name if len(name) <= COMMAND_NAME_LIMIT else "Ask about this message"


class MessageActions:
    """The two message commands; the adapter supplies threads, turns and rendering."""

    def __init__(
        self,
        engine: Engine,
        *,
        bot_name: str,
        is_staff: Callable[[discord.User | discord.Member], bool],
        persona_for: Callable[[str, str], str],
        open_thread: Callable[[discord.Message, discord.TextChannel], Awaitable[int | None]],
        run_turn: Callable[[IncomingMessage, str], Awaitable[None]],
        render: Callable[[EngineEvent, ThreadKey], Awaitable[None]],
        say: Callable[[ThreadKey, str], Awaitable[None]],
        finished: Callable[[int], Awaitable[None]],
    ) -> None:
        self._engine = engine
        self.ask_name = ask_name(bot_name)
        self._is_staff = is_staff
        self._persona_for = persona_for
        self._open_thread = open_thread
        self._run_turn = run_turn
        self._render = render
        self._say = say
        self._finished = finished

    def commands(self) -> list[app_commands.ContextMenu]:
        async def ask(interaction: discord.Interaction, message: discord.Message) -> None:
            await self.ask(interaction, message)

        async def hand(interaction: discord.Interaction, message: discord.Message) -> None:
            await self.hand_to_support(interaction, message)

        menus = [
            app_commands.ContextMenu(name=self.ask_name, callback=ask),
            app_commands.ContextMenu(name=HAND_TO_SUPPORT, callback=hand),
        ]
        for menu in menus:
            menu.guild_only = True  # a DM has no thread to answer in and no team
        return menus

    async def _thread_of(
        self, interaction: discord.Interaction, message: discord.Message
    ) -> tuple[ThreadKey, str] | None:
        """The conversation of `message` and its parent channel; a thread is opened on a
        message in a text channel (the same one again if it exists)."""
        guild = str(interaction.guild_id)
        channel = interaction.channel
        if isinstance(channel, discord.Thread):
            return fmt.thread_key(guild, str(channel.id)), str(channel.parent_id)
        if isinstance(channel, discord.TextChannel):
            thread = await self._open_thread(message, channel)
            if thread is None:
                return None
            return fmt.thread_key(guild, str(thread)), str(channel.id)
        return None

    async def ask(self, interaction: discord.Interaction, message: discord.Message) -> None:
        try:
            await interaction.response.defer(ephemeral=True, thinking=True)
            me = interaction.client.user
            text = fmt.strip_mention(message.content, me.id) if me else message.content
            if (me is not None and message.author.id == me.id) or message.author.bot:
                await self._tell(interaction, "I only answer messages from people.")
                return
            if not text.strip():
                await self._tell(interaction, "That message has no text for me to answer.")
                return
            found = await self._thread_of(interaction, message)
            if found is None:
                await self._tell(interaction, "I cannot open a thread on that message here.")
                return
            key, parent = found
            who = interaction.user.id
            author = message.author.id
            line = (
                f"<@{who}> asked me to answer this."
                if who == author
                else f"<@{who}> asked me to answer <@{author}>'s message."
            )
            await self._say(key, line)
            incoming = IncomingMessage(
                key=key,
                author_id=str(author),
                text=text,
                message_id=str(message.id),
                author_name=message.author.display_name,
                is_staff=self._is_staff(message.author),
                addressed_to_bot=True,
            )
            await self._run_turn(incoming, self._persona_for(key.workspace, parent))
            await self._tell(interaction, f"Answered in <#{key.thread}>.")
        finally:
            await self._finished(interaction.id)

    async def hand_to_support(
        self, interaction: discord.Interaction, message: discord.Message
    ) -> None:
        try:
            if not self._is_staff(interaction.user):
                await interaction.response.send_message(
                    "Only the support team can hand messages to support.", ephemeral=True
                )
                return
            await interaction.response.defer(ephemeral=True, thinking=True)
            found = await self._thread_of(interaction, message)
            if found is None:
                await self._tell(interaction, "I cannot open a thread on that message here.")
                return
            key, _ = found
            excerpt = fmt.safe_text(message.content)[:EXCERPT]
            reason = f"a message from {message.author.display_name}: {excerpt}".strip()
            event = await self._engine.staff_handoff(key, str(interaction.user.id), reason)
            if isinstance(event, HandoffRequested):
                await self._render(event, key)
                await self._tell(interaction, f"Handed to the support team: <#{key.thread}>.")
            else:
                await self._tell(interaction, "The team already has this thread.")
        finally:
            await self._finished(interaction.id)

    @staticmethod
    async def _tell(interaction: discord.Interaction, text: str) -> None:
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)
