"""The Slack adapter through slack-bolt's real request handling, against a fake Slack Web API.

Events and button clicks are signed with the signing secret and dispatched by the bolt app
(over real HTTP in one test); assertions are on what the fake Slack receives.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
import yaml
from slack_bolt.request.async_request import AsyncBoltRequest

from bots.adapters.slack.adapter import SlackBot
from bots.adapters.slack.formatting import (
    CLAIM_ACTION,
    FEEDBACK_DOWN_ACTION,
    FEEDBACK_UP_ACTION,
    RESOLVE_ACTION,
)
from bots.adapters.slack.stream import StreamTiming
from bots.knowledge.files import load_knowledge
from bots.knowledge.persona import load_persona
from bots.llm.client import ChatModel, ChatRequest, Completed, ContentDelta, LLMEvent
from bots.models import ConversationState, Role, ThreadKey, Turn, Usage
from bots.store.sqlite import SQLiteStore
from bots.turn.engine import Engine, utc_now
from bots.turn.runtime import PersonaRuntime
from tests.conftest import DATA, RecordingSleep
from tests.fakes.fake_slack import BOT_ID, BOT_USER_ID, TEAM_ID, FakeSlack

SECRET = "test-signing-secret"
CHANNEL = "C0GENERAL"
SUPPORT = "C0SUPPORT"
GROUP = "S0SUPPORT"
USER = "U0ALICE"
STAFF = "U0STAFF"


class ScriptedModel(ChatModel):
    """Answers every request with the same text, streamed in two pieces."""

    def __init__(self, text: str) -> None:
        self.text = text

    async def stream(self, request: ChatRequest) -> AsyncIterator[LLMEvent]:
        half = len(self.text) // 2
        yield ContentDelta(self.text[:half])
        yield ContentDelta(self.text[half:])
        yield Completed(self.text, (), Usage(10, 5), "stop")


class FakeClock:
    """A monotonic clock that moves only when told to (`advance`), or by `step` per reading."""

    def __init__(self, step: float = 0.0) -> None:
        self.now = 1000.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Rig:
    slack: FakeSlack
    bot: SlackBot
    store: SQLiteStore

    async def deliver(
        self, body: dict[str, Any] | str, *, retry: int | None = None, secret: str = SECRET
    ) -> int:
        raw = body if isinstance(body, str) else json.dumps(body)
        headers: dict[str, str | Sequence[str]] = dict(signed_headers(raw, secret))
        if retry is not None:
            headers["x-slack-retry-num"] = str(retry)
            headers["x-slack-retry-reason"] = "http_timeout"
        response = await self.bot.app.async_dispatch(AsyncBoltRequest(body=raw, headers=headers))
        return response.status

    async def settle(self) -> None:
        await self.bot.wait_idle()

    def thread_posts(self, thread: str) -> list[dict[str, Any]]:
        return [p for p in self.slack.posts(CHANNEL) if p.get("thread_ts") == thread]

    def shown(self, thread: str) -> list[dict[str, Any]]:
        """The messages the thread shows now, however they got there (posted, streamed)."""
        return self.slack.shown(CHANNEL, thread)


def signed_headers(raw: str, secret: str) -> dict[str, str]:
    stamp = str(int(time.time()))
    base = f"v0:{stamp}:{raw}".encode()
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "content-type": "application/json"
        if raw.startswith("{")
        else "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": stamp,
        "x-slack-signature": f"v0={digest}",
    }


_event_ids = iter(range(1, 1_000_000))


def event_body(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "token": "legacy",
        "team_id": TEAM_ID,
        "api_app_id": "A0APP",
        "event": {"event_ts": event.get("ts", "1.0"), **event},
        "type": "event_callback",
        "event_id": f"Ev{next(_event_ids):06d}",
        "event_time": int(time.time()),
        "authorizations": [
            {"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True, "enterprise_id": None}
        ],
    }


def mention(ts: str, text: str, thread_ts: str | None = None, user: str = USER) -> dict[str, Any]:
    event = {"type": "app_mention", "user": user, "text": f"<@{BOT_USER_ID}> {text}"}
    event |= {"ts": ts, "channel": CHANNEL, "team": TEAM_ID}
    return event_body(event | ({"thread_ts": thread_ts} if thread_ts else {}))


def message(
    ts: str, text: str, thread_ts: str | None = None, user: str = USER, **extra: Any
) -> dict[str, Any]:
    event = {"type": "message", "user": user, "text": text, "ts": ts, "channel": CHANNEL}
    event |= {"channel_type": "channel", "team": TEAM_ID, **extra}
    return event_body(event | ({"thread_ts": thread_ts} if thread_ts else {}))


def click(action_id: str, support_post: dict[str, Any], staff: str = STAFF) -> str:
    button = next(
        e
        for b in support_post["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == action_id
    )
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "fake"},
        "user": {"id": staff, "username": "staff", "team_id": TEAM_ID},
        "api_app_id": "A0APP",
        "token": "legacy",
        "trigger_id": "1.2.3",
        "channel": {"id": SUPPORT, "name": "support"},
        "container": {
            "type": "message",
            "message_ts": support_post["posted_ts"],
            "channel_id": SUPPORT,
        },
        "message": {
            "type": "message",
            "ts": support_post["posted_ts"],
            "blocks": support_post["blocks"],
        },
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "handoff_actions",
                "value": button["value"],
                "action_ts": "1.0",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def feedback_click(action_id: str, answer: dict[str, Any], user: str = USER) -> str:
    """A signed-ready block_actions body: `user` clicks a feedback button under `answer`."""
    block = next(b for b in answer["blocks"] if b.get("block_id") == "feedback_actions")
    button = next(e for e in block["elements"] if e["action_id"] == action_id)
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "fake"},
        "user": {"id": user, "username": "someone", "team_id": TEAM_ID},
        "api_app_id": "A0APP",
        "token": "legacy",
        "trigger_id": "1.2.4",
        "channel": {"id": answer["channel"], "name": "general"},
        "container": {
            "type": "message",
            "message_ts": answer["posted_ts"],
            "channel_id": answer["channel"],
            "is_ephemeral": False,
            "thread_ts": answer["thread_ts"],
        },
        "message": {
            "type": "message",
            "ts": answer["posted_ts"],
            "thread_ts": answer["thread_ts"],
            "text": answer["text"],
            "blocks": answer["blocks"],
        },
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "feedback_actions",
                "value": button["value"],
                "action_ts": "2.0",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def feedback_actions(post: dict[str, Any]) -> list[str]:
    return [
        e["action_id"]
        for b in post.get("blocks") or []
        if b["type"] == "actions"
        for e in b["elements"]
    ]


def text_of(post: dict[str, Any]) -> str:
    """Everything a post shows: its text and every text in its blocks."""
    parts = [str(post.get("text", ""))]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                parts.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(post.get("blocks") or [])
    return "\n".join(parts)


def live_mentions(text: str) -> list[str]:
    import re

    return re.findall(r"<[!@][^>]*>", text)


@pytest.fixture
def slack_persona_dir(tmp_path: Path) -> Path:
    return copy_slack_persona(tmp_path)


def copy_slack_persona(tmp_path: Path) -> Path:
    """A copy of the test persona with the Slack hand-off destination filled in."""
    target = tmp_path / "personas"
    target.mkdir()
    document = yaml.safe_load((DATA / "personas" / "cafe.yaml").read_text(encoding="utf-8"))
    document["handoff"]["slack"] = {"channel": SUPPORT, "mention_group": GROUP}
    # Room for the long answers that test Slack's size limits: the bot stops a reply at the
    # persona's max_tokens (200 in the original), whatever the model sends.
    document["model"] |= {"max_tokens": 4000, "context_window": 16000}
    (target / "cafe.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    shutil.copytree(DATA / "knowledge", tmp_path / "knowledge")
    return tmp_path


async def make_rig(
    tmp_path: Path,
    store: SQLiteStore,
    llm: ChatModel | None,
    *,
    streaming: bool = True,
    sleep: RecordingSleep | None = None,
    clock: FakeClock | None = None,
    slack: FakeSlack | None = None,
    now: Callable[[], datetime] | None = None,
    is_staff: Callable[[str], Awaitable[bool]] | None = None,
    engine_sleep: Callable[[float], Awaitable[None]] | None = None,
    timing: StreamTiming | None = None,
) -> AsyncIterator[Rig]:
    """A bot over `store` and a fake Slack (`streaming`: whether it has chat.*Stream).

    `timing` defaults to no hold and the 👀 at once, so the streaming path and the reaction
    are exercised on every answer however fast the fake model is; the production timing
    (a short answer posted whole, the reaction only when slow) has its own tests.

    A given `slack` is reused and left running (a restart keeps talking to the same Slack);
    `now` is the engine's clock (reminders, the turn's deadline), `engine_sleep` its wait."""
    persona = load_persona(tmp_path / "personas" / "cafe.yaml")
    entries = load_knowledge(tmp_path / "knowledge", persona.knowledge.sets)
    personas = {"cafe": PersonaRuntime.build(persona, entries, None)}
    engine = Engine(
        store=store,
        personas=personas,
        default_persona="cafe",
        llm=llm,
        clock=now or utc_now,
        sleep=engine_sleep or asyncio.sleep,
        turn_timeout=120,
    )
    own_slack = slack is None
    if slack is None:
        slack = FakeSlack()
        await slack.start()
    if not streaming:
        slack.streaming_error = "unknown_method"

    async def staff_only(user: str) -> bool:
        return user == STAFF

    bot = SlackBot(
        engine,
        personas,
        bot_token="xoxb-test",
        signing_secret=SECRET,
        default_persona="cafe",
        api_url=slack.base_url,
        is_staff=is_staff or staff_only,
        sleep=sleep or RecordingSleep(),
        stream_timing=timing
        or StreamTiming(
            interval=1.0, clock=clock or FakeClock(), first_hold=0.0, working_after=0.0
        ),
    )
    try:
        yield Rig(slack, bot, store)
    finally:
        await bot.wait_idle()
        await bot.aclose()
        if own_slack:
            await slack.close()


@pytest.fixture
async def rig(slack_persona_dir: Path, store: SQLiteStore) -> AsyncIterator[Rig]:
    async for made in make_rig(slack_persona_dir, store, None):
        yield made


async def ask(rig: Rig, body: dict[str, Any], *, expect: int = 1, thread: str) -> list[Any]:
    assert await rig.deliver(body) == 200
    await rig.settle()
    return rig.thread_posts(thread)[:expect]


# -- answering --------------------------------------------------------------------------


async def test_a_mention_is_answered_in_its_thread(rig: Rig) -> None:
    assert await rig.deliver(mention("100.1", "is there wifi?")) == 200
    (reply,) = await rig.slack.wait_for("chat.postMessage", count=1)
    await rig.settle()
    assert reply["channel"] == CHANNEL
    assert reply["thread_ts"] == "100.1"
    assert "free Wi-Fi; the password is on your receipt." in text_of(reply)
    assert "Sources: Do you have wifi?" in text_of(reply)
    assert rig.slack.made("auth.test")  # bolt authorised with the fake


async def test_sources_are_links_under_the_answer(rig: Rig) -> None:
    await rig.deliver(mention("100.1", "when are you open?"))
    await rig.settle()
    (reply,) = rig.thread_posts("100.1")
    assert [b["type"] for b in reply["blocks"]][-2:] == ["context", "actions"]
    assert "<https://cafe.example/hours|When are you open?>" in text_of(reply)


async def test_a_follow_up_in_the_thread_needs_no_mention(rig: Rig) -> None:
    await rig.deliver(mention("100.1", "is there wifi?"))
    await rig.settle()
    await rig.deliver(message("100.2", "and is there parking?", thread_ts="100.1"))
    await rig.settle()
    posts = rig.thread_posts("100.1")
    assert len(posts) == 2
    assert "free car park" in text_of(posts[1])


async def test_messages_outside_the_bots_threads_are_left_alone(rig: Rig) -> None:
    await rig.deliver(message("200.1", "is there wifi?"))  # top level, no mention
    await rig.deliver(message("201.2", "is there wifi?", thread_ts="201.1"))  # someone's thread
    await rig.settle()
    assert rig.slack.posts() == []


async def test_direct_messages_are_answered(rig: Rig) -> None:
    body = message("300.1", "is there wifi?", channel="D0DM", channel_type="im")
    await rig.deliver(body)
    await rig.settle()
    (reply,) = rig.slack.posts("D0DM")
    assert reply["thread_ts"] == "300.1"
    assert "free Wi-Fi" in text_of(reply)


async def test_mention_and_message_copies_get_one_answer(rig: Rig) -> None:
    await rig.deliver(mention("100.1", "is there wifi?"))
    await rig.settle()
    # A mention inside the thread arrives twice: as `message` and as `app_mention`.
    await rig.deliver(message("100.2", f"<@{BOT_USER_ID}> is there parking?", thread_ts="100.1"))
    await rig.deliver(mention("100.2", "is there parking?", thread_ts="100.1"))
    await rig.settle()
    posts = rig.thread_posts("100.1")
    assert len(posts) == 2
    assert "free car park" in text_of(posts[1])


async def test_a_redelivered_event_is_answered_once(rig: Rig) -> None:
    body = mention("100.1", "is there wifi?")
    assert await rig.deliver(body) == 200
    assert await rig.deliver(body, retry=1) == 200
    assert await rig.deliver(body, retry=2) == 200
    await rig.settle()
    assert len(rig.thread_posts("100.1")) == 1


@pytest.mark.security("signatures")
async def test_a_bad_signature_is_rejected_and_nothing_posted(rig: Rig) -> None:
    status = await rig.deliver(mention("100.1", "is there wifi?"), secret="wrong-secret")
    assert status == 401
    await rig.settle()
    assert rig.slack.posts() == []


async def test_own_messages_other_bots_and_edits_are_ignored(rig: Rig) -> None:
    await rig.deliver(mention("100.1", "is there wifi?"))
    await rig.settle()
    thread = "100.1"
    await rig.deliver(
        message("100.2", "is there parking?", thread, user=BOT_USER_ID, bot_id=BOT_ID)
    )
    await rig.deliver(message("100.3", "is there parking?", thread, user="U0OTHER", bot_id="B0X"))
    await rig.deliver(message("100.4", "is there parking?", thread, subtype="bot_message"))
    edited = {"text": "is there parking?", "ts": "100.5", "user": USER}
    await rig.deliver(message("100.6", "", thread, subtype="message_changed", message=edited))
    await rig.deliver(message("100.7", "", thread, subtype="message_deleted"))
    await rig.settle()
    assert len(rig.thread_posts(thread)) == 1


@pytest.mark.parametrize("streaming", [True, False], ids=["stream-api", "post-and-update"])
async def test_model_output_never_pings(
    slack_persona_dir: Path, store: SQLiteStore, streaming: bool
) -> None:
    loud = (
        "Hey <!channel> and <!here|here> and <!everyone>, ask <!subteam^S0OTHER> or "
        "<@U0BOSS>! @everyone @here. **Bold** and [menu](https://cafe.example/menu) & more."
    )
    async for rig in make_rig(slack_persona_dir, store, ScriptedModel(loud), streaming=streaming):
        await rig.deliver(mention("100.1", "tell me something"))
        await rig.settle()
        (reply,) = rig.shown("100.1")
        every_call = json.dumps([c.params for c in rig.slack.calls], ensure_ascii=False)
        for shown in (text_of(reply), every_call):
            assert live_mentions(shown) == []
            assert "@everyone" not in shown
            assert "@here" not in shown
        if streaming:  # chat.*Stream take standard Markdown
            assert "**Bold** and [menu](https://cafe.example/menu) & more." in text_of(reply)
        else:
            shown = text_of(reply)
            assert "*Bold*" in shown
            assert "<https://cafe.example/menu|menu>" in shown
            assert "&amp; more" in shown


PHISHY = (
    "Log in [here](https://evil.example/login) or <https://evil.example/pay|click here>, "
    "see <https://evil.example/y> and https://cafe.example@evil.example/z. "
    "Our [menu](https://cafe.example/menu)."
)


@pytest.mark.security("injection")
@pytest.mark.parametrize("streaming", [True, False], ids=["stream-api", "post-and-update"])
async def test_links_to_hosts_the_knowledge_does_not_name_show_as_plain_text(
    slack_persona_dir: Path, store: SQLiteStore, streaming: bool
) -> None:
    """A masked link in model output (Markdown or Slack's own `<url|text>`) to a host no
    knowledge entry names is shown with its address, in every call that reaches Slack;
    the knowledge's own host (cafe.example) stays a link."""
    model = ScriptedModel(PHISHY)
    async for rig in make_rig(slack_persona_dir, store, model, streaming=streaming):
        await rig.deliver(mention("100.1", "where do I pay?"))
        await rig.settle()
        (reply,) = rig.shown("100.1")
        every_call = json.dumps([c.params for c in rig.slack.calls], ensure_ascii=False)
        for shown in (text_of(reply), every_call):
            assert "](https://evil" not in shown
            assert "<https://evil" not in shown
            assert "|click here" not in shown
            assert "cafe.example@" not in shown
        shown = text_of(reply)
        assert "`https://evil.example/login`" in shown
        assert "click here (`https://evil.example/pay`)" in shown
        if streaming:
            assert "[menu](https://cafe.example/menu)" in shown
        else:
            assert "<https://cafe.example/menu|menu>" in shown


@pytest.mark.parametrize("streaming", [True, False], ids=["stream-api", "post-and-update"])
async def test_a_long_answer_is_split_within_slack_limits(
    slack_persona_dir: Path, store: SQLiteStore, streaming: bool
) -> None:
    paragraph = "The cafe has a long and winding story to tell. " * 40
    long_text = "\n\n".join([paragraph] * 6)  # ~11,000 chars
    model = ScriptedModel(long_text)
    async for rig in make_rig(slack_persona_dir, store, model, streaming=streaming):
        await rig.deliver(mention("100.1", "tell me the story"))
        await rig.settle()
        posts = rig.shown("100.1")
        assert len(posts) >= 4
        for post in posts:
            assert len(post["text"]) <= 3000
            assert all(len(b["text"]["text"]) <= 3000 for b in post["blocks"] if "text" in b)
        joined = " ".join(p["text"] for p in posts)
        assert joined.count("winding story") == 240


# -- hand-off ---------------------------------------------------------------------------


async def hand_off(rig: Rig) -> dict[str, Any]:
    await rig.deliver(mention("100.1", "I want a human"))
    await rig.settle()
    (support,) = rig.slack.posts(SUPPORT)
    return support


async def test_asking_for_a_human_notifies_the_support_channel(rig: Rig) -> None:
    support = await hand_off(rig)
    (told,) = rig.thread_posts("100.1")
    assert "A person from our team will take it from here." in told["text"]
    shown = text_of(support)
    # The notification text and the first section: the group, and nobody else.
    assert set(live_mentions(shown)) == {f"<!subteam^{GROUP}>"}
    assert support["text"].startswith(f"<!subteam^{GROUP}>")
    assert "a person was asked for" in shown
    assert f"https://fake.slack.com/archives/{CHANNEL}/p1001" in shown
    permalink = rig.slack.made("chat.getPermalink")[0]
    assert (permalink["channel"], permalink["message_ts"]) == (CHANNEL, "100.1")
    actions = next(b for b in support["blocks"] if b["type"] == "actions")["elements"]
    assert [a["action_id"] for a in actions] == [CLAIM_ACTION, RESOLVE_ACTION]
    assert json.loads(actions[0]["value"]) == ["slack", TEAM_ID, CHANNEL, "100.1"]


async def test_claim_updates_the_support_message_and_silences_the_bot(rig: Rig) -> None:
    support = await hand_off(rig)
    assert await rig.deliver(click(CLAIM_ACTION, support)) == 200
    await rig.settle()
    (update,) = rig.slack.made("chat.update")
    assert (update["channel"], update["ts"]) == (SUPPORT, support["posted_ts"])
    assert f"Claimed by <@{STAFF}>" in text_of(update)
    remaining = [
        e["action_id"] for b in update["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert remaining == [RESOLVE_ACTION]
    conversation = await rig.store.get_conversation(ThreadKey("slack", TEAM_ID, CHANNEL, "100.1"))
    assert conversation is not None
    assert conversation.state is ConversationState.HUMAN

    await rig.deliver(message("100.2", "is there wifi?", thread_ts="100.1"))
    await rig.settle()
    assert len(rig.thread_posts("100.1")) == 1  # only the hand-off notice


async def test_resolve_hands_back_and_tells_the_user(rig: Rig) -> None:
    support = await hand_off(rig)
    await rig.deliver(click(CLAIM_ACTION, support))
    await rig.settle()
    claimed = support | {"blocks": rig.slack.made("chat.update")[-1]["blocks"]}
    await rig.deliver(click(RESOLVE_ACTION, claimed))
    await rig.settle()
    last = rig.slack.made("chat.update")[-1]
    assert f"Resolved by <@{STAFF}>" in text_of(last)
    assert not [b for b in last["blocks"] if b["type"] == "actions"]
    posts = rig.thread_posts("100.1")
    assert "You're back with the assistant" in posts[-1]["text"]

    await rig.deliver(message("100.3", "is there wifi?", thread_ts="100.1"))
    await rig.settle()
    assert "free Wi-Fi" in text_of(rig.thread_posts("100.1")[-1])


async def test_a_staff_reply_in_the_thread_claims_it(rig: Rig) -> None:
    await hand_off(rig)
    await rig.deliver(message("100.2", "Hi, I'm on it", thread_ts="100.1", user=STAFF))
    await rig.settle()
    (update,) = rig.slack.made("chat.update")
    assert f"Claimed by <@{STAFF}>" in text_of(update)
    assert len(rig.thread_posts("100.1")) == 1


async def test_only_staff_can_click(rig: Rig) -> None:
    support = await hand_off(rig)
    await rig.deliver(click(CLAIM_ACTION, support, staff=USER))
    await rig.settle()
    assert rig.slack.made("chat.update") == []
    (ephemeral,) = rig.slack.made("chat.postEphemeral")
    assert ephemeral["user"] == USER


# -- feedback ---------------------------------------------------------------------------


async def answered(rig: Rig) -> dict[str, Any]:
    await rig.deliver(mention("100.1", "is there wifi?"))
    await rig.settle()
    (answer,) = rig.thread_posts("100.1")
    return answer


async def test_answers_carry_feedback_buttons(rig: Rig) -> None:
    answer = await answered(rig)
    assert feedback_actions(answer) == [FEEDBACK_UP_ACTION, FEEDBACK_DOWN_ACTION]
    block = answer["blocks"][-1]
    assert [e["text"]["text"] for e in block["elements"]] == ["👍 Helpful", "👎 Not helpful"]
    value = json.loads(block["elements"][0]["value"])
    assert value == ["slack", TEAM_ID, CHANNEL, "100.1", "100.1", USER]


async def test_hand_off_notices_carry_no_feedback_buttons(rig: Rig) -> None:
    await hand_off(rig)
    (notice,) = rig.thread_posts("100.1")
    assert feedback_actions(notice) == []
    assert not rig.slack.posts(SUPPORT)[0]["blocks"][-1]["block_id"].startswith("feedback")


async def test_only_the_last_piece_of_a_split_answer_has_buttons(
    slack_persona_dir: Path, store: SQLiteStore
) -> None:
    long_text = "\n\n".join(["The cafe has a long story to tell. " * 40] * 6)
    async for rig in make_rig(slack_persona_dir, store, ScriptedModel(long_text)):
        await rig.deliver(mention("100.1", "tell me the story"))
        await rig.settle()
        posts = rig.shown("100.1")
        assert len(posts) >= 2
        assert [bool(feedback_actions(p)) for p in posts] == [False] * (len(posts) - 1) + [True]


async def test_thumbs_up_records_and_replaces_the_buttons(rig: Rig) -> None:
    answer = await answered(rig)
    assert await rig.deliver(feedback_click(FEEDBACK_UP_ACTION, answer)) == 200
    await rig.settle()
    (update,) = rig.slack.made("chat.update")
    assert (update["channel"], update["ts"]) == (CHANNEL, answer["posted_ts"])
    assert feedback_actions(update) == []
    assert "Thanks for the feedback" in text_of(update)
    assert "free Wi-Fi" in text_of(update)  # the answer itself is kept
    assert len(rig.thread_posts("100.1")) == 1  # nothing posted
    assert await feedback_rows(rig) == [("100.1", USER, 1)]


async def test_thumbs_down_offers_a_person_and_yes_hands_off(rig: Rig) -> None:
    answer = await answered(rig)
    assert await rig.deliver(feedback_click(FEEDBACK_DOWN_ACTION, answer)) == 200
    await rig.settle()
    (update,) = rig.slack.made("chat.update")
    assert "Sorry that didn't help" in text_of(update)
    assert feedback_actions(update) == []
    offer = rig.thread_posts("100.1")[-1]
    assert offer["posted_ts"] != answer["posted_ts"]
    assert offer["text"] == "Shall I get a person?"
    assert feedback_actions(offer) == []
    assert await feedback_rows(rig) == [("100.1", USER, 0)]
    assert rig.slack.posts(SUPPORT) == []

    await rig.deliver(message("100.2", "yes please", thread_ts="100.1"))
    await rig.settle()
    (support,) = rig.slack.posts(SUPPORT)
    assert "the answer did not help" in text_of(support)
    notice = rig.thread_posts("100.1")[-1]
    assert "A person from our team will take it from here." in notice["text"]
    assert feedback_actions(notice) == []


async def test_clicking_twice_does_nothing_more(rig: Rig) -> None:
    answer = await answered(rig)
    await rig.deliver(feedback_click(FEEDBACK_DOWN_ACTION, answer))
    await rig.settle()
    posted = len(rig.slack.posts())
    await rig.deliver(feedback_click(FEEDBACK_DOWN_ACTION, answer))
    await rig.deliver(feedback_click(FEEDBACK_UP_ACTION, answer))
    await rig.settle()
    assert len(rig.slack.made("chat.update")) == 1
    assert len(rig.slack.posts()) == posted
    assert await feedback_rows(rig) == [("100.1", USER, 0)]


async def test_only_the_asker_can_give_feedback(rig: Rig) -> None:
    answer = await answered(rig)
    await rig.deliver(feedback_click(FEEDBACK_DOWN_ACTION, answer, user="U0BOB"))
    await rig.settle()
    assert rig.slack.made("chat.update") == []
    (ephemeral,) = rig.slack.made("chat.postEphemeral")
    assert ephemeral["user"] == "U0BOB"
    assert len(rig.thread_posts("100.1")) == 1
    assert await feedback_rows(rig) == []

    await rig.deliver(feedback_click(FEEDBACK_UP_ACTION, answer))  # the asker still can
    await rig.settle()
    assert len(rig.slack.made("chat.update")) == 1


async def feedback_rows(rig: Rig) -> list[tuple[str, str, int]]:
    import aiosqlite

    async with aiosqlite.connect(rig.store.path) as db:
        cursor = await db.execute("SELECT message_id, user_id, positive FROM feedback ORDER BY id")
        return [tuple(row) for row in await cursor.fetchall()]


# -- over real HTTP ---------------------------------------------------------------------


async def test_http_mode_acknowledges_and_answers(rig: Rig) -> None:
    async with rig.bot.serve_http("127.0.0.1", 0) as port, aiohttp.ClientSession() as http:
        raw = json.dumps(mention("100.1", "is there wifi?"))
        url = f"http://127.0.0.1:{port}/slack/events"
        async with http.post(url, data=raw, headers=signed_headers(raw, SECRET)) as response:
            assert response.status == 200
        headers = signed_headers(raw, SECRET) | {"x-slack-retry-num": "1"}
        async with http.post(url, data=raw, headers=headers) as response:
            assert response.status == 200
        bad = signed_headers(raw, "nope")
        async with http.post(url, data=raw, headers=bad) as response:
            assert response.status == 401
        await rig.slack.wait_for("chat.postMessage")
        await rig.settle()
    assert len(rig.thread_posts("100.1")) == 1


async def test_a_reaction_shows_the_bot_is_working(rig: Rig) -> None:
    await rig.deliver(mention("100.7", "is there wifi?"))
    await rig.slack.wait_for("chat.postMessage", count=1)
    await rig.settle()
    adds = rig.slack.made("reactions.add")
    removes = rig.slack.made("reactions.remove")
    assert [(a["name"], a["timestamp"]) for a in adds] == [("eyes", "100.7")]
    assert [(r["name"], r["timestamp"]) for r in removes] == [("eyes", "100.7")]


# -- after a crash ------------------------------------------------------------------------


async def test_a_message_the_last_run_died_in_is_answered_once_at_start(
    slack_persona_dir: Path, store: SQLiteStore
) -> None:
    # What a run killed mid-turn leaves behind: the question recorded, no answer.
    key = ThreadKey("slack", TEAM_ID, CHANNEL, "100.1")
    conversation = await store.ensure_conversation(key, "cafe", utc_now())
    question = Turn(
        role=Role.USER,
        text="is there wifi?",
        author_id=USER,
        message_id="100.1",
        created_at=utc_now(),
        token_count=4,
    )
    assert await store.record_incoming(conversation.id, "Ev100", question)
    async for rig in make_rig(slack_persona_dir, store, None):
        assert await rig.bot.answer_interrupted() == 1
        assert await rig.bot.answer_interrupted() == 0  # answered once, never twice
        (reply,) = rig.shown("100.1")
        assert "Sources: Do you have wifi?" in text_of(reply)
