"""Forum channels as a help desk, through the real discord.py client against the fake Discord.

A post is THREAD_CREATE (a type 11 thread in a type 15 forum, the thread's id the starter
message's) then the starter MESSAGE_CREATE. Assertions are on what the fake receives: the
answer in the post, `applied_tags` and `archived`/`locked` on PATCH /channels/{post}, the
Solved button's callbacks, and the nudge with its one allowed mention.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bots.adapters.discord.formatting import thread_key
from bots.models import ConversationState
from bots.store.sqlite import SQLiteStore
from tests.fakes.fake_discord import (
    FORUM_ID,
    GUILD_ID,
    ROLE_ID,
    STAFF_ID,
    STRICT_FORUM_ID,
    SUPPORT_ID,
    TAG_BILLING,
    TAG_SOLVED,
    TAG_UNSOLVED,
    TAG_WAITING,
    USER_ID,
    button_click,
    custom_ids,
    user_message,
)
from tests.support.discord_rig import Rig, running_bot
from tests.unit.adapters.discord.test_adapter import NO_PINGS, ScriptedModel, contents

FORUMS = (FORUM_ID, STRICT_FORUM_ID)
CALLBACK = r"/interactions/\d+/[^/]+/callback"


async def post(rig: Rig, title: str, text: str, **options: Any) -> str:
    """A member opens a post; returns its id once the bot has handled the starter message."""
    thread, starter = rig.fake.open_post(title, text, **options)
    await rig.fake.dispatch("THREAD_CREATE", thread)
    await rig.send(starter)
    return str(starter["id"])


def tag_edits(rig: Rig, post_id: str) -> list[dict[str, Any]]:
    return [c.body for c in rig.fake.made("PATCH", f"/channels/{post_id}") if c.status == 200]


def answer_in(rig: Rig, post_id: str) -> dict[str, Any]:
    return next(
        m
        for m in reversed(rig.fake.messages.values())
        if m["channel_id"] == post_id and any(i.startswith("bots:solved") for i in custom_ids(m))
    )


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_a_new_post_is_answered_in_its_thread_without_a_mention_and_tagged_unsolved(
    tmp_path: Path, store: SQLiteStore
) -> None:
    model = ScriptedModel("We open at 8 every day.", parts=1)
    async with running_bot(tmp_path, store, model, forum_channels=FORUMS) as rig:
        post_id = await post(
            rig, "Opening hours?", "When do you open on Sundays?", tags=[TAG_BILLING]
        )
        [answer] = rig.fake.posts(post_id)
        assert answer["content"] == "We open at 8 every day."
        assert answer["allowed_mentions"] == NO_PINGS
        # No thread is opened: the post is the thread.
        assert not rig.fake.made("POST", r"/channels/\d+/messages/\d+/threads")
        # The final edit carries the buttons: 👍/👎 and Solved for the asker.
        final = answer_in(rig, post_id)
        assert f"bots:solved:{GUILD_ID}:{post_id}:{USER_ID}" in custom_ids(final)
        # The stage tag is added; the forum's own tag stays.
        [edit] = tag_edits(rig, post_id)
        assert sorted(edit["applied_tags"]) == sorted([TAG_UNSOLVED, TAG_BILLING])
        assert "archived" not in edit
        turns = await store.recent_turns(
            (await store.get_conversation(thread_key(GUILD_ID, post_id))).id,
            5,  # type: ignore[union-attr]
        )
        assert turns[0].text.startswith("Opening hours?")


async def test_a_redelivered_post_is_answered_once(tmp_path: Path, store: SQLiteStore) -> None:
    async with running_bot(
        tmp_path, store, ScriptedModel("Yes.", parts=1), forum_channels=FORUMS
    ) as rig:
        thread, starter = rig.fake.open_post("Dogs?", "Can I bring my dog?")
        await rig.fake.dispatch("THREAD_CREATE", thread)
        await rig.send(starter)
        await rig.fake.dispatch("MESSAGE_CREATE", starter)
        await rig.bot.wait_done(starter["id"], times=2)
        assert contents(rig.fake.posts(starter["id"])) == ["Yes."]
        assert len(tag_edits(rig, starter["id"])) == 1


async def test_posts_in_forums_not_listed_are_left_alone(
    tmp_path: Path, store: SQLiteStore
) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("unused")) as rig:
        post_id = await post(rig, "Opening hours?", "When do you open?")
        assert not rig.fake.posts(post_id)
        assert not tag_edits(rig, post_id)


async def test_the_persona_lists_forums_and_names_the_tags(
    tmp_path: Path, store: SQLiteStore
) -> None:
    forum = {"channels": [int(FORUM_ID)], "tags": {"unsolved": "billing"}}
    async with running_bot(
        tmp_path, store, ScriptedModel("Here.", parts=1), persona_changes={"forum": forum}
    ) as rig:
        post_id = await post(rig, "Invoice", "Where is my invoice?")
        assert contents(rig.fake.posts(post_id)) == ["Here."]
        [edit] = tag_edits(rig, post_id)
        assert edit["applied_tags"] == [TAG_BILLING]


async def test_a_hand_off_moves_the_tag_to_waiting_and_staff_resolving_it_solves_and_archives(
    tmp_path: Path, store: SQLiteStore
) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("unused"), forum_channels=FORUMS) as rig:
        post_id = await post(rig, "Refund", "Can I talk to a human please?")
        [card] = [m for m in rig.fake.messages.values() if m["channel_id"] == SUPPORT_ID]
        [waiting] = tag_edits(rig, post_id)
        assert waiting["applied_tags"] == [TAG_WAITING]
        [told] = rig.fake.posts(post_id)  # the asker can close a waiting post too
        assert f"bots:solved:{GUILD_ID}:{post_id}:{USER_ID}" in custom_ids(told)
        claim, resolve = custom_ids(card)
        await rig.interact(button_click(claim, card, author=STAFF_ID, roles=[ROLE_ID]))
        assert len(tag_edits(rig, post_id)) == 1  # claimed: still waiting, nothing to change
        card = rig.fake.messages[card["id"]]
        await rig.interact(button_click(resolve, card, author=STAFF_ID, roles=[ROLE_ID]))
        solved = tag_edits(rig, post_id)[-1]
        assert solved["applied_tags"] == [TAG_SOLVED]
        assert solved["archived"] is True
        assert solved["locked"] is False
        assert rig.fake.threads[post_id]["thread_metadata"]["archived"] is True


async def test_only_the_asker_and_staff_can_press_solved(
    tmp_path: Path, store: SQLiteStore
) -> None:
    forum = {"channels": [FORUM_ID], "on_solved": "lock"}
    async with running_bot(
        tmp_path,
        store,
        ScriptedModel("Try restarting it.", parts=1),
        persona_changes={"forum": forum},
    ) as rig:
        post_id = await post(rig, "Broken", "The app does not start")
        answer = answer_in(rig, post_id)
        [solved_button] = [i for i in custom_ids(answer) if i.startswith("bots:solved")]
        await rig.interact(button_click(solved_button, answer, author="900000000000000777"))
        [refusal] = rig.fake.made("POST", CALLBACK)
        assert refusal.body["type"] == 4
        assert refusal.body["data"]["flags"] == 64
        assert len(tag_edits(rig, post_id)) == 1
        await rig.interact(button_click(solved_button, answer, author=USER_ID))
        said = rig.fake.posts(post_id)[-1]
        assert said["content"].startswith("Marked as solved.")
        assert said["allowed_mentions"] == NO_PINGS
        closing = tag_edits(rig, post_id)[-1]
        assert closing["applied_tags"] == [TAG_SOLVED]
        assert closing["archived"] is True
        assert closing["locked"] is True


async def test_staff_press_solved_on_a_handed_off_post_and_it_is_resolved_and_tagged_solved(
    tmp_path: Path, store: SQLiteStore
) -> None:
    model = ScriptedModel("Refunds take five days.", parts=1)
    async with running_bot(tmp_path, store, model, forum_channels=FORUMS) as rig:
        post_id = await post(rig, "Refund", "How long does a refund take?")
        answer = answer_in(rig, post_id)
        await rig.send(
            user_message("Can I talk to a human please?", channel=post_id, mention_bot=False)
        )
        key = thread_key(GUILD_ID, post_id)
        assert await rig.engine.state(key) == ConversationState.WAITING_FOR_HUMAN
        assert tag_edits(rig, post_id)[-1]["applied_tags"] == [TAG_WAITING]
        solved = f"bots:solved:{GUILD_ID}:{post_id}:{USER_ID}"
        await rig.interact(button_click(solved, answer, author=STAFF_ID, roles=[ROLE_ID]))
        assert await store.get_conversation(key) is not None
        assert await rig.engine.state(key) == ConversationState.RESOLVED
        assert tag_edits(rig, post_id)[-1]["applied_tags"] == [TAG_SOLVED]


async def test_a_forum_that_requires_a_tag_never_loses_its_last_one(
    tmp_path: Path, store: SQLiteStore
) -> None:
    async with running_bot(
        tmp_path, store, ScriptedModel("Sure.", parts=1), forum_channels=FORUMS
    ) as rig:
        question_tag = "900000000000000700"
        post_id = await post(
            rig, "Hello", "Can I book a table?", forum=STRICT_FORUM_ID, tags=[question_tag]
        )
        assert contents(rig.fake.posts(post_id)) == ["Sure."]
        assert not tag_edits(rig, post_id)  # no stage tag in this forum: nothing to change
        answer = answer_in(rig, post_id)
        [solved_button] = [i for i in custom_ids(answer) if i.startswith("bots:solved")]
        await rig.interact(button_click(solved_button, answer, author=USER_ID))
        [closing] = tag_edits(rig, post_id)
        assert "applied_tags" not in closing
        assert closing["archived"] is True
        assert rig.fake.threads[post_id]["applied_tags"] == [question_tag]
        assert all(c.status == 200 for c in rig.fake.made("PATCH", r"/channels/\d+"))


async def test_the_fake_refuses_a_post_without_tags_in_a_forum_that_requires_one(
    tmp_path: Path, store: SQLiteStore
) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("unused")) as rig:
        thread, _ = rig.fake.open_post("x", "y", forum=STRICT_FORUM_ID, tags=["900000000000000700"])
        status, error, _ = rig.fake._edit_thread(thread["id"], {"applied_tags": []})
        assert (status, error["code"]) == (400, 40067)


async def test_the_asker_is_nudged_once_after_the_quiet_period(
    tmp_path: Path, store: SQLiteStore
) -> None:
    clock = Clock()
    async with running_bot(
        tmp_path,
        store,
        ScriptedModel("Try restarting it.", parts=1),
        forum_channels=FORUMS,
        engine_clock=clock,
        wall_clock=clock,
    ) as rig:
        post_id = await post(rig, "Broken", "The app does not start")
        clock.now += timedelta(hours=23)
        await rig.bot.tick()
        assert len(rig.fake.posts(post_id)) == 1  # not quiet long enough (default 24 h)
        clock.now += timedelta(hours=2)
        await rig.bot.tick()
        nudge = rig.fake.posts(post_id)[-1]
        assert nudge["content"].startswith(f"<@{USER_ID}> Did this answer your question?")
        assert nudge["allowed_mentions"] == {"parse": [], "users": [int(USER_ID)]}
        assert any(i.startswith("bots:solved") for i in custom_ids(nudge))
        clock.now += timedelta(days=3)
        await rig.bot.tick()
        assert len(rig.fake.posts(post_id)) == 2  # once per silence


async def test_a_solved_post_is_not_nudged(tmp_path: Path, store: SQLiteStore) -> None:
    clock = Clock()
    async with running_bot(
        tmp_path,
        store,
        ScriptedModel("Try restarting it.", parts=1),
        forum_channels=FORUMS,
        engine_clock=clock,
        wall_clock=clock,
        persona_changes={"forum": {"on_solved": "keep"}},
    ) as rig:
        post_id = await post(rig, "Broken", "The app does not start")
        answer = answer_in(rig, post_id)
        [solved_button] = [i for i in custom_ids(answer) if i.startswith("bots:solved")]
        await rig.interact(button_click(solved_button, answer, author=USER_ID))
        assert "archived" not in tag_edits(rig, post_id)[-1]  # kept open, as configured
        posted = len(rig.fake.posts(post_id))
        clock.now += timedelta(days=2)
        await rig.bot.tick()
        assert len(rig.fake.posts(post_id)) == posted


async def test_a_rate_limited_tag_change_is_retried(tmp_path: Path, store: SQLiteStore) -> None:
    async with running_bot(
        tmp_path, store, ScriptedModel("Yes.", parts=1), forum_channels=FORUMS
    ) as rig:
        thread, starter = rig.fake.open_post("Dogs?", "Can I bring my dog?")
        rig.fake.rate_limit_next("PATCH", f"/channels/{starter['id']}", via=False)
        await rig.fake.dispatch("THREAD_CREATE", thread)
        await rig.send(starter)
        assert [c.status for c in rig.fake.made("PATCH", f"/channels/{starter['id']}")] == [
            429,
            200,
        ]
        assert rig.fake.threads[starter["id"]]["applied_tags"] == [TAG_UNSOLVED]
