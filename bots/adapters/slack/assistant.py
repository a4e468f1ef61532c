"""The Slack assistant pane ("Agents & AI apps"): bolt's `Assistant` middleware wired to the bot.

Slack opens a side panel where a person chats with the app in assistant threads (a DM with
the app, each chat a thread). bolt-python's `AsyncAssistant` middleware routes the pane's
events; this module says what each one does, and the bot's ordinary turn does the rest:

- `assistant_thread_started`: the suggested prompts, the persona's or its most asked FAQ
  questions (`Engine.suggested_prompts`, `assistant.threads.setSuggestedPrompts`).
- `assistant_thread_context_changed`: nothing to keep (bolt's default would write the
  context into message metadata on every channel switch; the bot does not use it).
- a person's message in the thread: answered by the bot's turn, with the pane's status
  (`assistant.threads.setStatus`, "is thinking…" and the persona's loading messages) in
  place of the 👀 reaction; the chat's first question becomes its title (`setTitle`).
  Slack sometimes sends a first `message.im` without any `assistant_thread_started`: the
  message is answered all the same (nothing here waits for the start), and it is the first
  message the store has for the thread that decides the title, not the start event.

Every call goes through `Sender`, so a Slack error is a log line, never a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.middleware.assistant.async_assistant import AsyncAssistant
from slack_bolt.middleware.async_custom_middleware import AsyncCustomMiddleware

from bots.adapters.slack.send import Sender
from bots.models import IncomingMessage
from bots.turn.engine import Engine
from bots.turn.runtime import PersonaRuntime

log = logging.getLogger(__name__)

TITLE_LENGTH = 60
"""The chat's title is the first question, cut to this many characters."""

Track = Callable[[Callable[[], Awaitable[None]]], Awaitable[None]]
Incoming = Callable[[dict[str, Any], dict[str, Any], str | None], Awaitable[IncomingMessage | None]]


class PaneStatus:
    """The pane's "is thinking…" status for one thread, in place of the 👀 reaction."""

    def __init__(self, send: Sender, channel: str, thread: str, runtime: PersonaRuntime) -> None:
        self._send = send
        self._channel = channel
        self._thread = thread
        self._settings = runtime.persona.assistant

    async def thinking(self) -> bool:
        """Show the status; False when Slack refused it (a DM thread outside the pane, an app
        without the pane's scope): the caller shows the 👀 reaction instead."""
        shown = await self._send.call(
            "assistant_threads_setStatus",
            channel_id=self._channel,
            thread_ts=self._thread,
            status=self._settings.thinking,
            loading_messages=list(self._settings.loading_messages) or None,
        )
        return shown.ok

    async def clear(self) -> None:
        """Take the status down when the turn posted nothing (a reply clears it itself)."""
        await self._send.call(
            "assistant_threads_setStatus",
            channel_id=self._channel,
            thread_ts=self._thread,
            status="",
        )


def title_of(question: str) -> str:
    """The chat's title: its first question, on one line, cut at a word."""
    line = " ".join(question.split())
    if len(line) <= TITLE_LENGTH:
        return line
    cut = line[: TITLE_LENGTH - 1].rsplit(" ", 1)[0]
    return cut + "…"


class AssistantPane:
    """Builds the `AsyncAssistant` middleware for a bot; `middleware` goes to `app.use`."""

    def __init__(
        self,
        *,
        engine: Engine,
        send: Sender,
        persona_of: Callable[[str], PersonaRuntime],
        incoming: Incoming,
        run_turn: Callable[[IncomingMessage, PaneStatus], Awaitable[None]],
        track: Track,
        done: Callable[[], None],
    ) -> None:
        self._engine = engine
        self._send = send
        self._persona_of = persona_of
        self._incoming = incoming
        self._run_turn = run_turn
        self._done = done
        self.middleware = AsyncAssistant()

        # bolt's hint says one middleware; its code takes a list of middleware objects and
        # inserts its own first, so each listener gets a list of its own.
        def counted() -> Any:
            return [AsyncCustomMiddleware(app_name="bots", func=track)]

        self.middleware.thread_started(self._started, middleware=counted())
        self.middleware.thread_context_changed(self._context_changed, middleware=counted())
        self.middleware.user_message(self._user_message, middleware=counted())

    async def _started(self, event: dict[str, Any]) -> None:
        try:
            thread = event.get("assistant_thread") or {}
            channel = str(thread.get("channel_id") or "")
            thread_ts = str(thread.get("thread_ts") or "")
            if not channel or not thread_ts:
                log.warning("slack assistant_thread_started without its thread: ignored")
                return
            runtime = self._persona_of(channel)
            prompts = await self._engine.suggested_prompts(runtime.persona.name)
            if not prompts:
                return
            await self._send.call(
                "assistant_threads_setSuggestedPrompts",
                channel_id=channel,
                thread_ts=thread_ts,
                title=runtime.persona.assistant.prompts_title,
                prompts=[{"title": _short(p), "message": p} for p in prompts],
            )
        finally:
            self._done()

    async def _context_changed(self) -> None:
        self._done()  # the bot answers from its own persona, whichever channel is in view

    async def _user_message(
        self, body: dict[str, Any], event: dict[str, Any], context: Any
    ) -> None:
        try:
            message = await self._incoming(body, event, context.bot_user_id)
            if message is None:
                return
            first = not await self._engine.knows(message.key)
            runtime = self._persona_of(message.key.channel)
            if first:
                await self._send.call(
                    "assistant_threads_setTitle",
                    channel_id=message.key.channel,
                    thread_ts=message.key.thread,
                    title=title_of(message.text) or runtime.persona.display_name,
                )
            status = PaneStatus(self._send, message.key.channel, message.key.thread, runtime)
            await self._run_turn(message, status)
        finally:
            self._done()


def _short(prompt: str, limit: int = 75) -> str:
    """A prompt's button title (the message sent is the whole question)."""
    return prompt if len(prompt) <= limit else prompt[: limit - 1].rstrip() + "…"
