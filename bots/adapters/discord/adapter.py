"""The Discord adapter: discord.py gateway events in, engine events out as thread messages.

It only translates. A mention in a text channel opens a public thread on that message (the
thread's id is the message's id, so a redelivered MESSAGE_CREATE finds the same thread and
the engine answers it once); the conversation is keyed `ThreadKey("discord", guild, thread,
thread)` (DMs: `@me` and the DM channel). Follow-ups in a known thread need no mention when
the Message Content intent is on; without it Discord sends them with empty text, and the bot
says once per thread that it needs a mention.

Every message carrying model text goes out with `allowed_mentions` none (also the client's
default); only the hand-off notice pings, and only the persona's support role. Buttons are
`DynamicItem`s whose custom ids carry the thread key, so they work after a restart.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextlib import AsyncExitStack, aclosing
from datetime import datetime, timedelta
from typing import Any

import discord
import yarl
from discord import app_commands

from bots.adapters.discord import actions as discord_actions
from bots.adapters.discord import formatting as fmt
from bots.adapters.discord import forums as discord_forums
from bots.adapters.discord import gateway as discord_gateway
from bots.adapters.discord import intake as discord_intake
from bots.adapters.discord import private_ask as discord_private_ask
from bots.adapters.discord import ratelimits
from bots.adapters.discord import staff as discord_staff
from bots.adapters.discord import stream as discord_stream
from bots.adapters.discord import ui as discord_ui
from bots.adapters.discord.files import DiscordFiles
from bots.errors import ConfigError
from bots.models import (
    EngineEvent,
    FinalReply,
    HandoffClaimed,
    HandoffRecord,
    HandoffReminder,
    HandoffRequested,
    HandoffResolved,
    IncomingMessage,
    IntakeDetails,
    ReplySource,
    StaffReply,
    StaleReply,
    TextDelta,
    ThreadKey,
    thread_of,
)
from bots.ops.periodic import repeat
from bots.store import Store
from bots.turn.engine import Engine
from bots.turn.faq_suggestions import FaqSuggestions
from bots.turn.help_channel import ChannelMessage, HelpChannels
from bots.turn.runtime import PersonaRuntime

log = logging.getLogger(__name__)

PLATFORM = fmt.PLATFORM
THREAD_EXISTS = 160004
"""Discord's error code for "a thread has already been created for this message"."""
NEEDS_MENTION = (
    "I can only read messages that @mention me here (the Message Content intent is off). "
    "Mention me in your next message and I'll answer."
)
NOT_DELIVERED = (
    "Sorry, Discord is limiting how fast I can post right now and my answer did not get "
    "through. Please ask again in a minute."
)
DONE_MEMORY = 10_000
_RATEABLE = frozenset({ReplySource.LLM, ReplySource.KNOWLEDGE})
_ANSWERABLE_TYPES = frozenset({discord.MessageType.default, discord.MessageType.reply})


def point_at(api_url: str | None, gateway_url: str | None) -> None:
    """Send REST calls to `api_url` and connect to `gateway_url` (a proxy, or a local fake).

    discord.py keeps both as class attributes, so this is process-wide: one bot per process.
    """
    if api_url:
        discord.http.Route.BASE = api_url.rstrip("/")
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def needed_permissions() -> discord.Permissions:
    """Exactly what the bot uses; see docs/discord.md for why each one is needed."""
    return discord.Permissions(
        view_channel=True,
        send_messages=True,
        send_messages_in_threads=True,
        create_public_threads=True,
        embed_links=True,
        read_message_history=True,
        # Forum posts: setting their tags, archiving or locking them when solved.
        manage_threads=True,
    )


def invite_url(application_id: int) -> str:
    return discord.utils.oauth_url(
        application_id, permissions=needed_permissions(), scopes=("bot", "applications.commands")
    )


class DiscordBot:
    """Wires an `Engine` to a discord.py client; `start(token)` runs it until cancelled."""

    def __init__(
        self,
        engine: Engine,
        personas: Mapping[str, PersonaRuntime],
        *,
        default_persona: str,
        store: Store | None = None,
        channel_personas: Mapping[str, str] | None = None,
        guild_personas: Mapping[str, str] | None = None,
        message_content: bool = True,
        ignore_other_bots: bool = True,
        shard_count: int | None = None,
        shard_ids: list[int] | None = None,
        clock: discord_stream.Clock = time.monotonic,
        sleep: discord_stream.Sleep = asyncio.sleep,
        edit_interval: float = 1.0,
        guild_ready_timeout: float = 2.0,
        forum_channels: Iterable[str] = (),
        wall_clock: Callable[[], datetime] = discord_forums.utc_now,
        files: DiscordFiles | None = None,
        help_channels: HelpChannels | None = None,
        faq: FaqSuggestions | None = None,
    ) -> None:
        """`files` downloads a message's attachments (None: they are not read);
        `help_channels` are answered without a mention (`bots.turn.help_channel`);
        `faq` gives resolved hand-off cards a "Save as FAQ" button (`discord_faq`)."""
        self._files = files
        self._help = help_channels
        self._saving = faq is not None
        self._engine = engine
        self._personas = personas
        self._default = default_persona
        self._store = store
        self._channel_personas = dict(channel_personas or {})
        self._guild_personas = dict(guild_personas or {})
        self._ignore_bots = ignore_other_bots
        self._sleep = sleep
        self._throttle = discord_stream.ChannelThrottle(clock, sleep, edit_interval)
        self._support_posts: dict[ThreadKey, discord_staff.SupportCard] = {}
        self._told_mention: set[str] = set()
        # Ids of handled messages and interactions (for `wait_done`), oldest dropped first.
        self._done: OrderedDict[str, int] = OrderedDict()
        self._changed = asyncio.Condition()
        intents = discord.Intents.none()
        intents.guilds = True
        intents.guild_messages = True
        intents.dm_messages = True
        intents.message_content = message_content
        options: dict[str, Any] = {
            "intents": intents,
            "allowed_mentions": discord_stream.NO_PINGS,
            "chunk_guilds_at_startup": False,
            "guild_ready_timeout": guild_ready_timeout,
            # Longer waits come back as RateLimited, so the stream skips edits instead of
            # stalling a turn (30 s is the least discord.py accepts).
            "max_ratelimit_timeout": 30.0,
        }
        # A support bot never joins voice: discord.py's warnings about voice libraries are noise.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        self.client: discord.Client
        if shard_count is not None:
            if shard_ids is not None:
                options["shard_ids"] = shard_ids
            self.client = discord.AutoShardedClient(shard_count=shard_count, **options)
        else:
            self.client = discord.Client(**options)
        # One change in Discord's payloads must not take the bot down (`discord_gateway`).
        discord_gateway.skip_unreadable_events(self.client)
        self.staff = discord_staff.StaffDesk(
            engine,
            store,
            is_staff=self._is_staff,
            render=self.render,
            say=self._say,
            remember_card=self._remember_card,
            finished=self._finished,
            faq=faq,
        )
        self.forums = discord_forums.ForumDesk(
            self.client,
            engine,
            personas,
            channels=forum_channels,
            store=store,
            persona_for=self._persona_for,
            is_staff=self._is_staff,
            render=self.render,
            finished=self._finished,
            sleep=sleep,
            clock=wall_clock,
        )
        setattr(self.client, discord_forums.HANDLER_ATTRIBUTE, self.forums)
        self.tree = app_commands.CommandTree(self.client)
        self.tree.add_command(self.staff.commands())
        self.actions = discord_actions.MessageActions(
            engine,
            bot_name=personas[default_persona].persona.display_name,
            is_staff=self._is_staff,
            persona_for=self._persona_for,
            open_thread=self._open_thread,
            run_turn=self._run_turn,
            render=self.render,
            say=self._say,
            finished=self._finished,
        )
        for menu in self.actions.commands():
            self.tree.add_command(menu)
        self.private_ask = discord_private_ask.PrivateAsk(
            engine,
            store,
            is_staff=self._is_staff,
            persona_for=self._persona_for,
            render=self.render,
            finished=self._finished,
            sleep=sleep,
        )
        self.tree.add_command(self.private_ask.command())
        setattr(self.client, discord_private_ask.HANDLER_ATTRIBUTE, self.private_ask)
        # discord.py looks up `on_<event>` and `setup_hook` on the client instance.
        setattr(self.client, "setup_hook", self._setup_hook)  # noqa: B010 - mypy refuses assigning to a method
        setattr(self.client, "on_message", self._on_message)  # noqa: B010 - mypy refuses assigning to a method
        setattr(self.client, "on_raw_thread_delete", self._on_thread_delete)  # noqa: B010 - mypy refuses assigning to a method
        # How a button click (a DynamicItem, built by discord.py) finds this bot's desk.
        setattr(self.client, discord_ui.HANDLER_ATTRIBUTE, self.staff)
        # The intake form's button and modal (`discord_intake`).
        self._intake = discord_intake.DiscordIntake(engine, self._post_details, self._finished)
        setattr(self.client, discord_intake.HANDLER_ATTRIBUTE, self._intake)

    # -- lifecycle -----------------------------------------------------------------------

    async def _setup_hook(self) -> None:
        self.client.add_dynamic_items(
            discord_ui.ClaimButton,
            discord_ui.ResolveButton,
            discord_ui.FeedbackButton,
            discord_forums.SolvedButton,
            discord_private_ask.PostPublicButton,
            discord_private_ask.AskPersonButton,
            discord_intake.IntakeButton,
            discord_ui.SaveFaqButton,
            discord_ui.ApproveFaqButton,
        )
        try:
            await self.tree.sync()
        except discord.HTTPException as exc:
            log.warning(
                "discord refused the slash commands (%s): /support is unavailable", exc.status
            )

    async def login(self, token: str) -> None:
        """Log in; a wrong token is a one-line error naming the variable, not a traceback."""
        try:
            await self.client.login(token)
        except discord.LoginFailure:
            raise ConfigError(
                "Discord refused DISCORD_BOT_TOKEN; copy it again from the Developer Portal "
                "(Bot > Reset Token)"
            ) from None
        except (OSError, discord.HTTPException) as exc:
            raise ConfigError(
                f"cannot reach Discord to check DISCORD_BOT_TOKEN ({type(exc).__name__})"
            ) from None

    async def connect(self) -> None:
        """Hold the gateway connection (reconnecting) until cancelled or closed."""
        try:
            await self.client.connect(reconnect=True)
        except discord.PrivilegedIntentsRequired:
            raise ConfigError(
                "Discord refused the Message Content intent: enable it in the Developer Portal "
                "(Bot > Privileged Gateway Intents) or set DISCORD_MESSAGE_CONTENT=0"
            ) from None

    async def close(self) -> None:
        await self.client.close()

    async def wait_done(self, item_id: int | str, seconds: float = 5.0, *, times: int = 1) -> None:
        """Wait until the message or interaction with this id was handled `times` times."""

        async def finished() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: self._done.get(str(item_id), 0) >= times)

        await asyncio.wait_for(finished(), seconds)

    async def _finished(self, item_id: int) -> None:
        async with self._changed:
            self._done[str(item_id)] = self._done.get(str(item_id), 0) + 1
            while len(self._done) > DONE_MEMORY:
                self._done.popitem(last=False)
            self._changed.notify_all()

    # -- messages ------------------------------------------------------------------------

    async def _on_message(self, message: discord.Message) -> None:
        try:
            await self._message(message)
        except discord.HTTPException as exc:
            cause = (
                "rate limited"
                if ratelimits.is_rate_limit(exc)
                else "thread deleted, locked or no permission"
            )
            log.warning(
                "discord refused a reply in channel %s (%s %s): %s; reply dropped",
                message.channel.id,
                exc.status,
                exc.code,
                cause,
            )
        finally:
            await self._finished(message.id)

    async def _message(self, message: discord.Message) -> None:
        me = self.client.user
        if me is None or message.author.id == me.id or message.webhook_id is not None:
            return
        if message.author.bot and self._ignore_bots:
            return
        if message.type not in _ANSWERABLE_TYPES:
            return
        mentioned = me.id in message.raw_mentions
        channel = message.channel
        guild = str(message.guild.id) if message.guild is not None else fmt.DM_WORKSPACE
        if message.guild is None:
            key, parent = fmt.thread_key(guild, str(channel.id)), channel.id
        elif isinstance(channel, discord.Thread):
            key, parent = fmt.thread_key(guild, str(channel.id)), channel.parent_id
            new_post = self.forums.is_new_post(message)
            if not mentioned and not new_post and not await self._engine.knows(key):
                return
        elif isinstance(channel, discord.TextChannel):
            bare = not fmt.strip_mention(message.content, me.id) and not message.attachments
            if mentioned and bare:
                return  # a bare mention has nothing to answer: no empty thread
            if not mentioned and not self._help_question(message, channel, me.id):
                return
            thread = await self._open_thread(message, channel)
            if thread is None:
                return
            key, parent = fmt.thread_key(guild, str(thread)), channel.id
        else:
            # A channel discord.py does not hold (it drops archived threads from its cache):
            # ours only if the bot already has a conversation there.
            key, parent = fmt.thread_key(guild, str(channel.id)), channel.id
            if not await self._engine.knows(key):
                return
        text = fmt.strip_mention(message.content, me.id)
        forum_post = isinstance(channel, discord.Thread) and self.forums.is_new_post(message)
        if forum_post and isinstance(channel, discord.Thread):
            text = self.forums.question(channel.name, text)
        if not text and not mentioned and not self.client.intents.message_content:
            await self._ask_for_mention(key)
            return
        persona = (
            self.forums.persona_of(guild, str(parent))
            if self.forums.post_of(channel) is not None
            else self._persona_for(guild, str(parent))
        )
        files = message.attachments
        attachments = await self._files.attachments(files) if self._files and files else ()
        incoming = IncomingMessage(
            key=key,
            author_id=str(message.author.id),
            text=text,
            message_id=str(message.id),
            author_name=message.author.display_name,
            is_staff=self._is_staff(message.author),
            addressed_to_bot=mentioned or message.guild is None or forum_post,
            attachments=attachments,
        )
        await self._run_turn(incoming, persona)

    def _help_question(
        self, message: discord.Message, channel: discord.TextChannel, me: int
    ) -> bool:
        """A top-level message in a help channel that asks something (the detector decides;
        a reply to someone, or a message naming another member, is people talking)."""
        if self._help is None or str(channel.id) not in self._help:
            return False
        to_someone = message.reference is not None or any(
            user != me for user in message.raw_mentions
        )
        question = ChannelMessage(message.content, to_someone=to_someone)
        return self._help.answers(str(channel.id), question)

    async def _open_thread(
        self, message: discord.Message, channel: discord.TextChannel
    ) -> int | None:
        name = fmt.thread_name(message.content, f"Question from {message.author.display_name}")

        def create() -> Awaitable[discord.Thread]:
            return message.create_thread(name=name, auto_archive_duration=1440)

        try:
            where = f"a thread in channel {channel.id}"
            thread = await ratelimits.retry_unretried_429(create, self._sleep, where)
        except discord.HTTPException as exc:
            if exc.code == THREAD_EXISTS:
                return message.id  # a redelivery: the thread from the first delivery
            if ratelimits.is_rate_limit(exc):
                # No thread, but the channel the user wrote in may still take a reply.
                await self._tell_not_delivered(
                    lambda: message.reply(NOT_DELIVERED, allowed_mentions=discord_stream.NO_PINGS),
                    f"channel {channel.id}",
                )
                return None
            log.warning(
                "cannot open a thread in channel %s (%s %s): is Create Public Threads allowed?",
                channel.id,
                exc.status,
                exc.code,
            )
            return None
        return thread.id

    async def _ask_for_mention(self, key: ThreadKey) -> None:
        if key.thread in self._told_mention:
            return
        self._told_mention.add(key.thread)
        await self._channel(key).send(NEEDS_MENTION, allowed_mentions=discord_stream.NO_PINGS)

    async def answer_interrupted(self, *, min_age: timedelta = timedelta(0)) -> int:
        """Answer the messages a previous run died in the middle of, in this process's
        shards (each once, even with several processes: the engine claims them); how many."""
        found = await self._engine.interrupted(min_age=min_age)
        waiting = [m for m in found if self._in_my_shards(m.key)]
        for message in waiting:
            try:
                await self._run_turn(message, self._default, resumed=True)
            except discord.HTTPException as exc:
                log.warning(
                    "discord refused the answer to a message left by the last run (%s %s)",
                    exc.status,
                    exc.code,
                )
        if waiting:
            log.info("answered %d message(s) left unanswered by the last run", len(waiting))
        return len(waiting)

    def _in_my_shards(self, key: ThreadKey) -> bool:
        if key.platform != fmt.PLATFORM:
            return False
        shards = getattr(self.client, "shard_ids", None)
        count = self.client.shard_count
        if not shards or not count:
            return True
        guild = 0 if key.workspace == fmt.DM_WORKSPACE else int(key.workspace)
        return (guild >> 22) % count in shards  # Discord's documented shard formula

    async def _run_turn(
        self, message: IncomingMessage, persona: str, *, resumed: bool = False
    ) -> None:
        key = message.key
        channel = self._channel(key)
        stream = discord_stream.StreamedReply(
            channel,
            int(key.thread),
            self._throttle,
            started=lambda reply_id: self._engine.reply_started(message, reply_id),
        )
        try:
            async with AsyncExitStack() as stack:
                try:
                    await stack.enter_async_context(channel.typing())
                except discord.HTTPException as exc:
                    log.info("discord typing indicator failed in %s (%s)", key.thread, exc.status)
                turn = (
                    self._engine.resume(message)
                    if resumed
                    else self._engine.handle(message, persona)
                )
                async with aclosing(turn) as events:
                    async for event in events:
                        if isinstance(event, TextDelta):
                            await stream.add(event.text)
                        elif isinstance(event, FinalReply):
                            await self._finish(stream, event, message)
                            await self.forums.after(event, key)
                        else:
                            await stream.discard()
                            await self.render(event, key)
        except discord.HTTPException as exc:
            if not ratelimits.is_rate_limit(exc):
                raise
            log.warning(
                "discord rate limited the reply in channel %s again after the wait (429): "
                "not delivered",
                key.thread,
            )
            await stream.discard()  # an answer cut short would read as the whole answer
            await self._tell_not_delivered(
                lambda: channel.send(NOT_DELIVERED, allowed_mentions=discord_stream.NO_PINGS),
                f"channel {key.thread}",
            )

    async def _tell_not_delivered(self, send: Callable[[], Awaitable[Any]], where: str) -> None:
        """Tell the user their answer did not get through, if Discord still takes that."""
        try:
            await ratelimits.retry_unretried_429(send, self._sleep, f"the notice in {where}")
        except discord.HTTPException as exc:
            log.warning(
                "discord refused the notice too (%s %s): nothing reaches the user in %s",
                exc.status,
                exc.code,
                where,
            )

    async def _finish(
        self, stream: discord_stream.StreamedReply, reply: FinalReply, message: IncomingMessage
    ) -> None:
        view = None
        if reply.source in _RATEABLE:
            view = discord_ui.feedback_view(message.key, message.message_id, message.author_id)
        view = self.forums.add_solved(view, message.key)
        await stream.finish(fmt.reply_messages(reply.text, reply.citations), view)

    def _channel(self, key: ThreadKey) -> discord.PartialMessageable:
        guild = None if key.workspace == fmt.DM_WORKSPACE else int(key.workspace)
        return self.client.get_partial_messageable(int(key.thread), guild_id=guild)

    def _persona_for(self, guild: str, channel: str) -> str:
        return (
            self._channel_personas.get(channel) or self._guild_personas.get(guild) or self._default
        )

    def _support_roles(self) -> set[int]:
        roles = {r.persona.handoff.discord.role_id for r in self._personas.values()}
        return {int(role) for role in roles if role.isdigit()}

    def _is_staff(self, user: discord.User | discord.Member) -> bool:
        if not isinstance(user, discord.Member):
            return False
        return bool({role.id for role in user.roles} & self._support_roles())

    async def _on_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        log.info(
            "discord thread %s was deleted: its conversation stays in the store, replies there "
            "are dropped",
            payload.thread_id,
        )

    # -- rendering -----------------------------------------------------------------------

    async def render(self, event: EngineEvent, key: ThreadKey) -> None:
        """Show one hand-off event: in the thread, and on the card in the support channel."""
        if isinstance(event, FinalReply):
            for piece in fmt.reply_messages(event.text, event.citations):
                await self._safe_send(self._channel(key), piece)
        elif isinstance(event, HandoffRequested):
            # The notice carries "Add details" (an intake form) and, in a forum post, Solved:
            # the asker may close a waiting post.
            view = self.forums.add_solved(self._intake_view(event), key)
            await self._safe_send(self._channel(key), fmt.safe_text(event.message), view)
            if event.record is not None:
                await self._notify_team(event.record)
        elif isinstance(event, HandoffClaimed):
            who = event.staff_id
            status = f"Claimed by {f'<@{who}>' if who.isdigit() else fmt.safe_text(who)}"
            await self._update_card(event.key, status, fmt.COLOUR_CLAIMED, resolvable=True)
        elif isinstance(event, HandoffResolved):
            await self._safe_send(self._channel(event.key), fmt.safe_text(event.message))
            who = f"<@{event.staff_id}>" if event.staff_id else "time-out"
            if event.staff_id and not event.staff_id.isdigit():  # an agent in a help desk
                who = fmt.safe_text(event.staff_id)
            await self._update_card(
                event.key,
                f"Resolved by {who}",
                fmt.COLOUR_RESOLVED,
                resolvable=False,
                savable=event.staff_answered and self._saving,
            )
        elif isinstance(event, HandoffReminder):
            await self._remind(event)
        elif isinstance(event, StaleReply):
            await self._mark_stale(key, event)
        elif isinstance(event, StaffReply):  # an agent answered from the help desk
            text = f"**{event.author_name}** ({event.desk}):\n{event.text}"
            for piece in fmt.split_message(fmt.safe_text(text)):
                await self._safe_send(self._channel(event.key), piece)
        await self.forums.after(event, key)

    async def _mark_stale(self, key: ThreadKey, event: StaleReply) -> None:
        """A reply a dead process left half-written: its text becomes the cut-short note."""
        if not event.message_id.isdigit():
            return
        stale = self._channel(key).get_partial_message(int(event.message_id))
        try:
            await stale.edit(
                content=fmt.safe_text(event.text), allowed_mentions=discord_stream.NO_PINGS
            )
        except discord.HTTPException as exc:
            log.info("discord could not mark a stale reply (%s)", exc.status)

    def _remember_card(self, key: ThreadKey, card: discord_staff.SupportCard) -> None:
        self._support_posts.setdefault(key, card)  # a card this process posted knows more

    async def _say(self, key: ThreadKey, content: str) -> None:
        await self._safe_send(self._channel(key), content)

    async def _safe_send(
        self,
        channel: discord.abc.Messageable,
        content: str,
        view: discord.ui.View | None = None,
    ) -> None:
        """Send `content` (split to fit), `view` under its last piece; a refusal is logged."""
        try:
            pieces = fmt.split_message(content) or ["…"]
            for number, piece in enumerate(pieces, 1):
                last = view if number == len(pieces) else None

                def send(piece: str = piece, last: Any = last) -> Awaitable[discord.Message]:
                    if last is None:
                        return channel.send(piece, allowed_mentions=discord_stream.NO_PINGS)
                    return channel.send(piece, allowed_mentions=discord_stream.NO_PINGS, view=last)

                await ratelimits.retry_unretried_429(send, self._sleep, "a message")
        except discord.HTTPException as exc:
            log.warning("discord refused a message (%s %s): dropped", exc.status, exc.code)

    def _intake_view(self, event: HandoffRequested) -> discord.ui.View | None:
        """The "Add details" button under a hand-off message, when the persona has a form."""
        record = event.record
        runtime = self._personas.get(record.persona) if record is not None else None
        if record is None or runtime is None or not runtime.persona.intake.enabled:
            return None
        return discord_intake.intake_view(runtime.persona.intake, record.key, record.user_id)

    async def _post_details(self, details: IntakeDetails, text: str) -> None:
        """The intake answers to the support channel, as a reply to the team's card."""
        card = self._support_posts.get(details.key)
        channel_id = str(card.channel_id) if card else self._destination(details.persona)[0]
        if not channel_id.isdigit():
            log.warning("no support channel for %s: its details not posted", details.key.as_id())
            return
        channel = self.client.get_partial_messageable(int(channel_id))
        reference = (
            channel.get_partial_message(card.message_id).to_reference(fail_if_not_exists=False)
            if card
            else discord.utils.MISSING
        )
        try:
            await channel.send(
                text[: fmt.MESSAGE_LIMIT],
                allowed_mentions=discord_stream.NO_PINGS,
                reference=reference,
            )
        except discord.HTTPException as exc:
            log.warning("discord refused the intake details (%s %s)", exc.status, exc.code)

    def _destination(self, persona: str) -> tuple[str, str]:
        runtime = self._personas.get(persona) or self._personas[self._default]
        where = runtime.persona.handoff.discord
        return where.channel_id, where.role_id

    async def _notify_team(self, record: HandoffRecord) -> None:
        channel_id, role_id = self._destination(record.persona)
        if not channel_id.isdigit():
            log.warning(
                "persona %s has no handoff.discord.channel_id: team not notified", record.persona
            )
            return
        link = record.link or fmt.thread_link(record.key)
        embed = fmt.handoff_embed(record, link)
        ping = fmt.role_ping(role_id, f"New hand-off: {record.reason.label}")
        channel = self.client.get_partial_messageable(int(channel_id))

        def post() -> Awaitable[discord.Message]:
            return channel.send(
                ping.content,
                embed=embed,
                view=discord_ui.handoff_view(record.key),
                allowed_mentions=ping.allowed,
            )

        try:
            posted = await ratelimits.retry_unretried_429(post, self._sleep, "a hand-off card")
        except discord.HTTPException as exc:
            log.warning(
                "discord refused the hand-off notice in %s (%s): team not notified",
                channel_id,
                exc.status,
            )
            return
        self._support_posts[record.key] = discord_staff.SupportCard(
            posted.channel.id, posted.id, embed
        )

    async def _update_card(
        self,
        key: ThreadKey,
        status: str,
        colour: discord.Colour,
        *,
        resolvable: bool,
        savable: bool = False,
    ) -> None:
        post = self._support_posts.get(key)
        if post is None:
            log.info("no hand-off card known for %s: nothing to update", key.as_id())
            return
        post.embed = fmt.updated_embed(post.embed, status, colour)
        view = discord_ui.handoff_view(key, claimable=False) if resolvable else None
        if savable:
            view = discord_ui.save_faq_view(key)
        message = self.client.get_partial_messageable(post.channel_id).get_partial_message(
            post.message_id
        )
        try:
            await message.edit(
                embed=post.embed, view=view, allowed_mentions=discord_stream.NO_PINGS
            )
        except discord.HTTPException as exc:
            log.warning("discord refused the hand-off card update (%s)", exc.status)
        if not resolvable:
            self._support_posts.pop(key, None)

    async def _remind(self, event: HandoffReminder) -> None:
        channel_id, role_id = self._destination(event.record.persona)
        post = self._support_posts.get(event.record.key)
        target = post.channel_id if post else int(channel_id) if channel_id.isdigit() else None
        if target is None:
            return
        link = fmt.thread_link(event.record.key)
        text = f"Still unclaimed after {event.waiting_minutes} min: {link}"
        ping = fmt.role_ping(role_id, text)
        channel = self.client.get_partial_messageable(target)
        try:
            if post is not None:
                card = channel.get_partial_message(post.message_id)
                await card.reply(ping.content, allowed_mentions=ping.allowed, mention_author=False)
            else:
                await channel.send(ping.content, allowed_mentions=ping.allowed)
        except discord.HTTPException as exc:
            log.warning("discord refused a hand-off reminder (%s)", exc.status)

    async def tick(self) -> None:
        """Timed work (reminders, hand-backs after quiet): call every minute or so."""
        for event in await self._engine.tick():
            if (key := thread_of(event)) is not None:
                await self.render(event, key)
        await self.forums.nudge()

    async def tick_forever(self, seconds: float = 60.0) -> None:
        """Run `tick` every `seconds` until cancelled; a failing tick is logged, not fatal."""
        await repeat(self.tick, seconds, "discord tick")
