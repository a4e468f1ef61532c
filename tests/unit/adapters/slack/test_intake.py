"""The intake form on Slack through bolt's real action and view_submission handling.

Payload shapes follow docs.slack.dev: block_actions with a `trigger_id`, `views.open`
with a modal view, `view_submission` with `view.state.values[block_id][action_id]`, and
the `response_action: errors` answer that shows a message under a field.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import yaml
from slack_bolt.request.async_request import AsyncBoltRequest

from bots.adapters.slack.intake import CALLBACK_ID, OPEN_ACTION
from bots.models import IntakeAnswer, ThreadKey
from bots.store.sqlite import SQLiteStore
from tests.fakes.fake_slack import TEAM_ID
from tests.unit.adapters.slack.test_adapter import (
    CHANNEL,
    SUPPORT,
    USER,
    Rig,
    copy_slack_persona,
    make_rig,
    mention,
    signed_headers,
    text_of,
)

FIELDS = [
    {"id": "email", "label": "Your e-mail", "kind": "email", "required": True},
    {"id": "order", "label": "Order number", "placeholder": "e.g. A-1234"},
    {"id": "topic", "label": "Topic", "kind": "choice", "options": ["Booking", "Other"]},
]
KEY = ThreadKey("slack", TEAM_ID, CHANNEL, "100.1")


@pytest.fixture
async def rig(tmp_path: Path, store: SQLiteStore) -> AsyncIterator[Rig]:
    root = copy_slack_persona(tmp_path)
    path = root / "personas" / "cafe.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["intake"] = {"fields": FIELDS, "title": "Details for us"}
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    async for made in make_rig(root, store, None):
        yield made


async def dispatch(rig: Rig, payload: dict[str, Any]) -> tuple[int, str]:
    raw = urlencode({"payload": json.dumps(payload)})
    response = await rig.bot.app.async_dispatch(
        AsyncBoltRequest(body=raw, headers=dict(signed_headers(raw, "test-signing-secret")))
    )
    await rig.settle()
    return response.status, response.body


async def handed_off(rig: Rig) -> dict[str, Any]:
    await rig.deliver(mention("100.1", "I want a human"))
    await rig.settle()
    (told,) = rig.thread_posts("100.1")
    return told


def click_add_details(told: dict[str, Any], user: str = USER) -> dict[str, Any]:
    block = next(b for b in told["blocks"] if b["type"] == "actions")
    button = block["elements"][0]
    return {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "fake"},
        "user": {"id": user, "username": "someone", "team_id": TEAM_ID},
        "api_app_id": "A0APP",
        "token": "legacy",
        "trigger_id": "12345.98765.abcd2358fdea",
        "channel": {"id": CHANNEL, "name": "general"},
        "container": {"type": "message", "message_ts": told["posted_ts"], "channel_id": CHANNEL},
        "message": {"type": "message", "ts": told["posted_ts"], "blocks": told["blocks"]},
        "actions": [
            {
                "type": "button",
                "action_id": button["action_id"],
                "block_id": block["block_id"],
                "value": button["value"],
                "action_ts": "1.0",
            }
        ],
    }


def submission(view: dict[str, Any], answers: dict[str, str], user: str = USER) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        kind = block["element"]["type"]
        value = answers.get(block["block_id"])
        if kind == "static_select":
            chosen = {"text": {"type": "plain_text", "text": value}, "value": value}
            values[block["block_id"]] = {
                "value": {"type": kind, "selected_option": chosen if value else None}
            }
        else:
            values[block["block_id"]] = {"value": {"type": kind, "value": value}}
    return {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": "fake"},
        "user": {"id": user, "username": "someone", "team_id": TEAM_ID},
        "api_app_id": "A0APP",
        "token": "legacy",
        "trigger_id": "12345.98765.efgh",
        "view": {
            "id": "V0VIEW1",
            "type": "modal",
            "callback_id": view["callback_id"],
            "private_metadata": view["private_metadata"],
            "blocks": view["blocks"],
            "state": {"values": values},
            "hash": "156772938.1827394",
        },
    }


async def opened_view(rig: Rig) -> dict[str, Any]:
    told = await handed_off(rig)
    status, _ = await dispatch(rig, click_add_details(told))
    assert status == 200
    (opened,) = rig.slack.made("views.open")
    assert rig.slack.failed("views.open") == []
    return dict(opened["view"])


async def test_the_hand_off_message_offers_the_form(rig: Rig) -> None:
    told = await handed_off(rig)
    assert "A person from our team will take it from here." in text_of(told)
    (actions,) = [b for b in told["blocks"] if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == [OPEN_ACTION]
    assert actions["elements"][0]["text"]["text"] == "Add details"


async def test_the_asker_gets_the_modal_with_the_personas_fields(rig: Rig) -> None:
    view = await opened_view(rig)
    assert view["type"] == "modal"
    assert view["callback_id"] == CALLBACK_ID
    assert view["title"] == {"type": "plain_text", "text": "Details for us"}
    assert [b["block_id"] for b in view["blocks"]] == ["email", "order", "topic"]
    kinds = [b["element"]["type"] for b in view["blocks"]]
    assert kinds == ["email_text_input", "plain_text_input", "static_select"]
    assert [b["optional"] for b in view["blocks"]] == [False, True, True]
    assert view["blocks"][1]["element"]["placeholder"]["text"] == "e.g. A-1234"


async def test_someone_else_cannot_open_the_form(rig: Rig) -> None:
    told = await handed_off(rig)
    await dispatch(rig, click_add_details(told, user="U0MALLORY"))
    assert rig.slack.made("views.open") == []
    (refusal,) = rig.slack.made("chat.postEphemeral")
    assert refusal["user"] == "U0MALLORY"


async def test_a_wrong_answer_is_shown_under_its_field_and_nothing_kept(
    rig: Rig, store: SQLiteStore
) -> None:
    view = await opened_view(rig)
    status, body = await dispatch(rig, submission(view, {"email": "nope", "order": "A-1"}))
    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"email"}
    conversation = await store.get_conversation(KEY)
    assert conversation is not None
    assert await store.intake_of(conversation.id) == ()


async def test_good_answers_reach_the_team_the_store_and_the_asker(
    rig: Rig, store: SQLiteStore
) -> None:
    view = await opened_view(rig)
    answers = {"email": "ann@example.com", "order": "A-1 <!channel>", "topic": "Booking"}
    status, body = await dispatch(rig, submission(view, answers))
    assert (status, body) == (200, "")  # the modal closes
    conversation = await store.get_conversation(KEY)
    assert conversation is not None
    assert await store.intake_of(conversation.id) == (
        IntakeAnswer("email", "Your e-mail", "ann@example.com"),
        IntakeAnswer("order", "Order number", "A-1 <!channel>"),
        IntakeAnswer("topic", "Topic", "Booking"),
    )
    support = rig.slack.posts(SUPPORT)
    notice, details = support[0], support[-1]
    assert details["thread_ts"] == notice["posted_ts"]  # under the team's notice
    assert "Your e-mail: ann@example.com" in details["text"]
    assert "<!channel>" not in details["text"]  # the asker's words never ping
    assert "Thanks, the team has your details." in rig.thread_posts("100.1")[-1]["text"]
