"""The Slack assistant pane through bolt's real `Assistant` middleware, against the fake Slack.

Events are shaped as docs.slack.dev shows them (assistant_thread_started,
assistant_thread_context_changed, message.im in an assistant thread); the fake refuses
pane calls with missing or out-of-limit arguments, as Slack does.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import yaml

from bots.models import ConversationState, ThreadKey
from bots.store.sqlite import SQLiteStore
from tests.fakes.fake_slack import TEAM_ID, FakeSlack
from tests.unit.adapters.slack.test_adapter import (
    CLAIM_ACTION,
    STAFF,
    USER,
    Rig,
    click,
    copy_slack_persona,
    event_body,
    make_rig,
    mention,
    text_of,
)

PANE = "D0PANE"


def started(thread_ts: str, *, kind: str = "assistant_thread_started") -> dict[str, Any]:
    thread = {
        "user_id": USER,
        "context": {"channel_id": "C0GENERAL", "team_id": TEAM_ID, "enterprise_id": None},
        "channel_id": PANE,
        "thread_ts": thread_ts,
    }
    return event_body({"type": kind, "assistant_thread": thread, "event_ts": thread_ts})


def pane_message(ts: str, text: str, thread_ts: str, user: str = USER) -> dict[str, Any]:
    event = {"type": "message", "user": user, "text": text, "ts": ts, "channel": PANE}
    event |= {"channel_type": "im", "team": TEAM_ID, "thread_ts": thread_ts}
    return event_body(event)


def with_assistant(tmp_path: Path, **settings: Any) -> Path:
    root = copy_slack_persona(tmp_path)
    path = root / "personas" / "cafe.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["assistant"] = settings
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return root


@pytest.fixture
async def pane(tmp_path: Path, store: SQLiteStore) -> AsyncIterator[Rig]:
    root = with_assistant(tmp_path, loading_messages=["Checking the menu…", "Asking the kitchen…"])
    async for made in make_rig(root, store, None):
        yield made


async def deliver(rig: Rig, body: dict[str, Any]) -> None:
    assert await rig.deliver(body) == 200
    await rig.settle()


async def test_a_new_chat_offers_the_faq_questions(pane: Rig) -> None:
    await deliver(pane, started("500.1"))
    (call,) = pane.slack.made("assistant.threads.setSuggestedPrompts")
    assert (call["channel_id"], call["thread_ts"], call["title"]) == (PANE, "500.1", "Try asking")
    assert [p["message"] for p in call["prompts"]] == [
        "When are you open?",
        "Is there parking?",
        "Do you have wifi?",
        "Do you have vegan food?",
    ]
    assert pane.slack.failed("assistant.threads.setSuggestedPrompts") == []


async def test_the_most_asked_questions_come_first(pane: Rig) -> None:
    for n in range(2):
        await deliver(pane, pane_message(f"60{n}.2", "are dogs allowed?", f"60{n}.1"))
    await deliver(pane, pane_message("610.2", "is there wifi?", "610.1"))
    await deliver(pane, started("620.1"))
    (call,) = pane.slack.made("assistant.threads.setSuggestedPrompts")
    assert [p["message"] for p in call["prompts"]][:2] == ["Are dogs allowed?", "Do you have wifi?"]


async def test_the_personas_own_prompts_win(tmp_path: Path, store: SQLiteStore) -> None:
    root = with_assistant(tmp_path, suggested_prompts=["Can I book a table?"], prompts_title="Hi!")
    async for rig in make_rig(root, store, None):
        await deliver(rig, started("500.1"))
        (call,) = rig.slack.made("assistant.threads.setSuggestedPrompts")
        assert call["prompts"] == [
            {"title": "Can I book a table?", "message": "Can I book a table?"}
        ]
        assert call["title"] == "Hi!"


async def test_a_question_is_answered_in_the_pane_with_status_and_title(pane: Rig) -> None:
    await deliver(pane, started("500.1"))
    await deliver(pane, pane_message("500.2", "is there wifi?", "500.1"))
    (reply,) = [p for p in pane.slack.posts(PANE) if p.get("thread_ts") == "500.1"]
    assert "free Wi-Fi" in text_of(reply)
    (status,) = pane.slack.made("assistant.threads.setStatus")
    assert status["status"] == "is thinking…"
    assert status["loading_messages"] == ["Checking the menu…", "Asking the kitchen…"]
    (title,) = pane.slack.made("assistant.threads.setTitle")
    assert (title["channel_id"], title["thread_ts"], title["title"]) == (
        PANE,
        "500.1",
        "is there wifi?",
    )
    assert pane.slack.made("reactions.add") == []  # the status stands in for 👀
    # The status went up before the answer: Slack clears it when the reply is posted.
    order = [c.method for c in pane.slack.calls]
    assert order.index("assistant.threads.setStatus") < order.index("chat.postMessage")

    await deliver(pane, pane_message("500.3", "and is there parking?", "500.1"))
    assert len(pane.slack.made("assistant.threads.setTitle")) == 1  # the first question only
    assert len(pane.slack.made("assistant.threads.setStatus")) == 2


async def test_a_first_message_without_thread_started_is_answered(pane: Rig) -> None:
    # Slack sometimes never sends assistant_thread_started: the message comes alone.
    await deliver(pane, pane_message("700.2", "when are you open?", "700.1"))
    posts = [p for p in pane.slack.posts(PANE) if p.get("thread_ts") == "700.1"]
    assert len(posts) == 1
    assert pane.slack.made("assistant.threads.setTitle")[0]["title"] == "when are you open?"
    assert pane.slack.made("assistant.threads.setSuggestedPrompts") == []


async def test_a_redelivered_pane_message_is_answered_once(pane: Rig) -> None:
    body = pane_message("710.2", "is there wifi?", "710.1")
    assert await pane.deliver(body) == 200
    assert await pane.deliver(body, retry=1) == 200
    await pane.settle()
    assert len([p for p in pane.slack.posts(PANE) if p.get("thread_ts") == "710.1"]) == 1


async def test_a_context_change_writes_nothing(pane: Rig) -> None:
    await deliver(pane, started("800.1", kind="assistant_thread_context_changed"))
    assert [c.method for c in pane.slack.calls if c.method != "auth.test"] == []


async def test_no_status_while_a_person_has_the_pane_thread(pane: Rig) -> None:
    await deliver(pane, pane_message("900.2", "I want a human", "900.1"))
    support = pane.slack.posts("C0SUPPORT")[0]
    await deliver(pane, click(CLAIM_ACTION, support, staff=STAFF))
    statuses = len(pane.slack.made("assistant.threads.setStatus"))
    await deliver(pane, pane_message("900.3", "hello?", "900.1"))
    assert len(pane.slack.made("assistant.threads.setStatus")) == statuses


def native_click(answer: dict[str, Any], which: str, user: str = USER) -> str:
    block = next(b for b in answer["blocks"] if b["type"] == "context_actions")
    (buttons,) = block["elements"]
    chosen = buttons[f"{which}_button"]
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "fake"},
        "user": {"id": user, "username": "someone", "team_id": TEAM_ID},
        "api_app_id": "A0APP",
        "token": "legacy",
        "trigger_id": "1.2.5",
        "channel": {"id": PANE, "name": "directmessage"},
        "container": {"type": "message", "message_ts": answer["posted_ts"], "channel_id": PANE},
        "message": {
            "type": "message",
            "ts": answer["posted_ts"],
            "thread_ts": answer["thread_ts"],
            "text": answer["text"],
            "blocks": answer["blocks"],
        },
        "actions": [
            {
                "type": "feedback_buttons",
                "action_id": buttons["action_id"],
                "block_id": block["block_id"],
                "value": chosen["value"],
                "text": chosen["text"],
                "action_ts": "3.0",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


async def test_pane_answers_carry_slacks_native_feedback_buttons(
    pane: Rig, store: SQLiteStore
) -> None:
    await deliver(pane, pane_message("950.2", "is there wifi?", "950.1"))
    (answer,) = [p for p in pane.slack.posts(PANE) if p.get("thread_ts") == "950.1"]
    kinds = [b["type"] for b in answer["blocks"]]
    assert kinds[-1] == "context_actions"
    assert "actions" not in kinds  # not the classic buttons
    (buttons,) = answer["blocks"][-1]["elements"]
    assert buttons["type"] == "feedback_buttons"
    assert buttons["positive_button"]["text"] == {"type": "plain_text", "text": "👍"}

    assert await pane.deliver(native_click(answer, "negative")) == 200
    await pane.settle()
    key = ThreadKey("slack", TEAM_ID, PANE, "950.1")
    conversation = await store.get_conversation(key)
    assert conversation is not None
    assert await store.feedback_of(conversation.id) == {"950.2": False}
    (update,) = pane.slack.made("chat.update")
    assert not [b for b in update["blocks"] if b["type"] == "context_actions"]
    assert "person" in pane.slack.posts(PANE)[-1]["text"]  # the offer after a 👎


async def test_channel_answers_keep_the_classic_buttons(pane: Rig) -> None:
    await deliver(pane, mention("960.1", "is there wifi?"))
    (answer,) = pane.thread_posts("960.1")
    assert [b["type"] for b in answer["blocks"]][-1] == "actions"


async def test_a_refused_status_falls_back_to_the_reaction(pane: Rig) -> None:
    # A threaded DM outside the pane, or an app without the pane's scope.
    pane.slack.fail("assistant.threads.setStatus", "missing_scope")
    await deliver(pane, pane_message("970.2", "is there wifi?", "970.1"))
    assert [a["timestamp"] for a in pane.slack.made("reactions.add")] == ["970.2"]
    assert [r["timestamp"] for r in pane.slack.made("reactions.remove")] == ["970.2"]
    assert len([p for p in pane.slack.posts(PANE) if p.get("thread_ts") == "970.1"]) == 1


def support_reply(ts: str, text: str, notice_ts: str, user: str = STAFF) -> dict[str, Any]:
    event = {"type": "message", "user": user, "text": text, "ts": ts, "channel": "C0SUPPORT"}
    event |= {"channel_type": "channel", "team": TEAM_ID, "thread_ts": notice_ts}
    return event_body(event)


async def test_staff_and_the_person_talk_through_the_bot_after_a_pane_hand_off(
    pane: Rig, store: SQLiteStore
) -> None:
    await deliver(pane, pane_message("980.2", "I want a human", "980.1"))
    (notice,) = pane.slack.posts("C0SUPPORT")
    # Staff cannot write in the person's pane chat: they reply under the notice.
    body = support_reply("990.1", "Hi, Sam here. <!channel> Which table?", notice["posted_ts"])
    await deliver(pane, body)
    await deliver(pane, body)  # a redelivery is passed on once
    relayed = [p for p in pane.slack.posts(PANE) if p.get("thread_ts") == "980.1"][1:]
    assert len(relayed) == 1
    assert relayed[0]["text"].startswith(f"*<@{STAFF}> from the team:* Hi, Sam here.")
    assert "<!channel>" not in relayed[0]["text"]
    key = ThreadKey("slack", TEAM_ID, PANE, "980.1")
    conversation = await store.get_conversation(key)
    assert conversation is not None
    assert conversation.state is ConversationState.HUMAN  # the reply claimed it
    assert "Claimed by" in text_of(pane.slack.made("chat.update")[-1])

    # The person's answer goes back under the notice, and the bot stays quiet in the chat.
    await deliver(pane, pane_message("980.3", "The one by the window", "980.1"))
    back = pane.slack.posts("C0SUPPORT")[-1]
    assert back["thread_ts"] == notice["posted_ts"]
    assert back["text"] == f"<@{USER}>: The one by the window"
    assert len([p for p in pane.slack.posts(PANE) if p.get("thread_ts") == "980.1"]) == 2


async def test_a_support_thread_reply_after_a_restart_finds_its_chat_by_metadata(
    tmp_path: Path, store: SQLiteStore
) -> None:
    root = with_assistant(tmp_path)
    slack = FakeSlack()
    await slack.start()
    try:
        async for rig in make_rig(root, store, None, slack=slack):
            await deliver(rig, pane_message("981.2", "I want a human", "981.1"))
            # A later hand-off: the newest message in the support channel is not the one.
            await deliver(rig, pane_message("982.2", "I want a human", "982.1"))
        notice = slack.posts("C0SUPPORT")[0]
        async for rig in make_rig(root, store, None, slack=slack):  # a new process
            await deliver(rig, support_reply("991.1", "On it", notice["posted_ts"]))
            relayed = [p for p in slack.posts(PANE) if p.get("thread_ts") == "981.1"]
            assert relayed[-1]["text"].endswith("On it")
    finally:
        await slack.close()


async def test_replies_under_channel_notices_are_not_relayed(pane: Rig) -> None:
    await deliver(pane, mention("985.1", "I want a human"))
    (notice,) = pane.slack.posts("C0SUPPORT")
    await deliver(pane, support_reply("995.1", "looking", notice["posted_ts"]))
    assert len(pane.thread_posts("985.1")) == 1  # staff reply in the channel thread itself
