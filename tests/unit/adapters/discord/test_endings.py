"""Streams that end badly, through the real Discord adapter (discord.py against the fake
Discord): a model that trickles forever, a stream cut mid-answer, and the half-written
message a dead process leaves in the thread."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bots.adapters.discord.formatting import thread_key
from bots.llm.client import OpenAIChatClient, RetryPolicy
from bots.secret import Secret
from bots.store.sqlite import SQLiteStore
from tests.conftest import API_KEY
from tests.fakes.fake_discord import GUILD_ID, FakeDiscord, user_message
from tests.fakes.fake_llm import CutStream, FakeLLMServer, Reply, Trickle
from tests.support.discord_rig import running_bot
from tests.support.fake_time import FakeTime

CUT_NOTE = "(My answer was cut short.)"
NOTICE = "My answering service is down right now."


@pytest.fixture
async def patient_client(llm_server: FakeLLMServer) -> AsyncIterator[OpenAIChatClient]:
    client = OpenAIChatClient(
        llm_server.base_url, Secret(API_KEY), timeout=60, retry=RetryPolicy(max_attempts=1)
    )
    yield client
    await client.aclose()


def bot_messages(fake: FakeDiscord, thread: str) -> list[dict[str, object]]:
    return [m for m in fake.messages.values() if m["channel_id"] == thread and m["author"]["bot"]]


async def until(check: Callable[[], bool], seconds: float = 10.0) -> None:
    for _ in range(int(seconds * 100)):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("it never happened")


async def test_a_trickle_that_never_ends_is_stopped_at_the_deadline(
    tmp_path: Path, store: SQLiteStore, patient_client: OpenAIChatClient, llm_server: FakeLLMServer
) -> None:
    time = FakeTime()
    llm_server.script(Trickle("slow ", every_ms=20))
    async with running_bot(
        tmp_path, store, patient_client, engine_clock=time.now, engine_sleep=time.sleep
    ) as rig:
        question = user_message("What are your opening hours?")
        thread = question["id"]
        await rig.fake.dispatch("MESSAGE_CREATE", question)
        await until(lambda: llm_server.trickled >= 5 and bool(bot_messages(rig.fake, thread)))
        time.advance(120)
        await rig.bot.wait_done(thread, 10)
        (shown,) = bot_messages(rig.fake, thread)
        text = str(shown["content"])
        assert text.startswith("slow slow")
        assert f"slow …\n\n{CUT_NOTE}\n\n{NOTICE}" in text
        sent = llm_server.trickled
        await asyncio.sleep(0.2)
        assert llm_server.trickled <= sent + 1  # the model's stream was closed


async def test_a_stream_cut_mid_answer_is_marked_with_the_honest_notice(
    tmp_path: Path, store: SQLiteStore, llm_client: OpenAIChatClient, llm_server: FakeLLMServer
) -> None:
    llm_server.script(CutStream("There is free wifi and the password is on the receipt", 30))
    async with running_bot(tmp_path, store, llm_client) as rig:
        question = user_message("is there wifi?")
        thread = question["id"]
        await rig.fake.dispatch("MESSAGE_CREATE", question)
        await rig.bot.wait_done(thread, 10)
        (shown,) = bot_messages(rig.fake, thread)
        text = str(shown["content"])
        assert text.startswith(f"There is free wifi and the …\n\n{CUT_NOTE}\n\n{NOTICE}")


async def test_the_half_written_message_of_a_dead_run_is_marked_then_answered(
    tmp_path: Path, store: SQLiteStore, patient_client: OpenAIChatClient, llm_server: FakeLLMServer
) -> None:
    llm_server.script(Trickle("Yes there is ", every_ms=20))
    async with running_bot(tmp_path, store, patient_client) as rig:
        question = user_message("is there wifi?")
        thread = question["id"]
        await rig.fake.dispatch("MESSAGE_CREATE", question)
        await until(lambda: bool(bot_messages(rig.fake, thread)))
        (half,) = bot_messages(rig.fake, thread)
        conversation = await store.get_conversation(thread_key(GUILD_ID, thread))
        assert conversation is not None

        async def recorded() -> bool:
            turns = await store.recent_turns(conversation.id, 1)
            return bool(turns) and turns[-1].reply_id == half["id"]

        for _ in range(500):
            if await recorded():
                break
            await asyncio.sleep(0.01)
        assert await recorded()
        # The process dies mid-answer: its turn is gone, the half-written message stays.
        dying = [t for t in asyncio.all_tasks() if "on_message" in t.get_name()]
        assert dying
        for task in dying:
            task.cancel()
        for task in dying:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        llm_server.script(Reply("Yes, there is free wifi [wifi]."))
        assert await rig.bot.answer_interrupted() == 1
        stale, answer = bot_messages(rig.fake, thread)
        assert stale["id"] == half["id"]
        assert stale["content"] == CUT_NOTE
        assert str(answer["content"]).startswith("Yes, there is free wifi.")
        assert await rig.bot.answer_interrupted() == 0
