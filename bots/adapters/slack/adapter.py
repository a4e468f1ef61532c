"""The Slack adapter: slack-bolt events in, engine events out as Slack messages and updates.

It only translates. A message becomes an `IncomingMessage` keyed by
`ThreadKey("slack", team, channel, thread_ts or ts)` with the message `ts` as its id, so the
`app_mention` and `message` copies of one mention, and Slack's redeliveries, are the same
message to the engine, which answers it once (the store remembers it across restarts).

Feedback: each answer from the model or the knowledge base ends with 👍/👎 buttons whose value
holds the thread key, the answered message's ts and its author; only that author may click.
A click goes to `Engine.feedback`; the buttons are then replaced by a line (`chat.update`), and
a 👎 posts the engine's offer of a person, which a following "yes" accepts.

Streaming (`slack_stream`), Web API calls and their errors (`slack_api`, `slack_send`), the
signature check in front of bolt over HTTP (`slack_http`), the support channel
(`slack_team`, `slack_support_posts`) and `/support` (`slack_command`) live in their own
modules; this one wires them to bolt's listeners.

Acknowledging: the app runs with `process_before_response=False`, the default for a
long-running server. Bolt acknowledges an event *before* starting the listener and runs the
listener as a task, and our action listeners call `ack()` first, so Slack gets its 200 within
milliseconds however slow the model is. (`process_before_response=True` with lazy listeners
is only needed on FaaS, where work after the response is frozen.)
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import aclosing, asynccontextmanager
from datetime import timedelta
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bots.adapters.slack import command as slack_command
from bots.adapters.slack import faq as slack_faq
from bots.adapters.slack import formatting as fmt
from bots.adapters.slack import intake
from bots.adapters.slack.api import Sleep, make_client
from bots.adapters.slack.assistant import AssistantPane, PaneStatus
from bots.adapters.slack.files import SlackFiles
from bots.adapters.slack.http import events_app
from bots.adapters.slack.intake import IntakeFlow
from bots.adapters.slack.relay import Relay, support_thread_reply
from bots.adapters.slack.send import Sender
from bots.adapters.slack.shortcuts import ASK_CALLBACK, HANDOFF_CALLBACK, MessageShortcuts
from bots.adapters.slack.stream import ReplyStream, StreamSupport, StreamTiming, mark_stale
from bots.adapters.slack.support_posts import SupportPost
from bots.adapters.slack.team import SupportTeam
from bots.adapters.slack.working import WorkingSign
from bots.errors import ConfigError
from bots.models import (
    EngineEvent,
    FinalReply,
    HandoffClaimed,
    HandoffReminder,
    HandoffRequested,
    HandoffResolved,
    IncomingMessage,
    ReplySource,
    SilenceReason,
    Silent,
    StaffReply,
    StaleReply,
    TextDelta,
    ThreadKey,
    thread_of,
)
from bots.ops.periodic import repeat
from bots.telemetry import NO_TELEMETRY, Telemetry
from bots.turn.engine import Engine
from bots.turn.faq_suggestions import FaqSuggestions
from bots.turn.help_channel import ChannelMessage, HelpChannels
from bots.turn.runtime import PersonaRuntime

log = logging.getLogger(__name__)
# bolt's middleware copy this logger's level: at WARNING, its INFO lines (which include the
# whole body of a badly signed request, message text and all) never reach the logs.
_BOLT_LOG = logging.getLogger(__name__ + ".bolt")
_BOLT_LOG.setLevel(logging.WARNING)

PLATFORM = "slack"
EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
COMMAND = "/support"
IGNORED_SUBTYPES = frozenset(
    {"message_changed", "message_deleted", "bot_message", "channel_join", "channel_leave"}
)
StaffCheck = Callable[[str], Awaitable[bool]]
RATED_MEMORY = 10_000
"""How many rated answers the adapter remembers to ignore repeated clicks."""
_RATEABLE = frozenset({ReplySource.LLM, ReplySource.KNOWLEDGE})


def _nothing() -> None:
    return None


class SlackBot:
    """Wires an `Engine` to a bolt `AsyncApp`; `app` is what Socket Mode or HTTP serves."""

    def __init__(
        self,
        engine: Engine,
        personas: Mapping[str, PersonaRuntime],
        *,
        bot_token: str,
        signing_secret: str,
        default_persona: str,
        api_url: str | None = None,
        channel_personas: Mapping[str, str] | None = None,
        is_staff: StaffCheck | None = None,
        ignore_other_bots: bool = True,
        telemetry: Telemetry = NO_TELEMETRY,
        sleep: Sleep = asyncio.sleep,
        stream_timing: StreamTiming | None = None,
        files: SlackFiles | None = None,
        help_channels: HelpChannels | None = None,
        faq: FaqSuggestions | None = None,
    ) -> None:
        """`sleep` waits out Slack's `Retry-After`; `stream_timing` paces streamed answers;
        `files` downloads a message's attachments (None: they are not read);
        `help_channels` are answered without a mention (`bots.turn.help_channel`);
        `faq` gives resolved hand-offs a "Save as FAQ" button (`slack_faq`)."""
        self._files = files
        self._help = help_channels
        self._engine = engine
        self._telemetry = telemetry
        self._personas = personas
        self._default = default_persona
        self._channel_personas = dict(channel_personas or {})
        self._is_staff = is_staff
        self._ignore_bots = ignore_other_bots
        self._signing_secret = signing_secret
        self._busy = 0
        self._idle = asyncio.Event()
        self._idle.set()
        # One connection pool for every Web API call (see `make_client`); closed by `aclose`.
        self._session = aiohttp.ClientSession()
        client = make_client(bot_token, api_url, sleep=sleep, session=self._session)
        quick = make_client(bot_token, api_url, retry_rate_limits=False, session=self._session)
        self._send = Sender(client, quick, telemetry)
        self._stream_support = StreamSupport()
        self._stream_timing = stream_timing or StreamTiming()
        self._team = SupportTeam(self._send, personas, default_persona)
        self._relay = Relay(self._send, self._team)
        self.app = AsyncApp(
            client=client,
            signing_secret=signing_secret,
            process_before_response=False,
            ignoring_self_events_enabled=True,
            logger=_BOLT_LOG,
        )
        self.client = client
        track = [self._track]
        # The assistant pane's events go through bolt's Assistant middleware (`slack_assistant`).
        self._pane = AssistantPane(
            engine=engine,
            send=self._send,
            persona_of=self._runtime_for,
            incoming=self._incoming,
            run_turn=self._run_pane_turn,
            track=self._track,
            done=self._done,
        )
        self.app.use(self._pane.middleware)
        self.app.event("app_mention", middleware=track)(self._on_mention)
        self.app.event("message", middleware=track)(self._on_message)
        self.app.action(fmt.CLAIM_ACTION, middleware=track)(self._on_claim)
        self.app.action(fmt.RESOLVE_ACTION, middleware=track)(self._on_resolve)
        self.app.action(fmt.FEEDBACK_UP_ACTION, middleware=track)(self._on_feedback)
        self.app.action(fmt.FEEDBACK_DOWN_ACTION, middleware=track)(self._on_feedback)
        self.app.action(fmt.FEEDBACK_NATIVE_ACTION, middleware=track)(self._on_native_feedback)
        self.app.command(COMMAND, middleware=track)(self._on_command)
        self._faq = (
            None if faq is None else slack_faq.FaqButtons(faq, self._send, self._team, is_staff)
        )
        self.app.action(fmt.SAVE_FAQ_ACTION, middleware=track)(self._on_faq_button)
        self.app.action(fmt.APPROVE_FAQ_ACTION, middleware=track)(self._on_faq_button)
        self._shortcuts = MessageShortcuts(
            engine,
            is_staff=is_staff,
            run_turn=self._run_turn,
            render=self.render,
            say=self._say,
            call=self._call,
        )
        for callback_id in (ASK_CALLBACK, HANDOFF_CALLBACK):
            shortcut: dict[str, str | re.Pattern[str]] = {
                "type": "message_action",
                "callback_id": callback_id,
            }
            self.app.shortcut(shortcut, middleware=track)(self._on_shortcut)
        # The intake form (`slack_intake`): the hand-off message's button, then its modal.
        self._intake = IntakeFlow(
            engine, self._send, self._team, lambda key, text: self._say(key, text)
        )
        self.app.action(intake.OPEN_ACTION, middleware=track)(self._on_intake_open)
        self.app.view(intake.CALLBACK_ID, middleware=track)(self._on_intake_submit)
        # Answers already rated in this process (thread id, answered ts): a second click on a
        # stale copy of the buttons, or a double click racing the update, does nothing.
        self._rated: OrderedDict[tuple[str, str], None] = OrderedDict()
        # Threads of the assistant pane, whose answers get Slack's native feedback buttons.
        self._pane_threads: OrderedDict[ThreadKey, None] = OrderedDict()

    # -- work tracking (lets tests and shutdown wait for listeners bolt runs as tasks) ---

    async def _track(self, next: Callable[[], Awaitable[None]]) -> None:
        # Runs inside bolt's dispatch, before the ack and the listener task: counted here,
        # released in the listener's `finally`.
        self._busy += 1
        self._idle.clear()
        await next()

    def _done(self) -> None:
        self._busy -= 1
        if self._busy <= 0:
            self._busy = 0
            self._idle.set()

    async def aclose(self) -> None:
        """Close the Web API connections (after the last call)."""
        await self._session.close()

    async def wait_idle(self, seconds: float = 10.0) -> None:
        """Wait until every listener started so far has finished (at most `seconds`)."""
        await asyncio.wait_for(self._idle.wait(), seconds)

    # -- events --------------------------------------------------------------------------

    async def _on_mention(self, body: dict[str, Any], event: dict[str, Any], context: Any) -> None:
        try:
            message = await self._incoming(body, event, context.bot_user_id)
            if message is not None:
                await self._run_turn(message)
        finally:
            self._done()

    async def _on_message(self, body: dict[str, Any], event: dict[str, Any], context: Any) -> None:
        try:
            channels = self._team.support_channels()
            if support_thread_reply(event, channels) and await self._relay_staff_reply(event):
                return
            if await self._wants(event, context.bot_user_id, body):
                message = await self._incoming(body, event, context.bot_user_id)
                if message is not None:
                    await self._run_turn(message)
        finally:
            self._done()

    async def _relay_staff_reply(self, event: dict[str, Any]) -> bool:
        """A staff reply under the notice of a private (pane) chat: into that chat (`slack_relay`).
        False when the notice is not for such a chat: the message goes the usual way."""
        key = await self._relay.chat_of(str(event["channel"]), str(event["thread_ts"]))
        user = str(event["user"])
        if key is None or (self._is_staff is not None and not await self._is_staff(user)):
            return False
        text = str(event.get("text") or "")
        message = IncomingMessage(key, user, text, str(event["ts"]), is_staff=True)
        duplicate = False
        async with aclosing(
            self._engine.handle(message, self._runtime_for(key.channel).persona.name)
        ) as turn:
            async for happened in turn:
                duplicate = duplicate or happened == Silent(SilenceReason.DUPLICATE)
                if isinstance(happened, HandoffClaimed):
                    await self.render(happened, key)
        if not duplicate:
            await self._relay.to_chat(key, user, text)
        return True

    async def _wants(self, event: dict[str, Any], bot_user_id: str | None, body: Any) -> bool:
        """A plain `message` is ours in a DM, when it mentions us, or in a thread we are in."""
        if event.get("channel_type") == "im":
            return True
        if bot_user_id and f"<@{bot_user_id}>" in str(event.get("text", "")):
            return True  # the app_mention copy is the same message: the engine answers once
        thread = event.get("thread_ts")
        if not thread:
            return self._help_question(event, bot_user_id)
        key = ThreadKey(PLATFORM, _team(body, event), str(event.get("channel", "")), str(thread))
        return await self._engine.knows(key)

    def _help_question(self, event: dict[str, Any], bot_user_id: str | None) -> bool:
        """A top-level message in a help channel that asks something (the detector decides;
        a message naming another member is people talking to each other)."""
        if self._help is None or event.get("channel") not in self._help:
            return False
        text = str(event.get("text") or "")
        others = {user for user in re.findall(r"<@([A-Z0-9]+)", text) if user != bot_user_id}
        message = ChannelMessage(text, to_someone=bool(others))
        return self._help.answers(str(event["channel"]), message)

    async def _incoming(
        self, body: dict[str, Any], event: dict[str, Any], bot_user_id: str | None
    ) -> IncomingMessage | None:
        if event.get("subtype") in IGNORED_SUBTYPES or "ts" not in event:
            return None
        if not event.get("channel"):
            return None  # nowhere to answer (not a shape Slack sends for messages)
        if event.get("bot_id") and self._ignore_bots:
            return None
        user = str(event.get("user") or "")
        if not user or user == bot_user_id:
            return None
        text = str(event.get("text") or "")
        addressed = event.get("type") == "app_mention" or event.get("channel_type") == "im"
        if bot_user_id:
            addressed = addressed or f"<@{bot_user_id}>" in text
            text = re.sub(rf"<@{re.escape(bot_user_id)}>\s*", "", text)
        ts = str(event["ts"])
        key = ThreadKey(
            PLATFORM, _team(body, event), str(event["channel"]), str(event.get("thread_ts") or ts)
        )
        staff = await self._is_staff(user) if self._is_staff is not None else False
        files = await self._files.attachments(event) if self._files is not None else ()
        return IncomingMessage(
            key=key,
            author_id=user,
            text=text,
            message_id=ts,
            is_staff=staff,
            addressed_to_bot=addressed,
            attachments=files,
        )

    async def answer_interrupted(self, *, min_age: timedelta = timedelta(0)) -> int:
        """Answer the messages a previous run died in the middle of (each once, even with
        several processes: the engine claims them); returns how many. Run at start."""
        found = await self._engine.interrupted(min_age=min_age)
        waiting = [m for m in found if m.key.platform == PLATFORM]  # a shared store holds more
        for message in waiting:
            self._busy += 1
            self._idle.clear()
            try:
                await self._run_turn(message, resumed=True)
            finally:
                self._done()
        if waiting:
            log.info("answered %d message(s) left unanswered by the last run", len(waiting))
        return len(waiting)

    async def _run_pane_turn(self, message: IncomingMessage, status: PaneStatus) -> None:
        silences = await self._run_turn(message, pane=status)
        if SilenceReason.HUMAN_OWNS_THREAD in silences and not message.is_staff:
            await self._relay.to_team(message)  # people have the chat: the team reads it

    def _runtime_for(self, channel: str) -> PersonaRuntime:
        name = self._channel_personas.get(channel, self._default)
        return self._personas.get(name) or self._personas[self._default]

    async def _run_turn(
        self, message: IncomingMessage, *, resumed: bool = False, pane: PaneStatus | None = None
    ) -> set[SilenceReason]:
        """One turn; in the assistant pane (`pane`) its status stands in for the 👀 reaction.
        Returns why the bot stayed silent, if it did (the pane relays to the team then)."""
        persona = self._channel_personas.get(message.key.channel, self._default)
        if pane is not None:
            self._pane_threads[message.key] = None
            while len(self._pane_threads) > RATED_MEMORY:
                self._pane_threads.popitem(last=False)
        stream = ReplyStream(
            self._send,
            message.key,
            recipient=message.author_id,
            support=self._stream_support,
            timing=self._stream_timing,
            started=lambda ts: self._engine.reply_started(message, ts),
        )
        # No sign of work on a message the bot will not answer (a person has the thread).
        answering = resumed or not await self._engine.stays_silent(message)
        if answering and pane is not None and not await pane.thinking():
            pane = None  # Slack refused the status: the reaction shows the work instead
        # Outside the pane a reaction shows the bot is working, when the answer is slow to show.
        working = None
        if answering and pane is None:
            working = WorkingSign(
                self._call,
                channel=message.key.channel,
                timestamp=message.message_id,
                after=self._stream_timing.working_after,
                showing=lambda: stream.under_way,
            )
            working.start()
        said = False
        silences: set[SilenceReason] = set()
        try:
            turn = (
                self._engine.resume(message) if resumed else self._engine.handle(message, persona)
            )
            async with aclosing(turn) as events:
                async for event in events:
                    said = said or not isinstance(event, Silent)
                    if isinstance(event, Silent):
                        silences.add(event.why)
                    if isinstance(event, TextDelta):
                        await stream.add(event.text)
                    elif isinstance(event, FinalReply) and await stream.opened():
                        await stream.finish(event, self._feedback_value(event, message))
                    else:
                        await stream.abandon()
                        await self.render(event, message.key, answering=message)
        finally:
            stream.call_off()
            if answering and pane is not None and not said:
                await pane.clear()
            if working is not None:
                await working.end()
        return silences

    # -- staff buttons -------------------------------------------------------------------

    async def _on_claim(self, ack: Any, body: dict[str, Any]) -> None:
        try:
            await ack()
            await self._button(body, claim=True)
        finally:
            self._done()

    async def _on_resolve(self, ack: Any, body: dict[str, Any]) -> None:
        try:
            await ack()
            await self._button(body, claim=False)
        finally:
            self._done()

    async def _button(self, body: dict[str, Any], *, claim: bool) -> None:
        action = (body.get("actions") or [{}])[0]
        key = fmt.decode_key(str(action.get("value", "")))
        staff = str((body.get("user") or {}).get("id", ""))
        channel = str((body.get("channel") or {}).get("id", ""))
        posted = body.get("message") or {}
        if key is None or not staff:
            log.warning("slack button without a thread or a user: ignored")
            return
        if self._is_staff is not None and not await self._is_staff(staff):
            await self._call(
                "chat_postEphemeral",
                channel=channel,
                user=staff,
                text="Only the support team can claim or resolve hand-offs.",
            )
            return
        if channel and posted.get("ts"):
            blocks = list(posted.get("blocks") or [])
            self._team.posts.remember(key, SupportPost(channel, str(posted["ts"]), blocks))
        result = await (
            self._engine.claim(key, staff) if claim else self._engine.resolve(key, staff)
        )
        if isinstance(result, HandoffClaimed | HandoffResolved):
            await self.render(result, key)
        elif channel:
            await self._call(
                "chat_postEphemeral",
                channel=channel,
                user=staff,
                text="Nothing to do: this conversation is not waiting for the team.",
            )

    async def _on_faq_button(self, ack: Any, body: dict[str, Any]) -> None:
        try:
            await ack()
            action = str(((body.get("actions") or [{}])[0]).get("action_id", ""))
            if self._faq is not None and action == fmt.SAVE_FAQ_ACTION:
                await self._faq.save(body)
            elif self._faq is not None:
                await self._faq.approve(body)
        finally:
            self._done()

    # -- message shortcuts (`slack_shortcuts`) ------------------------------------------

    async def _on_shortcut(self, ack: Any, body: dict[str, Any], context: Any) -> None:
        try:
            await ack()
            if body.get("callback_id") == ASK_CALLBACK:
                await self._shortcuts.ask(body, context.bot_user_id)
            else:
                await self._shortcuts.hand_to_support(body)
        finally:
            self._done()

    # -- the intake form -------------------------------------------------------------------

    async def _on_intake_open(self, ack: Any, body: dict[str, Any]) -> None:
        try:
            await ack()
            await self._intake.open(body)
        finally:
            self._done()

    async def _on_intake_submit(self, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        try:
            await self._intake.submit(ack, body, view)
        finally:
            self._done()

    # -- /support -------------------------------------------------------------------------

    async def _on_command(self, ack: Any, body: dict[str, Any], respond: Any) -> None:
        try:
            await ack()  # Slack wants the answer within 3 s: acknowledge before any work
            text = await slack_command.answer(body, self._engine, self._is_staff, self.render)
            await self._respond(respond, text)
        finally:
            self._done()

    @staticmethod
    async def _respond(respond: Any, text: str) -> None:
        """The command's private answer via its `response_url`; a failure is one plain line.

        slack_sdk's webhook client raises on a URL it cannot reach and returns Slack's 404
        (`expired_url`: used after 30 minutes or more than 5 times) as a status.
        """
        try:
            sent = await respond(text=text, response_type="ephemeral")
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
            # ValueError: bolt's answer to a command without any response_url.
            log.warning(
                "slack /support answer could not reach its response_url (%s): dropped",
                type(exc).__name__,
            )
            return
        if not 200 <= sent.status_code < 300:
            log.warning(
                "slack refused the /support answer at its response_url (HTTP %s %s): dropped",
                sent.status_code,
                str(sent.body)[:40],
            )

    # -- feedback buttons ----------------------------------------------------------------

    async def _on_feedback(self, ack: Any, body: dict[str, Any]) -> None:
        try:
            await ack()
            await self._feedback(body)
        finally:
            self._done()

    async def _on_native_feedback(self, ack: Any, body: dict[str, Any]) -> None:
        try:
            await ack()
            action = (body.get("actions") or [{}])[0]
            await self._feedback(body | {"actions": [fmt.classic_feedback_action(action)]})
        finally:
            self._done()

    async def _feedback(self, body: dict[str, Any]) -> None:
        action = (body.get("actions") or [{}])[0]
        target = fmt.decode_feedback(str(action.get("value", "")))
        positive = action.get("action_id") == fmt.FEEDBACK_UP_ACTION
        clicker = str((body.get("user") or {}).get("id", ""))
        posted = body.get("message") or {}
        channel = str((body.get("channel") or {}).get("id", "")) or str(
            (body.get("container") or {}).get("channel_id", "")
        )
        if target is None or not clicker:
            log.warning("slack feedback button without a thread or a user: ignored")
            return
        if target.asker and clicker != target.asker:
            await self._call(
                "chat_postEphemeral",
                channel=channel or target.key.channel,
                user=clicker,
                thread_ts=target.key.thread,
                text="Only the person who asked can rate this answer.",
            )
            return
        rated = (target.key.as_id(), target.message_ts)
        if rated in self._rated:
            return
        self._rated[rated] = None
        while len(self._rated) > RATED_MEMORY:
            self._rated.popitem(last=False)
        try:
            offer = await self._engine.feedback(target.key, target.message_ts, clicker, positive)
        except Exception:
            self._rated.pop(rated, None)  # not recorded: a later click may try again
            raise
        if posted.get("ts"):
            shown = list(posted.get("blocks") or [])
            text = str(posted.get("text") or "")
            blocks = fmt.rated_blocks(shown, positive=positive, answer_text=text)
            await self._call(
                "chat_update",
                channel=channel or target.key.channel,
                ts=str(posted["ts"]),
                text=str(posted.get("text") or "") or blocks[-1]["elements"][0]["text"],
                blocks=blocks,
            )
        if offer is not None:
            await self._say(target.key, fmt.to_mrkdwn(offer.text))

    # -- rendering -----------------------------------------------------------------------

    async def render(
        self, event: EngineEvent, key: ThreadKey, *, answering: IncomingMessage | None = None
    ) -> None:
        """Show one engine event in Slack (deltas stream in `_run_turn`; silences show nothing).

        `answering` is the message the event answers: an answer from the model or the
        knowledge base then gets 👍/👎 buttons that only its author may click.
        """
        if isinstance(event, FinalReply):
            value = self._feedback_value(event, answering)
            for text, blocks in fmt.reply_messages(event.text, event.citations, value):
                await self._say(key, text, blocks)
        elif isinstance(event, HandoffRequested):
            text = fmt.to_mrkdwn(event.message)
            runtime = self._personas.get(event.record.persona) if event.record else None
            form = runtime.persona.intake if runtime is not None else None
            if event.record is not None and event.record.user_id and form and form.enabled:
                blocks = intake.offer_blocks(text, form, key, event.record.user_id)
                await self._say(key, text, blocks)
            else:
                await self._say(key, text)
            if event.record is not None:
                await self._team.notify(event.record)
        elif isinstance(event, HandoffClaimed):
            status = f"Claimed by {fmt.user_mention(event.staff_id)}"
            await self._team.update(event.key, status, resolvable=True)
        elif isinstance(event, HandoffResolved):
            await self._say(event.key, fmt.to_mrkdwn(event.message))
            who = fmt.user_mention(event.staff_id) if event.staff_id else "time-out"
            savable = event.staff_answered and self._faq is not None
            await self._team.update(
                event.key, f"Resolved by {who}", resolvable=False, savable=savable
            )
        elif isinstance(event, HandoffReminder):
            await self._team.remind(event)
        elif isinstance(event, StaleReply):
            await mark_stale(self._send, key, event.message_id, event.text)
        elif isinstance(event, StaffReply):  # an agent answered from the help desk
            await self._say(
                event.key, fmt.to_mrkdwn(f"**{event.author_name}** ({event.desk}): {event.text}")
            )

    def _feedback_value(self, reply: FinalReply, answering: IncomingMessage | None) -> str | None:
        if answering is None or reply.source not in _RATEABLE:
            return None
        value = fmt.encode_feedback(answering.key, answering.message_id, answering.author_id)
        # The pane is an AI app's surface: Slack's own feedback buttons show there.
        return fmt.native_feedback_value(value) if answering.key in self._pane_threads else value

    async def tick(self) -> None:
        """Timed work (reminders, hand-backs after quiet): call every minute or so."""
        for event in await self._engine.tick():
            if (key := thread_of(event)) is not None:
                await self.render(event, key)

    async def tick_forever(self, seconds: float = 60.0) -> None:
        """Run `tick` every `seconds` until cancelled; a failing tick is logged, not fatal."""
        await repeat(self.tick, seconds, "slack tick")

    async def _say(self, key: ThreadKey, text: str, blocks: list[fmt.Block] | None = None) -> None:
        for piece in [text] if blocks else fmt.split_text(text) or ["…"]:
            await self._send.post(key.channel, piece, blocks, thread_ts=key.thread)

    async def _call(self, method: str, **kwargs: Any) -> dict[str, Any] | None:
        """One Web API call; a Slack error is logged in plain words, never raised into bolt."""
        return (await self._send.call(method, **kwargs)).data

    # -- serving -------------------------------------------------------------------------

    async def check_token(self) -> None:
        """A wrong token is a one-line error at start, not a traceback at the first message."""
        try:
            await self.client.auth_test()
        except SlackApiError as exc:
            code = exc.response.get("error", "error") if exc.response is not None else "error"
            raise ConfigError(
                f"Slack refused SLACK_BOT_TOKEN ({code}); copy it again from the app"
            ) from None
        except OSError as exc:
            raise ConfigError(
                f"cannot reach Slack to check SLACK_BOT_TOKEN ({type(exc).__name__})"
            ) from None

    async def run_socket_mode(
        self, app_token: str, *, ready: Callable[[], None] = _nothing
    ) -> None:
        """Serve over Socket Mode (no public URL) until cancelled; `ready` once connected.

        slack_sdk's socket-mode client opens the connection (`apps.connections.open` with the
        app token), acknowledges each envelope by its id once bolt has dispatched it (before
        the listener's work), and reconnects when Slack asks it to.
        """
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        # The client retries a refused connection forever (logging tracebacks), so the app
        # token is tried once here first: a wrong one is a one-line error at start.
        opened = await self._send.call("apps_connections_open", app_token=app_token)
        if opened.data is None or not opened.data.get("url"):
            raise ConfigError(
                f"Slack refused SLACK_APP_TOKEN ({opened.error}); it must be an app-level "
                "token (xapp-...) with the connections:write scope"
            )
        handler = AsyncSocketModeHandler(self.app, app_token)
        handler.client.wss_uri = str(opened.data["url"])  # the URL just issued: use it
        await handler.connect_async()  # type: ignore[no-untyped-call]  # bolt leaves it untyped
        ready()
        try:
            await asyncio.Event().wait()
        finally:
            await handler.close_async()  # type: ignore[no-untyped-call]  # same

    @asynccontextmanager
    async def serve_http(
        self,
        host: str = "0.0.0.0",
        port: int = 3000,
        healthy: Callable[[], Awaitable[bool]] | None = None,
    ) -> AsyncIterator[int]:
        """Serve the Events API and interactivity on `EVENTS_PATH`; yields the bound port.

        A request without a valid signature is answered 401 before bolt sees it
        (`slack_http`).

        With `healthy`, also `GET /healthz` for the host's router: the status only (this
        port faces the internet; the details are on the metrics port).
        """
        from aiohttp import web

        # Signatures are checked before bolt parses anything (`slack_http`); bolt checks again.
        web_app = events_app(self.app, self._signing_secret, EVENTS_PATH)
        if healthy is not None:

            async def health(request: web.Request) -> web.Response:
                ok = await healthy()
                body = {"status": "ok" if ok else "failing"}
                return web.json_response(body, status=200 if ok else 503)

            web_app.router.add_get(HEALTH_PATH, health)
        runner = web.AppRunner(web_app)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = port
        server = getattr(site, "_server", None)
        if server is not None and server.sockets:
            bound = int(server.sockets[0].getsockname()[1])
        try:
            yield bound
        finally:
            await runner.cleanup()


def _team(body: dict[str, Any], event: dict[str, Any]) -> str:
    return str(body.get("team_id") or event.get("team") or "")
