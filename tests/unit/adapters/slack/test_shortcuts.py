"""Slack message shortcuts through bolt's real request handling, against the fake Slack.

A shortcut on a message is a signed `message_action` interaction (form-encoded `payload`)
with the shortcut's `callback_id`, the `message`, `channel`, `user` and `team`, the shape in
Slack's "Shortcuts payloads" reference; assertions are on what the fake Slack receives.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from bots.adapters.slack.shortcuts import ASK_CALLBACK, HANDOFF_CALLBACK
from bots.models import ConversationState, Role, ThreadKey
from bots.store.sqlite import SQLiteStore
from tests.fakes.fake_slack import TEAM_ID
from tests.support.paths import REPO_ROOT
from tests.unit.adapters.slack.test_adapter import (
    CHANNEL,
    STAFF,
    SUPPORT,
    USER,
    Rig,
    ScriptedModel,
    copy_slack_persona,
    make_rig,
)

HELPER = "U0HELPER"


def shortcut(
    callback_id: str, ts: str, text: str, *, by: str, author: str = USER, **message: Any
) -> str:
    """A signed-ready `message_action` body: `by` uses the shortcut on `author`'s message."""
    payload = {
        "type": "message_action",
        "token": "legacy",
        "action_ts": "200.0",
        "team": {"id": TEAM_ID, "domain": "fake"},
        "user": {"id": by, "username": "someone", "team_id": TEAM_ID, "name": "someone"},
        "channel": {"id": CHANNEL, "name": "general"},
        "is_enterprise_install": False,
        "callback_id": callback_id,
        "trigger_id": "1.2.5",
        "response_url": "https://hooks.slack.com/app/T0/1/x",
        "message_ts": ts,
        "message": {"type": "message", "user": author, "text": text, "ts": ts, **message},
    }
    return urlencode({"payload": json.dumps(payload)})


@pytest.fixture
async def rig(tmp_path: Path, store: SQLiteStore) -> AsyncIterator[Rig]:
    folder = copy_slack_persona(tmp_path)
    async for made in make_rig(folder, store, ScriptedModel("We open at 8.")):
        yield made


async def test_ask_answers_the_message_in_its_thread_as_its_author_and_says_who_asked(
    rig: Rig,
) -> None:
    assert await rig.deliver(shortcut(ASK_CALLBACK, "300.1", "when do you open?", by=HELPER))
    await rig.settle()
    posts = rig.thread_posts("300.1")
    assert posts[0]["text"] == f"<@{HELPER}> asked me to answer <@{USER}>'s message."
    assert "We open at 8." in str(rig.shown("300.1"))
    conversation = await rig.store.get_conversation(ThreadKey("slack", TEAM_ID, CHANNEL, "300.1"))
    assert conversation is not None
    asked = (await rig.store.recent_turns(conversation.id, 5))[0]
    assert (asked.role, asked.author_id, asked.text) == (Role.USER, USER, "when do you open?")


async def test_ask_on_a_reply_answers_in_that_thread(rig: Rig) -> None:
    body = shortcut(ASK_CALLBACK, "300.5", "and on sundays?", by=USER, thread_ts="300.1")
    await rig.deliver(body)
    await rig.settle()
    posts = rig.thread_posts("300.1")
    assert posts[0]["text"] == f"<@{USER}> asked me to answer this."


async def test_ask_twice_answers_once(rig: Rig) -> None:
    for _ in range(2):
        await rig.deliver(shortcut(ASK_CALLBACK, "300.1", "when do you open?", by=HELPER))
        await rig.settle()
    shown = [m for m in rig.shown("300.1") if "We open at 8." in str(m)]
    assert len(shown) == 1


async def test_ask_refuses_a_bot_message(rig: Rig) -> None:
    await rig.deliver(shortcut(ASK_CALLBACK, "300.1", "beep", by=HELPER, bot_id="B0OTHER"))
    await rig.settle()
    (ephemeral,) = rig.slack.made("chat.postEphemeral")
    assert ephemeral["user"] == HELPER
    assert not rig.thread_posts("300.1")


async def test_hand_to_support_is_for_staff_and_hands_the_thread_over(rig: Rig) -> None:
    await rig.deliver(shortcut(HANDOFF_CALLBACK, "300.1", "my order never came", by=USER))
    await rig.settle()
    (refusal,) = rig.slack.made("chat.postEphemeral")
    assert refusal["user"] == USER
    assert not rig.slack.posts(SUPPORT)
    await rig.deliver(shortcut(HANDOFF_CALLBACK, "300.1", "my order never came", by=STAFF))
    await rig.settle()
    key = ThreadKey("slack", TEAM_ID, CHANNEL, "300.1")
    conversation = await rig.store.get_conversation(key)
    assert conversation is not None
    assert conversation.state is ConversationState.WAITING_FOR_HUMAN
    (notice,) = rig.slack.posts(SUPPORT)
    assert "my order never came" in json.dumps(notice)
    assert rig.thread_posts("300.1")  # the user is told in the thread


def test_the_manifest_registers_both_shortcuts_with_the_ids_the_bot_listens_for() -> None:
    import yaml

    manifest = yaml.safe_load((REPO_ROOT / "slack-manifest.yaml").read_text(encoding="utf-8"))
    shortcuts = {s["callback_id"]: s for s in manifest["features"]["shortcuts"]}
    assert set(shortcuts) == {ASK_CALLBACK, HANDOFF_CALLBACK}
    assert all(s["type"] == "message" for s in shortcuts.values())
    assert "commands" in manifest["oauth_config"]["scopes"]["bot"]
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
