"""The console adapter renders engine events, and its commands play the support team."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta

import pytest

from bots.adapters import console
from bots.knowledge.persona import Persona
from bots.llm.client import Completed, ContentDelta, LLMEvent
from bots.models import EngineEvent, Usage
from bots.store.sqlite import SQLiteStore
from bots.turn.engine import Engine
from bots.turn.runtime import PersonaRuntime


def lines(*typed: str) -> console.ReadLine:
    queue = list(typed)

    async def read_line(prompt: str) -> str | None:
        return queue.pop(0) if queue else None

    return read_line


async def chat(engine: Engine, persona: Persona, typed: Iterable[str]) -> str:
    out = io.StringIO()
    key = console.new_thread_key("tester", persona.name)
    await console.chat(engine, persona, key, "tester", lines(*typed), out)
    return out.getvalue()


async def test_greeting_answer_and_sources(offline_engine: Engine, cafe_persona: Persona) -> None:
    shown = await chat(offline_engine, cafe_persona, ["is there wifi?"])
    assert "Test Cafe Helper: Hi! Ask me about the Test Cafe." in shown
    assert "Test Cafe Helper: I'm an AI assistant." in shown
    assert "free Wi-Fi; the password is on your receipt." in shown
    assert "  source: Do you have wifi?" in shown


async def test_handoff_claim_and_resolve_in_the_console(
    offline_engine: Engine, cafe_persona: Persona
) -> None:
    shown = await chat(
        offline_engine,
        cafe_persona,
        [
            "I want to talk to a human",
            "hello?",
            "/claim",
            "/staff Hi, this is the team.",
            "/resolve",
            "is there parking?",
        ],
    )
    assert "A person from our team will take it from here." in shown
    assert "[handed to the support team: " in shown
    assert "[a person from the team has this conversation; /new starts over]" in shown
    assert "[console-staff from the team took this conversation]" in shown
    assert "You're back with the assistant. Ask me anything else!" in shown
    assert "There is a free car park behind the cafe." in shown.split("[handed back")[-1]


async def test_staff_message_claims_a_waiting_thread(
    offline_engine: Engine, cafe_persona: Persona
) -> None:
    shown = await chat(offline_engine, cafe_persona, ["agent please", "/staff On it!"])
    assert "[console-staff from the team took this conversation]" in shown


async def test_thumbs_down_offers_a_person(offline_engine: Engine, cafe_persona: Persona) -> None:
    shown = await chat(offline_engine, cafe_persona, ["is there wifi?", "/bad", "yes"])
    assert "Shall I get a person?" in shown
    assert "A person from our team will take it from here." in shown


async def test_resolve_without_a_handoff_says_so(
    offline_engine: Engine, cafe_persona: Persona
) -> None:
    shown = await chat(offline_engine, cafe_persona, ["/resolve"])
    assert "[nothing to do: this conversation is not with the team]" in shown


async def test_new_starts_another_conversation(
    offline_engine: Engine, cafe_persona: Persona
) -> None:
    shown = await chat(offline_engine, cafe_persona, ["I want a human", "/new", "is there wifi?"])
    assert "(new conversation " in shown
    assert "free Wi-Fi" in shown


async def test_a_renamed_persona_shows_its_new_name(
    offline_engine: Engine, cafe_persona: Persona
) -> None:
    renamed = cafe_persona.model_copy(update={"display_name": "Cafe Buddy"})
    out = io.StringIO()
    key = console.new_thread_key("tester", cafe_persona.name)
    await console.chat(
        offline_engine,
        cafe_persona,
        key,
        "tester",
        lines("is there wifi?"),
        out,
        current_persona=lambda: renamed,
    )
    assert "Cafe Buddy: " in out.getvalue().split("(commands")[-1]


class Phishing:
    """A model talked into a masked link to a host no knowledge entry names."""

    async def stream(self, request: object) -> AsyncIterator[LLMEvent]:
        text = (
            "Pay [here](https://evil.example/pay) or see our [hours](https://cafe.example/hours)."
        )
        for start in range(0, len(text), 9):
            yield ContentDelta(text[start : start + 9])
        yield Completed(text, (), Usage(10, 5), "stop")


@pytest.mark.security("injection")
async def test_unvetted_links_show_their_address_in_the_console(
    store: SQLiteStore, cafe_runtime: PersonaRuntime
) -> None:
    engine = Engine(
        store=store, personas={"cafe": cafe_runtime}, default_persona="cafe", llm=Phishing()
    )
    shown = await chat(engine, cafe_runtime.persona, ["how do I pay?"])
    assert "Pay here (`https://evil.example/pay`)" in shown
    assert "[hours](https://cafe.example/hours)" in shown
    assert "](https://evil" not in shown


class _Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class _TickCounting(Engine):
    """The engine, telling the test each time a timed tick has finished."""

    ticked: asyncio.Condition | None = None

    async def tick(self) -> list[EngineEvent]:
        events = await super().tick()
        assert self.ticked is not None
        async with self.ticked:
            self.ticked.notify_all()
        return events


class _Screen(io.StringIO):
    """The chat's output, telling the test when a reminder is shown."""

    def __init__(self) -> None:
        super().__init__()
        self.reminded = asyncio.Event()

    def write(self, text: str) -> int:
        if "[reminder" in text:
            self.reminded.set()
        return super().write(text)


async def test_a_new_chat_shows_no_reminders_of_older_handoffs(
    store: SQLiteStore, cafe_runtime: PersonaRuntime, cafe_persona: Persona
) -> None:
    clock = _Clock()
    engine = _TickCounting(
        store=store, personas={"cafe": cafe_runtime}, default_persona="cafe", llm=None, clock=clock
    )
    engine.ticked = asyncio.Condition()
    older = console.new_thread_key("tester", "cafe")
    async for _ in engine.handle(console.message_for(older, "tester", "I want a human")):
        pass

    async def reminders_due() -> None:
        """Move past the reminder delay; wait for a whole tick after that (two ends)."""
        clock.now += timedelta(minutes=cafe_persona.handoff.reminder_minutes + 5)
        assert engine.ticked is not None
        async with asyncio.timeout(10), engine.ticked:
            for _ in range(2):
                await engine.ticked.wait()

    screen = _Screen()
    typed: list[str | Callable[[], Awaitable[None]]] = [
        reminders_due,
        "I want to talk to a human",
        reminders_due,
    ]

    async def read_line(prompt: str) -> str | None:
        while typed:
            step = typed.pop(0)
            if isinstance(step, str):
                return step
            await step()
        async with asyncio.timeout(10):
            await screen.reminded.wait()
        return None

    key = console.new_thread_key("tester", "cafe")
    await console.chat(engine, cafe_persona, key, "tester", read_line, screen, tick_seconds=0.01)
    shown = screen.getvalue()
    # One reminder: this conversation's own, not the older one's.
    assert shown.count("[reminder to the team: unclaimed for") == 1
    assert shown.index("[reminder") > shown.index("[handed to the support team")
