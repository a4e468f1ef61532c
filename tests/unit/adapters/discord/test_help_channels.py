"""Discord help channels through discord.py's real gateway path: every top-level question is
answered in a new thread without a mention; chatter and members' replies are left alone."""

from __future__ import annotations

from pathlib import Path

from bots.store.sqlite import SQLiteStore
from bots.turn.help_channel import HelpChannels, QuestionDetector
from tests.fakes.fake_discord import GENERAL_ID, SUPPORT_ID, USER_ID, FakeDiscord, user_message
from tests.support.discord_rig import running_bot

HELP = HelpChannels({GENERAL_ID}, QuestionDetector())


def threads_opened(fake: FakeDiscord, channel: str = GENERAL_ID) -> list[str]:
    return [
        c.path
        for c in fake.calls
        if c.method == "POST" and c.path.startswith(f"/channels/{channel}/")
    ]


async def test_a_question_without_a_mention_is_answered_in_a_new_thread(
    tmp_path: Path, store: SQLiteStore
) -> None:
    async with running_bot(tmp_path, store, None, help_channels=HELP) as rig:
        question = user_message("is there wifi?", mention_bot=False)
        await rig.send(question)
        [opened] = rig.fake.made(
            "POST", f"/channels/{GENERAL_ID}/messages/{question['id']}/threads"
        )
        assert opened.body["name"] == "is there wifi?"
        posts = rig.fake.posts(question["id"])
        assert any("Wi-Fi" in str(p.get("content")) for p in posts), posts
        await rig.send(question)  # a redelivery: the same thread, answered once
        assert len([p for p in rig.fake.posts(question["id"]) if "Wi-Fi" in str(p)]) == 1


async def test_greetings_thanks_and_replies_to_members_are_left_alone(
    tmp_path: Path, store: SQLiteStore
) -> None:
    async with running_bot(tmp_path, store, None, help_channels=HELP) as rig:
        for text in ("thanks everyone!", "good morning", "ok cool"):
            await rig.send(user_message(text, mention_bot=False))
        earlier = user_message("is there wifi?", mention_bot=False, author="900000000000000299")
        reply = user_message("did you try the password on the receipt?", mention_bot=False)
        reply["type"] = 19  # a reply to another member's message
        reply["message_reference"] = {
            "message_id": earlier["id"],
            "channel_id": GENERAL_ID,
            "guild_id": reply["guild_id"],
        }
        await rig.send(reply)
        naming = user_message(f"<@{USER_ID}> where is the car park?", mention_bot=False)
        naming["mentions"] = [{"id": "900000000000000299", "username": "bob"}]
        naming["content"] = "<@900000000000000299> where is the car park?"
        await rig.send(naming)
        assert threads_opened(rig.fake) == []
        # The same words as a top-level message of their own are a question for the bot.
        control = user_message("did you try the password on the receipt?", mention_bot=False)
        await rig.send(control)
        assert threads_opened(rig.fake) == [
            f"/channels/{GENERAL_ID}/messages/{control['id']}/threads"
        ]


async def test_other_channels_still_need_a_mention(tmp_path: Path, store: SQLiteStore) -> None:
    help_elsewhere = HelpChannels({SUPPORT_ID}, QuestionDetector())
    async with running_bot(tmp_path, store, None, help_channels=help_elsewhere) as rig:
        await rig.send(user_message("is there wifi?", mention_bot=False))
        assert threads_opened(rig.fake) == []
