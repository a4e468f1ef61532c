"""The Discord adapter through discord.py's real gateway and REST code, against a fake Discord.

Events go in over the fake gateway websocket; assertions are on what the fake REST API
receives: threads, messages and their `allowed_mentions`, splits, edits, embeds, callbacks.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import pytest

from bots.adapters.discord.formatting import thread_key
from bots.llm.client import ChatModel, ChatRequest, Completed, ContentDelta, LLMEvent, ToolCall
from bots.models import Usage
from bots.store.sqlite import SQLiteStore
from tests.fakes.fake_discord import (
    BOT_ID,
    GENERAL_ID,
    GUILD_ID,
    OTHER_BOT_ID,
    ROLE_ID,
    STAFF_ID,
    SUPPORT_ID,
    FakeDiscord,
    user_message,
)
from tests.support.discord_rig import running_bot

NO_PINGS = {"parse": []}


class ScriptedModel(ChatModel):
    """Answers every request with the same text, streamed in `parts` pieces."""

    def __init__(self, text: str, parts: int = 2) -> None:
        self.text = text
        self.parts = parts

    async def stream(self, request: ChatRequest) -> AsyncIterator[LLMEvent]:
        size = max(1, -(-len(self.text) // self.parts))
        for start in range(0, len(self.text), size):
            yield ContentDelta(self.text[start : start + size])
        yield Completed(self.text, (), Usage(10, 5), "stop")


async def test_a_mention_opens_a_thread_and_the_answer_goes_there(
    tmp_path: Path, store: SQLiteStore
) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("We open at 8 every day.")) as rig:
        question = user_message("When do you open?\nI mean on Sundays")
        await rig.send(question)
        [thread] = rig.fake.made(
            "POST", f"/channels/{GENERAL_ID}/messages/{question['id']}/threads"
        )
        assert thread.body["name"] == "When do you open?"
        assert thread.body["auto_archive_duration"] == 1440
        posts = rig.fake.posts(question["id"])
        assert posts, rig.fake.calls
        assert posts[0]["allowed_mentions"] == NO_PINGS
        final = rig.fake.messages[next(reversed(rig.fake.messages))]
        assert final["content"] == "We open at 8 every day."
        # The typing indicator goes up in the thread before the first words.
        paths = [(c.method, c.path) for c in rig.fake.calls]
        typing = paths.index(("POST", f"/channels/{question['id']}/typing"))
        assert typing < paths.index(("POST", f"/channels/{question['id']}/messages"))


def contents(posts: list[dict[str, Any]]) -> list[str]:
    return [str(p.get("content") or "") for p in posts]


async def test_answers_stream_by_edits_and_the_final_text_is_what_the_model_wrote(
    tmp_path: Path, store: SQLiteStore
) -> None:
    text = "Our coffee is roasted in town. We brew it fresh every morning."
    async with running_bot(tmp_path, store, ScriptedModel(text, parts=6)) as rig:
        question = user_message("Tell me about the coffee")
        await rig.send(question)
        thread = question["id"]
        [post] = rig.fake.posts(thread)
        edits = rig.fake.edits(thread)
        # The first text is posted at once; later pieces wait for the channel's turn and the
        # final text goes out as one edit once the throttle allows (the clock never moved).
        assert post["content"]
        assert text.startswith(post["content"])
        assert edits
        assert edits[-1].body["content"] == text
        assert edits[-1].body["allowed_mentions"] == NO_PINGS
        assert len(edits) == 1
        assert rig.sleep.calls == [1.0]


async def test_long_answers_are_split_at_2000_chars_with_code_blocks_closed_and_reopened(
    tmp_path: Path, store: SQLiteStore
) -> None:
    code = "\n".join(f"print({n})  # line {n:04d} of the example" for n in range(60))
    text = "Here is the script:\n\n```python\n" + code + "\n```\n\nThat is all."
    assert len(text) > 2000
    async with running_bot(tmp_path, store, ScriptedModel(text, parts=1)) as rig:
        question = user_message("Show me the script")
        await rig.send(question)
        thread = question["id"]
        final = [
            rig.fake.messages[m["id"]]["content"]
            for m in rig.fake.messages.values()
            if m["channel_id"] == thread and m["author"]["bot"]
        ]
        assert len(final) == 2
        assert all(len(piece) <= 2000 for piece in final)
        assert final[0].endswith("```")
        assert final[1].startswith("```python\n")
        assert all(piece.count("```") % 2 == 0 for piece in final)


async def test_model_text_never_pings_anyone(tmp_path: Path, store: SQLiteStore) -> None:
    text = f"Hello @everyone and @here, ask <@&{ROLE_ID}> or <@{STAFF_ID}>."
    async with running_bot(tmp_path, store, ScriptedModel(text)) as rig:
        question = user_message("Who can help?")
        await rig.send(question)
        bodies = rig.fake.posts(question["id"]) + [e.body for e in rig.fake.edits(question["id"])]
        assert bodies
        for body in bodies:
            assert body["allowed_mentions"] == NO_PINGS
            assert "@everyone" not in body["content"]
            assert "@here" not in body["content"]
            assert f"<@&{ROLE_ID}>" not in body["content"]


@pytest.mark.security("injection")
async def test_links_to_hosts_the_knowledge_does_not_name_show_as_plain_text(
    tmp_path: Path, store: SQLiteStore
) -> None:
    text = (
        "Log in [here](https://evil.example/login) or <https://evil.example/pay|click here>, "
        "see https://cafe.example@evil.example/z. Our [menu](https://cafe.example/menu)."
    )
    async with running_bot(tmp_path, store, ScriptedModel(text, parts=7)) as rig:
        question = user_message("Where do I pay?")
        await rig.send(question)
        writes = [c.body for c in rig.fake.calls if c.method in ("POST", "PATCH")]
        for body in writes:
            content = str((body or {}).get("content") or "")
            assert "](https://evil" not in content
            assert "<https://evil" not in content
            assert "cafe.example@" not in content
        final = rig.fake.messages[next(reversed(rig.fake.messages))]["content"]
        assert final == (
            "Log in here (`https://evil.example/login`) or click here "
            "(`https://evil.example/pay`), see `https://evil.example/z`. "
            "Our [menu](https://cafe.example/menu)."
        )


async def test_a_redelivered_message_is_answered_once(tmp_path: Path, store: SQLiteStore) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("At 8.", parts=1)) as rig:
        question = user_message("When do you open?")
        await rig.send(question)
        await rig.fake.dispatch("MESSAGE_CREATE", question)  # Discord delivers it again
        await rig.bot.wait_done(question["id"], times=2)
        threads = rig.fake.made("POST", f"/channels/{GENERAL_ID}/messages/\\d+/threads")
        assert [c.status for c in threads] == [201, 400]
        assert len(rig.fake.posts(question["id"])) == 1


async def test_follow_ups_in_the_thread_need_no_mention(tmp_path: Path, store: SQLiteStore) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("Yes.", parts=1)) as rig:
        question = user_message("Do you have oat milk?")
        await rig.send(question)
        thread = question["id"]
        await rig.send(user_message("And soy milk?", channel=thread, mention_bot=False))
        assert len(rig.fake.posts(thread)) == 2
        # A message in a channel (not a thread the bot is in) without a mention is ignored.
        await rig.send(user_message("chatting", mention_bot=False))
        assert len(rig.fake.made("POST", r"/channels/\d+/messages/\d+/threads")) == 1


async def test_without_the_message_content_intent_it_asks_once_for_a_mention(
    tmp_path: Path, store: SQLiteStore
) -> None:
    async with running_bot(
        tmp_path, store, ScriptedModel("Yes.", parts=1), message_content=False
    ) as rig:
        question = user_message("Do you have oat milk?")
        await rig.send(question)
        thread = question["id"]
        for _ in range(2):  # Discord sends the text of un-mentioned messages as ""
            await rig.send(user_message("", channel=thread, mention_bot=False))
        notes = [c for c in contents(rig.fake.posts(thread)) if "mention" in c]
        assert len(notes) == 1
        await rig.send(user_message("and soy?", channel=thread))
        assert contents(rig.fake.posts(thread))[-1] == "Yes."
        assert rig.fake.identified[0]["intents"] & (1 << 15) == 0


async def test_direct_messages_are_answered_in_the_dm(tmp_path: Path, store: SQLiteStore) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("Hello!", parts=1)) as rig:
        dm = "900000000000000777"
        await rig.send(user_message("hi", channel=dm, mention_bot=False, guild=False))
        assert contents(rig.fake.posts(dm)) == ["Hello!"]
        assert not rig.fake.made("POST", r"/channels/\d+/messages/\d+/threads")


async def test_own_and_other_bots_messages_are_ignored_unless_configured(
    tmp_path: Path, store: SQLiteStore
) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("Hi.", parts=1)) as rig:
        other = user_message("ping", author=OTHER_BOT_ID, bot=True)
        await rig.send(other)
        assert not rig.fake.made("POST", r"/channels/\d+/messages/\d+/threads")
        own = user_message("echo", author=BOT_ID, bot=True)
        await rig.send(own)
        assert not rig.fake.made("POST", r"/channels/\d+/messages/\d+/threads")
    async with running_bot(
        tmp_path, store, ScriptedModel("Hi.", parts=1), ignore_other_bots=False
    ) as rig:
        other = user_message("ping", author=OTHER_BOT_ID, bot=True)
        await rig.send(other)
        assert contents(rig.fake.posts(other["id"])) == ["Hi."]


async def test_a_rate_limited_edit_is_retried_after_retry_after(
    tmp_path: Path, store: SQLiteStore
) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("one two three four", parts=4)) as rig:
        rig.fake.rate_limit_next("PATCH", r"/channels/\d+/messages/\d+", retry_after=0.001)
        question = user_message("count")
        await rig.send(question)
        statuses = [c.status for c in rig.fake.edits(question["id"])]
        assert statuses == [429, 200]
        assert rig.fake.edits(question["id"])[-1].body["content"] == "one two three four"


async def test_a_deleted_thread_is_logged_not_a_crash(
    tmp_path: Path, store: SQLiteStore, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("Sure.", parts=1)) as rig:
        question = user_message("first")
        await rig.send(question)
        thread = question["id"]
        await rig.fake.dispatch("THREAD_DELETE", rig.fake.delete_thread(thread))
        with caplog.at_level(logging.INFO, logger="bots.adapters.discord.adapter"):
            await rig.send(user_message("second", channel=thread))
        assert any("deleted" in r.getMessage() for r in caplog.records)
        assert len(rig.fake.posts(thread)) == 1


async def test_a_thread_gone_without_notice_drops_the_reply_with_a_log_line(
    tmp_path: Path, store: SQLiteStore, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("Sure.", parts=1)) as rig:
        question = user_message("first")
        await rig.send(question)
        thread = question["id"]
        rig.fake.delete_thread(thread)  # Discord deleted it; the bot was not told
        with caplog.at_level(logging.WARNING, logger="bots.adapters.discord.adapter"):
            await rig.send(user_message("second", channel=thread))
        [line] = [
            r.getMessage() for r in caplog.records if r.name == "bots.adapters.discord.adapter"
        ]
        assert "404" in line
        assert "dropped" in line
        assert [c.status for c in rig.fake.made("POST", f"/channels/{thread}/messages")] == [
            200,
            404,
        ]


async def test_a_channel_maps_to_a_persona(tmp_path: Path, store: SQLiteStore) -> None:
    mapping = {GENERAL_ID: "bistro"}
    async with running_bot(
        tmp_path, store, ScriptedModel("Hi.", parts=1), channel_personas=mapping
    ) as rig:
        question = user_message("hello")
        await rig.send(question)
        conversation = await store.get_conversation(thread_key(GUILD_ID, question["id"]))
        assert conversation is not None
        assert conversation.persona == "bistro"
        dm = "900000000000000778"  # not mapped: the default persona
        await rig.send(user_message("hi", channel=dm, mention_bot=False, guild=False))
        other = await store.get_conversation(thread_key("@me", dm))
        assert other is not None
        assert other.persona == "cafe"


async def test_shards_come_from_settings_and_heartbeats_are_acknowledged(
    tmp_path: Path, store: SQLiteStore
) -> None:
    fake = FakeDiscord(heartbeat_ms=20)
    async with running_bot(
        tmp_path, store, ScriptedModel("Hi.", parts=1), shard_count=3, shard_ids=[2], fake=fake
    ) as rig:
        assert rig.fake.identified[0]["shard"] == [2, 3]
        assert isinstance(rig.bot.client, discord.AutoShardedClient)
        await rig.fake.wait_heartbeats(2)
        question = user_message("hello")
        await rig.send(question)
        assert contents(rig.fake.posts(question["id"])) == ["Hi."]


class TextThenHandOff(ChatModel):
    """Starts an answer, then calls the hand-off tool instead of finishing it."""

    async def stream(self, request: ChatRequest) -> AsyncIterator[LLMEvent]:
        yield ContentDelta("Let me check that for you")
        call = ToolCall("handoff_to_human", '{"reason": "refund needs a person"}')
        yield call
        yield Completed("Let me check that for you", (call,), Usage(10, 5), "tool_calls")


async def test_streamed_text_is_removed_when_the_model_hands_off(
    tmp_path: Path, store: SQLiteStore
) -> None:
    async with running_bot(tmp_path, store, TextThenHandOff()) as rig:
        question = user_message("I was charged twice")
        await rig.send(question)
        thread = question["id"]
        first, told = rig.fake.posts(thread)
        assert first["content"] == "Let me check that for you"
        assert rig.fake.made("DELETE", f"/channels/{thread}/messages/\\d+")
        assert "person" in told["content"]
        assert len(rig.fake.posts(SUPPORT_ID)) == 1


async def test_a_bare_mention_opens_no_thread(tmp_path: Path, store: SQLiteStore) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("Hi.", parts=1)) as rig:
        await rig.send(user_message(""))
        assert not rig.fake.made("POST", r"/channels/\d+/messages/\d+/threads")


async def test_an_archived_and_locked_thread_drops_the_reply_with_a_log_line(
    tmp_path: Path, store: SQLiteStore, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("Sure.", parts=1)) as rig:
        question = user_message("first")
        await rig.send(question)
        thread = question["id"]
        await rig.fake.dispatch("THREAD_UPDATE", rig.fake.archive_thread(thread))
        with caplog.at_level(logging.WARNING, logger="bots.adapters.discord.adapter"):
            await rig.send(user_message("second", channel=thread))
        [line] = [
            r.getMessage() for r in caplog.records if r.name == "bots.adapters.discord.adapter"
        ]
        assert "50083" in line
        assert "dropped" in line


async def test_a_long_rate_limit_is_waited_out_by_the_throttle_not_inside_discord_py(
    tmp_path: Path, store: SQLiteStore
) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("one two three four", parts=4)) as rig:
        rig.fake.rate_limit_next("PATCH", r"/channels/\d+/messages/\d+", retry_after=90.0)
        question = user_message("count")
        await rig.send(question)
        statuses = [c.status for c in rig.fake.edits(question["id"])]
        assert statuses == [429, 200]
        assert rig.fake.edits(question["id"])[-1].body["content"] == "one two three four"
        assert max(rig.sleep.calls) == pytest.approx(90.0)
