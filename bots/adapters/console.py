"""The terminal adapter: `bots chat` and `bots ask` render engine events as plain text."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import aclosing
from typing import TextIO

from bots.knowledge.persona import Persona
from bots.models import (
    Citation,
    EngineEvent,
    FinalReply,
    HandoffClaimed,
    HandoffReminder,
    HandoffRequested,
    HandoffResolved,
    IncomingMessage,
    SilenceReason,
    Silent,
    TextDelta,
    ThreadKey,
)
from bots.ops.periodic import repeat
from bots.turn.engine import Engine
from bots.turn.faq_suggestions import FaqSuggestions, approved_text, saved_text

PLATFORM = "console"
ReadLine = Callable[[str], Awaitable[str | None]]


def new_thread_key(user: str, persona: str) -> ThreadKey:
    return ThreadKey(PLATFORM, user, persona, uuid.uuid4().hex[:12])


def message_for(key: ThreadKey, user: str, text: str, *, staff: bool = False) -> IncomingMessage:
    return IncomingMessage(
        key=key,
        author_id=user,
        author_name=user,
        text=text,
        message_id=uuid.uuid4().hex,
        is_staff=staff,
    )


STAFF_ID = "console-staff"
HELP = (
    "(commands: /new start over, /quit leave; to play the support team: /claim, /resolve, "
    "/staff TEXT, /handoff [REASON], after a resolve /save (the staff answer as an FAQ) and "
    "/approve; feedback on the last answer: /good, /bad)\n"
)


class ConsoleRenderer:
    """Writes one turn's events: deltas as they come, then sources or the hand-off notice."""

    def __init__(self, out: TextIO, name: str, *, stream: bool = True) -> None:
        self._out = out
        self.name = name
        self._stream = stream
        self._streamed = ""

    def render(self, event: EngineEvent) -> None:
        if isinstance(event, TextDelta) and self._stream:
            if not self._streamed:
                self._out.write(f"{self.name}: ")
            self._streamed += event.text
            self._out.write(event.text)
        elif isinstance(event, FinalReply):
            self._finish(event.text)
            self._write_sources(event.citations)
        elif isinstance(event, HandoffRequested):
            self._finish(event.message)
            why = event.reason.label
            detail = f" ({event.detail})" if event.detail else ""
            self._out.write(f"[handed to the support team: {why}{detail}]\n")
            if event.record is not None:
                for line in event.record.summary:
                    self._out.write(f"[  for the team: {line}]\n")
        elif isinstance(event, HandoffClaimed):
            self._out.write(f"[{event.staff_id} from the team took this conversation]\n")
        elif isinstance(event, HandoffResolved):
            self._out.write(f"{self.name}: {event.message}\n[handed back to the assistant]\n")
        elif isinstance(event, HandoffReminder):
            waited = event.waiting_minutes
            self._out.write(f"[reminder to the team: unclaimed for {waited} min]\n")
        elif isinstance(event, Silent) and event.why is SilenceReason.HUMAN_OWNS_THREAD:
            self._out.write("[a person from the team has this conversation; /new starts over]\n")
        elif isinstance(event, Silent) and event.why is SilenceReason.NOT_HANDED_OFF:
            self._out.write("[nothing to do: this conversation is not with the team]\n")
        self._out.flush()

    def write(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()

    def _finish(self, text: str) -> None:
        if self._streamed and self._streamed.strip() == text.strip():
            self._out.write("\n")
        elif self._streamed and text.startswith(self._streamed.rstrip()):
            # The engine added to what streamed (the offer of a person, a notice): the rest.
            self._out.write(f"{text[len(self._streamed.rstrip()) :]}\n")
        elif self._streamed:
            # The stream broke off and the engine answered another way: show the real answer.
            self._out.write(f"\n\n{self.name}: {text}\n")
        else:
            self._out.write(f"{self.name}: {text}\n" if self._stream else f"{text}\n")
        self._streamed = ""

    def _write_sources(self, citations: Sequence[Citation]) -> None:
        for citation in citations:
            link = f" <{citation.url}>" if citation.url else ""
            self._out.write(f"  source: {citation.title}{link}\n")


async def run_turn(
    engine: Engine, message: IncomingMessage, persona: str, renderer: ConsoleRenderer
) -> None:
    async with aclosing(engine.handle(message, persona)) as events:
        async for event in events:
            renderer.render(event)


async def answer_interrupted(engine: Engine, key: ThreadKey, renderer: ConsoleRenderer) -> None:
    """Answer the message the last run of this conversation died in the middle of, if any."""
    for message in await engine.interrupted():
        if message.key == key:
            async with aclosing(engine.resume(message)) as events:
                async for event in events:
                    renderer.render(event)


async def chat(
    engine: Engine,
    persona: Persona,
    key: ThreadKey,
    user: str,
    read_line: ReadLine,
    out: TextIO,
    *,
    resumed: bool = False,
    tick_seconds: float = 30.0,
    current_persona: Callable[[], Persona] | None = None,
    faq: FaqSuggestions | None = None,
) -> None:
    """The interactive loop. Ends on EOF, `/quit` or `/exit`; `/new` starts a new conversation.

    `current_persona` gives the live persona after hot reloads (its name may change); `faq`
    saves the staff's answer as a pending FAQ entry (`/save`) and approves it (`/approve`).
    """
    renderer = ConsoleRenderer(out, persona.display_name)
    if resumed:
        out.write(f"(continuing conversation {key.thread})\n")
        await answer_interrupted(engine, key, renderer)
    else:
        for opening in (persona.greeting, persona.ai_disclosure):
            if opening.strip():
                out.write(f"{persona.display_name}: {opening.strip()}\n")
    out.write(HELP)
    out.flush()
    current = [key]  # the ticker shows only this conversation's reminders and hand-backs
    ticker = asyncio.create_task(_tick_forever(engine, renderer, tick_seconds, current))
    try:
        while True:
            line = await read_line("you: ")
            if current_persona is not None:
                renderer.name = current_persona().display_name
            if line is None or line.strip() in ("/quit", "/exit"):
                out.write("\n")
                return
            if line.strip() == "/new":
                key = new_thread_key(user, persona.name)
                current[0] = key
                out.write(f"(new conversation {key.thread})\n")
            elif line.startswith("/") and line.split()[0] in _COMMANDS:
                await _command(engine, key, user, persona.name, line, renderer, faq)
            else:
                await run_turn(engine, message_for(key, user, line), persona.name, renderer)
    finally:
        ticker.cancel()


_COMMANDS = (
    "/claim",
    "/resolve",
    "/staff",
    "/handoff",
    "/good",
    "/bad",
    "/help",
    "/save",
    "/approve",
)


async def _command(
    engine: Engine,
    key: ThreadKey,
    user: str,
    persona: str,
    line: str,
    renderer: ConsoleRenderer,
    faq: FaqSuggestions | None = None,
) -> None:
    """Console stand-ins for the buttons and slash commands of the chat platforms."""
    name, _, rest = line.strip().partition(" ")
    if name == "/claim":
        renderer.render(await engine.claim(key, STAFF_ID))
    elif name == "/resolve":
        renderer.render(await engine.resolve(key, STAFF_ID))
    elif name == "/handoff":
        renderer.render(await engine.staff_handoff(key, STAFF_ID, rest.strip()))
    elif name == "/staff" and rest.strip():
        staff_message = message_for(key, STAFF_ID, rest, staff=True)
        async with aclosing(engine.handle(staff_message, persona)) as events:
            async for event in events:
                if not isinstance(event, Silent):  # the bot keeping quiet is the point here
                    renderer.render(event)
        renderer.write(f"[{STAFF_ID} wrote in the thread: {rest.strip()}]\n")
    elif name in ("/save", "/approve") and faq is None:
        renderer.write("[saving answers as FAQ entries is not set up here]\n")
    elif name == "/save" and faq is not None:
        renderer.write(f"[{saved_text(await faq.save(key, STAFF_ID))}]\n")
    elif name == "/approve" and faq is not None:
        renderer.write(f"[{approved_text(await faq.approve_thread(key, STAFF_ID))}]\n")
    elif name in ("/good", "/bad"):
        offer = await engine.feedback(key, "", user, positive=name == "/good")
        if offer is not None:
            renderer.render(offer)
    else:
        renderer.write(HELP)


async def _tick_forever(
    engine: Engine, renderer: ConsoleRenderer, seconds: float, current: list[ThreadKey]
) -> None:
    async def tick() -> None:
        for event in await engine.tick():
            if _thread_of(event) in (None, current[0]):
                renderer.render(event)

    await repeat(tick, seconds, "console tick")


def _thread_of(event: EngineEvent) -> ThreadKey | None:
    """The conversation a timed event is about (the store holds older chats too)."""
    if isinstance(event, HandoffReminder):
        return event.record.key
    if isinstance(event, HandoffResolved | HandoffClaimed):
        return event.key
    return None


async def ask(engine: Engine, persona: Persona, user: str, question: str, out: TextIO) -> None:
    """One question, one answer, on stdout: for scripts and quick checks."""
    key = new_thread_key(user, persona.name)
    renderer = ConsoleRenderer(out, persona.display_name, stream=False)
    await run_turn(engine, message_for(key, user, question), persona.name, renderer)
