"""Staff-only commands and buttons, refused for everyone else on both platforms.

One case per way in: Slack `/support handoff|claim|resolve` and the Claim/Resolve buttons of
the support post; Discord `/support handoff|resolve` and the Claim/Resolve buttons of the
hand-off card; the 👍/👎 buttons, which only the asker may click. Each is tried by someone who
is not staff (on Discord also by a member with another role), through the real slack-bolt and
discord.py code against the fakes, and must be refused in words only that person sees, with
nothing changed: no post in the support channel, no card or message updated, the
conversation's state as it was. A staff member then does the same successfully, so the
refusal is the check and not a broken path.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bots.adapters.discord.formatting import thread_key
from bots.adapters.slack.formatting import (
    CLAIM_ACTION,
    FEEDBACK_DOWN_ACTION,
    FEEDBACK_UP_ACTION,
    RESOLVE_ACTION,
)
from bots.models import ConversationState, ThreadKey
from bots.store.sqlite import SQLiteStore
from tests.fakes.fake_discord import (
    GUILD_ID,
    ROLE_ID,
    STAFF_ID,
    SUPPORT_ID,
    USER_ID,
    button_click,
    custom_ids,
    slash,
    user_message,
)
from tests.fakes.fake_slack import TEAM_ID
from tests.support.discord_rig import running_bot
from tests.unit.adapters.discord.test_adapter import ScriptedModel
from tests.unit.adapters.slack.test_adapter import (
    CHANNEL,
    STAFF,
    SUPPORT,
    USER,
    Rig,
    click,
    copy_slack_persona,
    feedback_click,
    make_rig,
    mention,
)
from tests.unit.adapters.slack.test_command import LINK, TS, command

pytestmark = pytest.mark.security("staff-only")

OTHER_ROLE = "900000000000000099"
CALLBACK = r"/interactions/\d+/[^/]+/callback"


async def state_of(store: SQLiteStore, key: ThreadKey) -> ConversationState:
    conversation = await store.get_conversation(key)
    assert conversation is not None
    return conversation.state


# -- Slack --------------------------------------------------------------------------------

SLACK_THREAD = ThreadKey("slack", TEAM_ID, CHANNEL, "100.1")


@pytest.fixture
async def slack(tmp_path: Path, store: SQLiteStore) -> AsyncIterator[Rig]:
    async for rig in make_rig(copy_slack_persona(tmp_path), store, None):
        yield rig


async def slack_command(rig: Rig, text: str, user: str) -> str:
    assert await rig.deliver(command(rig, text, user)) == 200
    await rig.settle()
    response = rig.slack.responses[-1]
    assert response["response_type"] == "ephemeral"  # only the one who typed it sees it
    return str(response["text"])


@pytest.mark.parametrize("action", ["handoff", "claim", "resolve"])
async def test_slack_support_command_is_staff_only(slack: Rig, action: str) -> None:
    ask = "I want a human" if action != "handoff" else "is there wifi?"
    await slack.deliver(mention(TS, ask))
    await slack.settle()
    key = ThreadKey("slack", TEAM_ID, CHANNEL, TS)
    before = await state_of(slack.store, key)
    posts, shown = len(slack.slack.posts()), len(slack.shown(TS))

    answer = await slack_command(slack, f"{action} {LINK}", USER)
    assert answer.startswith("Sorry, only the support team"), answer
    assert len(slack.slack.posts()) == posts
    assert len(slack.shown(TS)) == shown
    assert slack.slack.made("chat.update") == []
    assert await state_of(slack.store, key) is before

    answer = await slack_command(slack, f"{action} {LINK}", STAFF)
    assert not answer.startswith("Sorry"), answer
    assert await state_of(slack.store, key) is not before


@pytest.mark.parametrize("action", [CLAIM_ACTION, RESOLVE_ACTION])
async def test_slack_hand_off_buttons_are_staff_only(slack: Rig, action: str) -> None:
    await slack.deliver(mention("100.1", "I want a human"))
    await slack.settle()
    (support,) = slack.slack.posts(SUPPORT)
    before = await state_of(slack.store, SLACK_THREAD)

    await slack.deliver(click(action, support, staff=USER))
    await slack.settle()
    (refusal,) = slack.slack.made("chat.postEphemeral")
    assert refusal["user"] == USER
    assert "Only the support team" in refusal["text"]
    assert slack.slack.made("chat.update") == []
    assert len(slack.shown("100.1")) == 1  # only the hand-off notice
    assert await state_of(slack.store, SLACK_THREAD) is before

    await slack.deliver(click(action, support, staff=STAFF))
    await slack.settle()
    assert slack.slack.made("chat.update")
    assert await state_of(slack.store, SLACK_THREAD) is not before


@pytest.mark.parametrize("action", [FEEDBACK_UP_ACTION, FEEDBACK_DOWN_ACTION])
async def test_slack_feedback_buttons_are_the_askers_only(slack: Rig, action: str) -> None:
    await slack.deliver(mention("100.1", "is there wifi?"))
    await slack.settle()
    (answer,) = [p for p in slack.slack.posts(CHANNEL) if p.get("thread_ts") == "100.1"]

    await slack.deliver(feedback_click(action, answer, user=STAFF))  # even staff
    await slack.settle()
    (refusal,) = slack.slack.made("chat.postEphemeral")
    assert (refusal["user"], refusal["text"]) == (
        STAFF,
        "Only the person who asked can rate this answer.",
    )
    assert slack.slack.made("chat.update") == []

    await slack.deliver(feedback_click(action, answer, user=USER))
    await slack.settle()
    assert slack.slack.made("chat.update")


# -- Discord ------------------------------------------------------------------------------

NOT_STAFF = {"no role": [], "another role": [OTHER_ROLE]}


def refusals(rig: Any) -> list[str]:
    """Interaction answers only the clicker sees (ephemeral), in order."""
    found = []
    for call in rig.fake.made("POST", CALLBACK):
        data = call.body.get("data") or {}
        if call.body["type"] == 4 and int(data.get("flags", 0)) & 64:
            found.append(str(data.get("content", "")))
    return found


async def discord_hand_off(rig: Any) -> tuple[str, dict[str, Any]]:
    question = user_message("Can I talk to a human please?")
    await rig.send(question)
    card = next(m for m in rig.fake.messages.values() if m["channel_id"] == SUPPORT_ID)
    return question["id"], card


@pytest.mark.parametrize("who", list(NOT_STAFF))
@pytest.mark.parametrize("button", ["claim", "resolve"])
async def test_discord_hand_off_buttons_are_staff_only(
    tmp_path: Path, store: SQLiteStore, button: str, who: str
) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("unused")) as rig:
        thread, card = await discord_hand_off(rig)
        claim, resolve = custom_ids(card)
        key = thread_key(GUILD_ID, thread)
        before = await state_of(store, key)
        custom_id = claim if button == "claim" else resolve

        await rig.interact(button_click(custom_id, card, author=USER_ID, roles=NOT_STAFF[who]))
        assert refusals(rig) == ["Only the support team can claim or resolve hand-offs."]
        assert rig.fake.edits(SUPPORT_ID) == []
        assert await state_of(store, key) is before

        await rig.interact(button_click(custom_id, card, author=STAFF_ID, roles=[ROLE_ID]))
        assert rig.fake.edits(SUPPORT_ID)
        assert await state_of(store, key) is not before


@pytest.mark.parametrize("who", list(NOT_STAFF))
@pytest.mark.parametrize("sub", ["handoff", "resolve"])
async def test_discord_support_command_is_staff_only(
    tmp_path: Path, store: SQLiteStore, sub: str, who: str
) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("Yes.", parts=1)) as rig:
        if sub == "handoff":
            question = user_message("Open today?")
            await rig.send(question)
            thread = question["id"]
        else:
            thread, _card = await discord_hand_off(rig)
        key = thread_key(GUILD_ID, thread)
        before = await state_of(store, key)
        supports = len(rig.fake.posts(SUPPORT_ID))

        await rig.interact(slash(sub, channel=thread, author=USER_ID, roles=NOT_STAFF[who]))
        assert refusals(rig) == ["Only the support team can do that."]
        assert len(rig.fake.posts(SUPPORT_ID)) == supports
        assert rig.fake.edits(SUPPORT_ID) == []
        assert await state_of(store, key) is before

        await rig.interact(slash(sub, channel=thread, author=STAFF_ID, roles=[ROLE_ID]))
        assert await state_of(store, key) is not before
