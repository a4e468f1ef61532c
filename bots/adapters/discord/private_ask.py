"""A private `/ask`: the answer only the asker sees, with buttons to post it or get a person.

The question is a conversation of its own, keyed by the interaction's id (there is no thread:
an ephemeral reply lives nowhere else), answered whole rather than streamed (an ephemeral
follow-up is one message). "Post in the channel" puts the question and the answer, as the
store holds them, in the channel; "Ask for a person" posts the question, opens a thread on
it and hands that thread to the team, so staff have a public place to reply. Buttons are
`DynamicItem`s carrying the private key and the asker, so they work after a restart.

A question that itself asks for a person goes the same way: the private conversation's
hand-off is given straight back (nobody can reply to an ephemeral message) and the public
thread gets the team's notice.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from typing import Any

import discord
from discord import app_commands

from bots.adapters.discord import formatting as fmt
from bots.adapters.discord import ratelimits
from bots.models import (
    EngineEvent,
    FinalReply,
    HandoffRequested,
    IncomingMessage,
    Role,
    ThreadKey,
)
from bots.store import Store
from bots.turn.engine import Engine

log = logging.getLogger(__name__)

HANDLER_ATTRIBUTE = "private_ask"
NO_PINGS = discord.AllowedMentions.none()
PUBLIC_PREFIX = "bots:askpub"
PERSON_PREFIX = "bots:askperson"
_TAIL = ":" + fmt.KEY_PATTERN + r":(?P<asker>\d+)"
NOTHING = "I have nothing to add to that."


def _custom_id(prefix: str, key: ThreadKey, asker: str) -> str:
    return f"{prefix}:{fmt.key_part(key)}:{asker}"


class _AskButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=PUBLIC_PREFIX + _TAIL):
    public = True
    label = "Post in the channel"

    def __init__(self, key: ThreadKey, asker: str) -> None:
        self.key, self.asker = key, asker
        prefix = PUBLIC_PREFIX if self.public else PERSON_PREFIX
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=self.label,
            style=discord.ButtonStyle.secondary,
            custom_id=_custom_id(prefix, key, asker),
        )
        super().__init__(button)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> _AskButton:
        return cls(fmt.key_from(match), match["asker"])

    async def callback(self, interaction: discord.Interaction) -> None:
        desk = getattr(interaction.client, HANDLER_ATTRIBUTE, None)
        if isinstance(desk, PrivateAsk):
            await desk.on_button(interaction, self.key, self.asker, public=self.public)


class PostPublicButton(_AskButton, template=PUBLIC_PREFIX + _TAIL):
    public = True
    label = "Post in the channel"


class AskPersonButton(_AskButton, template=PERSON_PREFIX + _TAIL):
    public = False
    label = "Ask for a person"


def answer_view(key: ThreadKey, asker: str, *, postable: bool = True) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    if postable:
        view.add_item(PostPublicButton(key, asker))
    view.add_item(AskPersonButton(key, asker))
    return view


class PrivateAsk:
    """`/ask` and its two buttons; the adapter supplies threads, rendering and sending."""

    def __init__(
        self,
        engine: Engine,
        store: Store | None,
        *,
        is_staff: Callable[[discord.User | discord.Member], bool],
        persona_for: Callable[[str, str], str],
        render: Callable[[EngineEvent, ThreadKey], Awaitable[None]],
        finished: Callable[[int], Awaitable[None]],
        sleep: ratelimits.Sleep,
    ) -> None:
        self._engine = engine
        self._store = store
        self._is_staff = is_staff
        self._persona_for = persona_for
        self._render = render
        self._finished = finished
        self._sleep = sleep

    def command(self) -> app_commands.Command[Any, Any, None]:
        @app_commands.command(name="ask", description="Ask a question; only you see the answer")
        @app_commands.describe(question="Your question")
        @app_commands.guild_only()
        async def ask(interaction: discord.Interaction, question: str) -> None:
            await self.ask(interaction, question)

        return ask

    async def ask(self, interaction: discord.Interaction, question: str) -> None:
        try:
            await interaction.response.defer(ephemeral=True, thinking=True)
            guild = str(interaction.guild_id)
            key = fmt.thread_key(guild, str(interaction.id))
            user = interaction.user
            incoming = IncomingMessage(
                key=key,
                author_id=str(user.id),
                text=question,
                message_id=str(interaction.id),
                author_name=user.display_name,
                is_staff=self._is_staff(user),
                addressed_to_bot=True,
            )
            persona = self._persona_for(guild, str(interaction.channel_id))
            reply, handoff = await self._answer(incoming, persona)
            if handoff is not None:
                # Nobody can reply to an ephemeral message: the hand-off goes to a public
                # thread instead, and the private one is given straight back.
                await self._engine.resolve(key, None)
                thread = await self._hand_over(interaction, key, str(user.id), question)
                text = fmt.safe_text(handoff.message)
                if thread is not None:
                    text += f" <#{thread}>"
                await self._tell(interaction, text)
                return
            pieces = fmt.reply_messages(reply.text, reply.citations) if reply else [NOTHING]
            for piece in pieces[:-1]:
                await self._tell(interaction, piece)
            view = answer_view(key, str(user.id), postable=reply is not None)
            await interaction.followup.send(
                pieces[-1], ephemeral=True, view=view, allowed_mentions=NO_PINGS
            )
        finally:
            await self._finished(interaction.id)

    async def _answer(
        self, incoming: IncomingMessage, persona: str
    ) -> tuple[FinalReply | None, HandoffRequested | None]:
        reply: FinalReply | None = None
        async with aclosing(self._engine.handle(incoming, persona)) as events:
            async for event in events:
                if isinstance(event, FinalReply):
                    reply = event
                elif isinstance(event, HandoffRequested):
                    return None, event
        return reply, None

    async def on_button(
        self, interaction: discord.Interaction, key: ThreadKey, asker: str, *, public: bool
    ) -> None:
        try:
            if str(interaction.user.id) != asker:
                await interaction.response.send_message(
                    "Only the person who asked can do that.", ephemeral=True
                )
                return
            await interaction.response.defer()
            question, answer = await self._exchange(key)
            if public:
                said = f"{fmt.safe_text(question)}\n\n{fmt.safe_text(answer)}".strip()
                done = await self._post(interaction, f"<@{asker}> asked: {said}")
                note = "Posted in the channel." if done else "I could not post in this channel."
            else:
                thread = await self._hand_over(interaction, key, asker, question)
                note = (
                    f"I asked the team in <#{thread}>."
                    if thread is not None
                    else "I could not open a thread for the team here."
                )
            await interaction.edit_original_response(
                content=note, view=None, allowed_mentions=NO_PINGS
            )
        finally:
            await self._finished(interaction.id)

    async def _exchange(self, key: ThreadKey) -> tuple[str, str]:
        """The private question and the assistant's last answer, as the store holds them."""
        if self._store is None:
            return "", ""
        conversation = await self._store.get_conversation(key)
        if conversation is None:
            return "", ""
        turns = await self._store.recent_turns(conversation.id, 20)
        question = next((t.text for t in turns if t.role == Role.USER), "")
        answer = next((t.text for t in reversed(turns) if t.role == Role.ASSISTANT), "")
        return question, answer

    async def _post(self, interaction: discord.Interaction, text: str) -> discord.Message | None:
        channel = interaction.channel
        if not isinstance(channel, discord.abc.Messageable):
            return None
        first: discord.Message | None = None
        try:
            for piece in fmt.split_message(text):  # the callers made the user text safe

                def send(piece: str = piece) -> Awaitable[discord.Message]:
                    return channel.send(piece, allowed_mentions=NO_PINGS)

                sent = await ratelimits.retry_unretried_429(send, self._sleep, "an /ask post")
                first = first or sent
        except discord.HTTPException as exc:
            log.warning("discord refused an /ask post (%s %s)", exc.status, exc.code)
        return first

    async def _hand_over(
        self, interaction: discord.Interaction, key: ThreadKey, asker: str, question: str
    ) -> int | None:
        """Post the question, open a thread on it, and hand that thread to the team."""
        posted = await self._post(interaction, f"<@{asker}> asked: {fmt.safe_text(question)}")
        if posted is None:
            return None
        try:
            name = fmt.thread_name(question, "A question for the team")
            thread = await posted.create_thread(name=name, auto_archive_duration=1440)
        except discord.HTTPException as exc:
            log.warning("cannot open a thread for an /ask hand-off (%s %s)", exc.status, exc.code)
            return None
        public = fmt.thread_key(key.workspace, str(thread.id))
        event = await self._engine.person_asked(public, asker, f"after a private /ask: {question}")
        if isinstance(event, HandoffRequested):
            await self._render(event, public)
        return thread.id

    @staticmethod
    async def _tell(interaction: discord.Interaction, text: str) -> None:
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)
