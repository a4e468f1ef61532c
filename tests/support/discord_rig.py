"""A running Discord bot for tests: the real discord.py client against the local fake Discord."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import discord
import yaml

from bots.adapters.discord.adapter import DiscordBot, point_at
from bots.adapters.discord.files import DiscordFiles
from bots.handoff.lifecycle import HandoffSink
from bots.knowledge.files import load_knowledge
from bots.knowledge.persona import load_persona
from bots.llm.client import ChatModel
from bots.models import ThreadKey
from bots.store import Store
from bots.turn.engine import Engine
from bots.turn.faq_suggestions import FaqSuggestions
from bots.turn.help_channel import HelpChannels
from bots.turn.limits import Limits
from bots.turn.runtime import PersonaRuntime
from tests.conftest import DATA, RecordingSleep
from tests.fakes.fake_discord import ROLE_ID, SUPPORT_ID, TOKEN, FakeDiscord


class FakeClock:
    """Monotonic seconds that only move when a test (or the recorded sleep) moves them."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class AdvancingSleep(RecordingSleep):
    """Records each wait and moves the fake clock past it, as a real sleep would."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self._clock = clock

    async def __call__(self, seconds: float) -> None:
        await super().__call__(seconds)
        self._clock.now += seconds


@dataclass
class Rig:
    fake: FakeDiscord
    bot: DiscordBot
    store: Store
    engine: Engine
    clock: FakeClock
    sleep: AdvancingSleep
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    async def send(self, data: dict[str, Any]) -> None:
        """Deliver MESSAGE_CREATE and wait until the bot has handled it."""
        await self.fake.dispatch("MESSAGE_CREATE", data)
        await self.bot.wait_done(data["id"])

    async def interact(self, data: dict[str, Any]) -> None:
        await self.fake.dispatch("INTERACTION_CREATE", data)
        await self.bot.wait_done(data["id"])


def write_persona(
    tmp_path: Path,
    *,
    channel: str = SUPPORT_ID,
    role: str = ROLE_ID,
    changes: Mapping[str, Any] | None = None,
) -> Path:
    """A copy of the test persona with the Discord hand-off destination filled in (and
    `changes`, top-level sections replaced)."""
    target = tmp_path / "personas"
    target.mkdir(exist_ok=True)
    document = yaml.safe_load((DATA / "personas" / "cafe.yaml").read_text(encoding="utf-8"))
    document["handoff"]["discord"] = {"channel_id": channel, "role_id": role}
    # Room for the long answers that test Discord's 2,000 characters: the bot stops a reply
    # at the persona's max_tokens (200 in the original), whatever the model sends.
    document["model"] |= {"max_tokens": 4000, "context_window": 16000}
    document |= dict(changes or {})
    (target / "cafe.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    return target / "cafe.yaml"


@asynccontextmanager
async def running_bot(
    tmp_path: Path,
    store: Store,
    llm: ChatModel | None,
    *,
    message_content: bool = True,
    ignore_other_bots: bool = True,
    channel_personas: Mapping[str, str] | None = None,
    shard_count: int | None = None,
    shard_ids: list[int] | None = None,
    fake: FakeDiscord | None = None,
    engine_clock: Callable[[], datetime] | None = None,
    real_time: bool = False,
    edit_interval: float = 1.0,
    limits: Limits | None = None,
    engine_sleep: Callable[[float], Awaitable[None]] | None = None,
    handoff_sinks: Sequence[HandoffSink] = (),
    link_for: Callable[[ThreadKey], str | None] | None = None,
    forum_channels: tuple[str, ...] = (),
    wall_clock: Callable[[], datetime] | None = None,
    persona_changes: Mapping[str, Any] | None = None,
    files: Callable[[FakeDiscord], DiscordFiles] | None = None,
    vision: bool = False,
    help_channels: HelpChannels | None = None,
    personas_for: Callable[[Path], Mapping[str, PersonaRuntime]] | None = None,
    faq: Callable[[Mapping[str, PersonaRuntime]], FaqSuggestions] | None = None,
) -> AsyncIterator[Rig]:
    """A connected bot; `real_time` throttles with the real clock and sleep (benchmarks);
    `limits` are the engine's (default: none but the input length); `engine_clock` and
    `engine_sleep` are the engine's time (the turn's deadline: 120 s). `personas_for` builds
    the personas from the written persona file instead; `faq` builds "Save as FAQ" on them."""
    persona = load_persona(write_persona(tmp_path, changes=persona_changes))
    if vision:
        model = persona.model.model_copy(update={"vision": True})
        persona = persona.model_copy(update={"model": model})
    entries = load_knowledge(DATA / "knowledge", persona.knowledge.sets)
    personas = {"cafe": PersonaRuntime.build(persona, entries, None)}
    # A second persona, so a test can see the channel mapping pick it over the default.
    bistro = persona.model_copy(update={"name": "bistro"})
    personas["bistro"] = PersonaRuntime.build(bistro, entries, None)
    if personas_for is not None:  # e.g. a PersonaLibrary over the written persona
        personas = personas_for(write_persona(tmp_path))  # type: ignore[assignment]
    engine = Engine(
        store=store,
        personas=personas,
        default_persona="cafe",
        llm=llm,
        limits=limits,
        turn_timeout=120,
        **({"clock": engine_clock} if engine_clock is not None else {}),
        **({"sleep": engine_sleep} if engine_sleep is not None else {}),
        handoff_sinks=handoff_sinks,  # a help desk's connector (tests/unit/desks)
        **({"link_for": link_for} if link_for is not None else {}),
    )
    fake = fake or FakeDiscord()
    await fake.start()
    saved = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    point_at(fake.api_url, fake.gateway_url)
    clock = FakeClock()
    sleep = AdvancingSleep(clock)
    bot = DiscordBot(
        engine,
        personas,
        default_persona="cafe",
        store=store,
        channel_personas=channel_personas,
        message_content=message_content,
        ignore_other_bots=ignore_other_bots,
        shard_count=shard_count,
        shard_ids=shard_ids,
        clock=time.monotonic if real_time else clock,
        sleep=asyncio.sleep if real_time else sleep,
        edit_interval=edit_interval,
        guild_ready_timeout=0.01,
        forum_channels=forum_channels,
        **({"wall_clock": wall_clock} if wall_clock is not None else {}),
        files=files(fake) if files is not None else None,
        help_channels=help_channels,
        faq=faq(personas) if faq is not None else None,
    )
    rig = Rig(fake, bot, store, engine, clock, sleep)
    try:
        await bot.login(TOKEN)
        rig.tasks.append(asyncio.create_task(bot.connect()))
        await asyncio.wait_for(bot.client.wait_until_ready(), 5)
        yield rig
    finally:
        await bot.close()
        for task in rig.tasks:
            task.cancel()
        await asyncio.gather(*rig.tasks, return_exceptions=True)
        await fake.close()
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved
