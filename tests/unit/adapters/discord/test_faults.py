"""Discord platform faults during a streamed answer: 429s on post and edit, threads deleted.

What tests/unit/adapters/discord/test_adapter.py already covers is not repeated here (a 429 on an
edit, short and
long; a thread deleted before the next question, with or without THREAD_DELETE; a locked
thread). These cases hit the first post, the thread creation, both writes of one answer, a
redelivery while rate limited, and a thread deleted while the model is still writing. In every
case the question gets exactly one reply or an honest log line, never two.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bots.adapters.discord.formatting import thread_key
from bots.adapters.discord.stream import FORGET_ABOVE, ChannelThrottle
from bots.llm.client import ChatModel, ChatRequest, Completed, ContentDelta, LLMEvent
from bots.models import Role, Turn, Usage
from bots.store.sqlite import SQLiteStore
from bots.turn.engine import utc_now
from bots.turn.output_guard import LEAK_WORDS
from tests.fakes.fake_discord import GENERAL_ID, GUILD_ID, USER_ID, FakeDiscord, user_message
from tests.support.discord_rig import running_bot

# Long enough that words show before the gate: the output guard holds back the newest
# LEAK_WORDS - 1 words while it streams (bots/turn/output_guard.py).
ANSWER = "one two three four five six seven eight nine ten eleven twelve"
GATE_AT = LEAK_WORDS + 1


class Pieces(ChatModel):
    """Streams ANSWER word by word; with `gate`, waits for it once the first word can show."""

    def __init__(self, gate: asyncio.Event | None = None) -> None:
        self.gate = gate
        self.calls = 0

    async def stream(self, request: ChatRequest) -> AsyncIterator[LLMEvent]:
        self.calls += 1
        words = ANSWER.split(" ")
        for index, word in enumerate(words):
            if index == GATE_AT and self.gate is not None:
                await self.gate.wait()
            yield ContentDelta(word if index == 0 else " " + word)
        yield Completed(ANSWER, (), Usage(10, 5), "stop")


def final_texts(fake: FakeDiscord, thread: str) -> list[str]:
    """What the thread shows now: the bot's messages after every edit."""
    return [
        str(m["content"])
        for m in fake.messages.values()
        if m["channel_id"] == thread and m["author"]["bot"]
    ]


async def test_a_rate_limited_first_post_is_retried_and_answered_once(
    tmp_path: Path, store: SQLiteStore
) -> None:
    async with running_bot(tmp_path, store, Pieces()) as rig:
        question = user_message("count")
        thread = question["id"]
        rig.fake.rate_limit_next("POST", f"/channels/{thread}/messages", retry_after=0.001)
        await rig.send(question)
        posts = rig.fake.made("POST", f"/channels/{thread}/messages")
        assert [c.status for c in posts] == [429, 200]
        assert final_texts(rig.fake, thread) == [ANSWER]


async def test_long_429s_on_both_post_and_edit_of_one_answer_still_give_one_reply(
    tmp_path: Path, store: SQLiteStore, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(tmp_path, store, Pieces()) as rig:
        question = user_message("count")
        thread = question["id"]
        # Longer than discord.py will sleep (30 s): it raises RateLimited and the stream's
        # throttle waits instead (on the injected clock), for the post and then the edit.
        rig.fake.rate_limit_next("POST", f"/channels/{thread}/messages", retry_after=45.0)
        rig.fake.rate_limit_next("PATCH", f"/channels/{thread}/messages/\\d+", retry_after=60.0)
        with caplog.at_level(logging.WARNING, logger="bots.adapters.discord.stream"):
            await rig.send(question)
        posts = rig.fake.made("POST", f"/channels/{thread}/messages")
        assert [c.status for c in posts] == [429, 200]
        assert final_texts(rig.fake, thread) == [ANSWER]
        assert 45.0 in [pytest.approx(s) for s in rig.sleep.calls]
        assert len(rig.fake.posts(thread)) == 1


async def test_a_rate_limited_thread_creation_opens_one_thread(
    tmp_path: Path, store: SQLiteStore
) -> None:
    async with running_bot(tmp_path, store, Pieces()) as rig:
        question = user_message("count")
        rig.fake.rate_limit_next(
            "POST", f"/channels/{GENERAL_ID}/messages/\\d+/threads", retry_after=0.001
        )
        await rig.send(question)
        threads = rig.fake.made("POST", f"/channels/{GENERAL_ID}/messages/\\d+/threads")
        assert [c.status for c in threads] == [429, 201]
        assert final_texts(rig.fake, question["id"]) == [ANSWER]


async def test_a_redelivery_while_the_first_post_is_rate_limited_is_not_answered_twice(
    tmp_path: Path, store: SQLiteStore
) -> None:
    gate = asyncio.Event()
    model = Pieces(gate)
    async with running_bot(tmp_path, store, model) as rig:
        question = user_message("count")
        thread = question["id"]
        rig.fake.rate_limit_next("POST", f"/channels/{thread}/messages", retry_after=0.001)
        await rig.fake.dispatch("MESSAGE_CREATE", question)
        await rig.fake.wait_for("POST", f"/channels/{thread}/messages", count=2)
        await rig.fake.dispatch("MESSAGE_CREATE", question)  # Discord delivers it again
        # The redelivery has reached the bot (its thread creation was refused as a duplicate)
        # while the first answer is still being written.
        await rig.fake.wait_for("POST", f"/channels/{GENERAL_ID}/messages/\\d+/threads", count=2)
        gate.set()
        await rig.bot.wait_done(question["id"], times=2)
        assert model.calls == 1
        assert len(rig.fake.posts(thread)) == 1
        assert final_texts(rig.fake, thread) == [ANSWER]


async def test_a_thread_deleted_mid_answer_drops_the_rest_with_a_log_line_and_no_repost(
    tmp_path: Path, store: SQLiteStore, caplog: pytest.LogCaptureFixture
) -> None:
    gate = asyncio.Event()
    async with running_bot(tmp_path, store, Pieces(gate)) as rig:
        question = user_message("count")
        thread = question["id"]
        with caplog.at_level(logging.WARNING, logger="bots.adapters.discord.adapter"):
            await rig.fake.dispatch("MESSAGE_CREATE", question)
            await rig.fake.wait_for("POST", f"/channels/{thread}/messages")
            # The first word is up; a moderator deletes the thread while the model writes on.
            await rig.fake.dispatch("THREAD_DELETE", rig.fake.delete_thread(thread))
            gate.set()
            await rig.bot.wait_done(thread)
        edits = rig.fake.edits(thread)
        assert [c.status for c in edits] == [404]
        assert len(rig.fake.made("POST", f"/channels/{thread}/messages")) == 1
        lines = [
            r.getMessage() for r in caplog.records if r.name == "bots.adapters.discord.adapter"
        ]
        assert any("dropped" in line and "404" in line for line in lines), lines


async def test_the_channel_throttle_forgets_channels_whose_turn_has_come() -> None:
    now = [0.0]
    throttle = ChannelThrottle(lambda: now[0], interval=1.0)
    for channel in range(FORGET_ABOVE * 3):
        throttle.wrote(channel)
        now[0] += 0.01  # 100 writes a second, each to a new thread
    assert len(throttle) <= FORGET_ABOVE + 1
    assert not throttle.ready(FORGET_ABOVE * 3 - 1)  # the latest channels are still held


async def test_a_message_the_last_run_died_in_is_answered_once_at_start(
    tmp_path: Path, store: SQLiteStore
) -> None:
    async with running_bot(tmp_path, store, None) as rig:
        question = user_message("is there wifi?")
        thread = question["id"]
        await rig.fake.dispatch("MESSAGE_CREATE", question)
        await rig.bot.wait_done(thread)
        # What a run killed mid-turn leaves: a follow-up recorded in the thread, no answer.
        key = thread_key(GUILD_ID, thread)
        conversation = await store.get_conversation(key)
        assert conversation is not None
        follow_up = Turn(
            role=Role.USER,
            text="and is the wifi free?",
            author_id=USER_ID,
            message_id="900000000000009999",
            created_at=utc_now(),
            token_count=6,
        )
        assert await store.record_incoming(conversation.id, "discord-9999", follow_up)
        answered_before = len(rig.fake.posts(thread))
        assert await rig.bot.answer_interrupted() == 1
        assert await rig.bot.answer_interrupted() == 0  # answered once, never twice
        assert len(rig.fake.posts(thread)) == answered_before + 1


async def test_a_process_answers_left_messages_only_in_its_own_shards(
    tmp_path: Path, store: SQLiteStore
) -> None:
    # The fake guild is on shard 3 of 4 ((id >> 22) % 4): shard 0's process leaves it alone.
    assert (int(GUILD_ID) >> 22) % 4 == 3
    key = thread_key(GUILD_ID, "900000000000000777")
    conversation = await store.ensure_conversation(key, "cafe", utc_now())
    question = Turn(
        role=Role.USER,
        text="is there wifi?",
        author_id=USER_ID,
        message_id="900000000000000777",
        created_at=utc_now(),
        token_count=4,
    )
    assert await store.record_incoming(conversation.id, "discord-777", question)
    async with running_bot(tmp_path, store, None, shard_count=4, shard_ids=[0]) as rig:
        assert await rig.bot.answer_interrupted() == 0
    assert await store.unanswered_turns(utc_now() - timedelta(days=1), utc_now())


# -- 429s without a Via header: discord.py takes them for a Cloudflare ban, does not retry --


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize("asked_by", ["header", "json"])
async def test_a_429_without_via_on_the_first_post_is_named_and_retried_once_after_its_wait(
    tmp_path: Path, store: SQLiteStore, caplog: pytest.LogCaptureFixture, asked_by: str
) -> None:
    async with running_bot(tmp_path, store, Pieces()) as rig:
        question = user_message("count")
        thread = question["id"]
        rig.fake.rate_limit_next(
            "POST",
            f"/channels/{thread}/messages",
            retry_after=2.5,
            via=False,
            header=asked_by == "header",
        )
        with caplog.at_level(logging.WARNING):
            await rig.send(question)
        posts = rig.fake.made("POST", f"/channels/{thread}/messages")
        assert [c.status for c in posts] == [429, 200]
        assert final_texts(rig.fake, thread) == [ANSWER]
        assert 2.5 in [pytest.approx(s) for s in rig.sleep.calls]
    lines = warnings(caplog)
    assert any("429 with no Via header" in line for line in lines), lines
    assert not any("thread deleted" in line for line in lines), lines


async def test_a_429_without_via_on_the_final_edit_is_retried_once(
    tmp_path: Path, store: SQLiteStore
) -> None:
    async with running_bot(tmp_path, store, Pieces()) as rig:
        question = user_message("count")
        thread = question["id"]
        edits = f"/channels/{thread}/messages/\\d+"
        rig.fake.rate_limit_next("PATCH", edits, retry_after=1.0, via=False, header=True)
        await rig.send(question)
        assert 429 in [c.status for c in rig.fake.made("PATCH", edits)]
        assert final_texts(rig.fake, thread) == [ANSWER]


async def test_a_429_without_via_on_the_thread_creation_is_retried_once(
    tmp_path: Path, store: SQLiteStore
) -> None:
    async with running_bot(tmp_path, store, Pieces()) as rig:
        question = user_message("count")
        creation = f"/channels/{GENERAL_ID}/messages/\\d+/threads"
        rig.fake.rate_limit_next("POST", creation, retry_after=1.0, via=False)
        await rig.send(question)
        assert [c.status for c in rig.fake.made("POST", creation)] == [429, 201]
        assert final_texts(rig.fake, question["id"]) == [ANSWER]


async def test_a_reply_still_refused_after_the_retry_leaves_the_user_a_notice(
    tmp_path: Path, store: SQLiteStore, caplog: pytest.LogCaptureFixture
) -> None:
    """429s on every post of the answer: the streamed one (skipped, as interim writes are),
    the final one and its one retry. The answer is not delivered, and the user is told so
    (the notice is one more post, which Discord takes)."""
    from bots.adapters.discord.adapter import NOT_DELIVERED

    async with running_bot(tmp_path, store, Pieces()) as rig:
        question = user_message("count")
        thread = question["id"]
        posts = f"/channels/{thread}/messages"
        rig.fake.rate_limit_next("POST", posts, retry_after=1.0, times=3, via=False)
        with caplog.at_level(logging.WARNING):
            await rig.send(question)
        assert [c.status for c in rig.fake.made("POST", posts)] == [429, 429, 429, 200]
        assert final_texts(rig.fake, thread) == [NOT_DELIVERED]
    assert any("not delivered" in line for line in warnings(caplog))


async def test_a_thread_that_cannot_be_opened_gets_the_notice_in_the_channel(
    tmp_path: Path, store: SQLiteStore
) -> None:
    from bots.adapters.discord.adapter import NOT_DELIVERED

    async with running_bot(tmp_path, store, Pieces()) as rig:
        question = user_message("count")
        creation = f"/channels/{GENERAL_ID}/messages/\\d+/threads"
        rig.fake.rate_limit_next("POST", creation, retry_after=1.0, times=2, via=False)
        await rig.send(question)
        [notice] = rig.fake.posts(GENERAL_ID)
        assert notice["content"] == NOT_DELIVERED
        assert str(notice["message_reference"]["message_id"]) == question["id"]
        assert notice["allowed_mentions"]["parse"] == []


async def test_a_ban_length_wait_is_not_sat_out_and_nothing_reaches_the_user_is_logged(
    tmp_path: Path, store: SQLiteStore, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(tmp_path, store, Pieces()) as rig:
        question = user_message("count")
        thread = question["id"]
        posts = f"/channels/{thread}/messages"
        rig.fake.rate_limit_next("POST", posts, retry_after=3600, times=5, via=False)
        with caplog.at_level(logging.WARNING):
            await rig.send(question)
        assert [c.status for c in rig.fake.made("POST", posts)] == [429, 429]
        assert 3600 not in rig.sleep.calls
    lines = warnings(caplog)
    assert any("asks to wait 3600 s: not retried" in line for line in lines), lines
    assert any("nothing reaches the user" in line for line in lines), lines
