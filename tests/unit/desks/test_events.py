"""The signed webhook's later events: handoff.claimed, handoff.message, handoff.resolved."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from bots.handoff.webhook import HandoffWebhook, verify_signature
from bots.models import IncomingMessage
from bots.secret import Secret
from bots.store.sqlite import SQLiteStore
from bots.turn.engine import Engine
from bots.turn.runtime import PersonaRuntime
from tests.fakes.fake_webhook import FakeWebhookServer
from tests.support.desk_rig import KEY, Clock

SECRET = "hook-secret"


@pytest.fixture
def hook() -> Iterator[FakeWebhookServer]:
    with FakeWebhookServer() as server:
        yield server


async def test_every_step_after_the_hand_off_is_sent_signed(
    store: SQLiteStore, cafe_runtime: PersonaRuntime, hook: FakeWebhookServer
) -> None:
    webhook = HandoffWebhook(hook.url, Secret(SECRET))
    engine = Engine(
        store=store,
        personas={"cafe": cafe_runtime},
        default_persona="cafe",
        llm=None,
        clock=Clock(),
        handoff_sinks=[webhook],
    )
    try:

        async def say(text: str, author: str = "U1", staff: bool = False) -> None:
            message = IncomingMessage(KEY, author, text, f"m-{text}", is_staff=staff)
            async for _ in engine.handle(message):
                pass

        await say("I want to talk to a human")
        await engine.claim(KEY, "U0STAFF")
        await say("my order number is 42")
        await say("Looking into it", author="U0STAFF", staff=True)
        await engine.resolve(KEY, "U0STAFF")
        await engine.aclose()
    finally:
        await webhook.aclose()
    bodies = [json.loads(r.body) for r in hook.requests]
    for request in hook.requests:
        assert verify_signature(
            SECRET,
            request.headers["x-bots-timestamp"],
            request.body,
            request.headers["x-bots-signature"],
            now=time.time(),
        )
    types = sorted(b["type"] for b in bodies)
    assert types == sorted(
        [
            "handoff.requested",
            "handoff.claimed",
            "handoff.message",
            "handoff.message",
            "handoff.resolved",
        ]
    )
    assert all(b["version"] == 1 and b["conversation_id"] == KEY.as_id() for b in bodies)
    messages = {b["from"]: b["text"] for b in bodies if b["type"] == "handoff.message"}
    assert messages == {"user": "my order number is 42", "staff": "Looking into it"}
    claimed = next(b for b in bodies if b["type"] == "handoff.claimed")
    assert claimed["by"] == "U0STAFF"
    assert claimed["origin"] == "chat"
    assert len({b["id"] for b in bodies}) == len(bodies)
