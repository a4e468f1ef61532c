"""Save as FAQ on Slack, end to end through slack-bolt against the fake Slack Web API:
hand-off, staff answer, resolve, save, pending entry written, checks run, approve, and the
next user's question answered from the new entry. Staff only, and said plainly when not."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from bots.adapters.slack.adapter import SlackBot
from bots.adapters.slack.formatting import (
    APPROVE_FAQ_ACTION,
    CLAIM_ACTION,
    RESOLVE_ACTION,
    SAVE_FAQ_ACTION,
)
from bots.app.suggestion_check import check_suggestion_set
from bots.knowledge.pending import PendingFaq
from bots.store.sqlite import SQLiteStore
from bots.turn.engine import Engine, utc_now
from bots.turn.faq_suggestions import FaqSuggestions
from bots.turn.library import PersonaLibrary
from tests.conftest import RecordingSleep
from tests.fakes.fake_slack import FakeSlack
from tests.unit.adapters.slack.test_adapter import (
    CHANNEL,
    SECRET,
    STAFF,
    SUPPORT,
    USER,
    Rig,
    click,
    copy_slack_persona,
    mention,
    message,
    text_of,
)

ANSWER = "Yes, gift cards from $25 at the counter; they never expire."


@pytest.fixture
async def rig(tmp_path: Path, store: SQLiteStore) -> AsyncIterator[Rig]:
    root = copy_slack_persona(tmp_path)
    (root / "personas" / "cafe.tests.yaml").write_text(
        "tests:\n  - ask: is there wifi?\n    answer_from: wifi\n", encoding="utf-8"
    )
    library = PersonaLibrary(root / "personas", root / "knowledge", required="cafe")
    library.load()
    engine = Engine(store=store, personas=library, default_persona="cafe", llm=None)
    faq = FaqSuggestions(
        store=store,
        personas=library,
        default_persona="cafe",
        pending=PendingFaq(root / "knowledge"),
        clock=utc_now,
        check=partial(check_suggestion_set, root / "personas", root / "knowledge"),
        reload=library.reload,
    )
    slack = FakeSlack()
    await slack.start()

    async def staff_only(user: str) -> bool:
        return user == STAFF

    bot = SlackBot(
        engine,
        library,
        bot_token="xoxb-test",
        signing_secret=SECRET,
        default_persona="cafe",
        api_url=slack.base_url,
        is_staff=staff_only,
        sleep=RecordingSleep(),
        faq=faq,
    )
    try:
        yield Rig(slack, bot, store)
    finally:
        await bot.wait_idle()
        await bot.aclose()
        await slack.close()


async def step(rig: Rig, body: dict[str, Any] | str) -> None:
    assert await rig.deliver(body) == 200
    await rig.settle()


def latest_card(rig: Rig) -> dict[str, Any]:
    (card,) = rig.slack.posts(SUPPORT)[:1]
    updates = [u for u in rig.slack.made("chat.update") if u["ts"] == card["posted_ts"]]
    return card | {"blocks": updates[-1]["blocks"]} if updates else card


def buttons(post: dict[str, Any]) -> list[str]:
    return [e["action_id"] for b in post["blocks"] if b["type"] == "actions" for e in b["elements"]]


async def handed_off_answered_and_resolved(rig: Rig) -> dict[str, Any]:
    await step(rig, mention("100.1", "Do you sell gift cards?"))
    assert "Sorry, I don't know that." in text_of(rig.thread_posts("100.1")[-1])
    await step(rig, message("100.2", "yes", thread_ts="100.1"))
    assert rig.slack.posts(SUPPORT), "the team was not told"
    await step(rig, message("100.3", ANSWER, thread_ts="100.1", user=STAFF))
    assert "Claimed by" in text_of(latest_card(rig))
    await step(rig, click(RESOLVE_ACTION, latest_card(rig)))
    card = latest_card(rig)
    assert "Resolved by" in text_of(card)
    return card


async def test_save_as_faq_end_to_end(rig: Rig, tmp_path: Path) -> None:
    card = await handed_off_answered_and_resolved(rig)
    assert buttons(card) == [SAVE_FAQ_ACTION]

    await step(rig, click(SAVE_FAQ_ACTION, card))
    (result,) = [p for p in rig.slack.posts(SUPPORT) if p.get("thread_ts") == card["posted_ts"]]
    shown = text_of(result)
    assert "Saved as the pending FAQ entry `sell-gift-cards`" in shown
    assert "Q: Do you sell gift cards?" in shown
    assert "gift cards from $25 at the counter" in shown
    assert "bots check: all good" in shown
    assert "persona tests for cafe with it approved: 1 passed, 0 failed" in shown
    assert buttons(result) == [APPROVE_FAQ_ACTION]
    assert buttons(latest_card(rig)) == []  # saved once: the button is gone
    pending = (tmp_path / "knowledge" / "cafe" / "pending.yaml").read_text(encoding="utf-8")
    assert "id: sell-gift-cards" in pending
    assert f"link: https://fake.slack.com/archives/{CHANNEL}/p1001" in pending

    await step(rig, mention("200.1", "do you sell gift cards?"))
    assert "Sorry, I don't know that." in text_of(rig.thread_posts("200.1")[-1])

    await step(
        rig, click(APPROVE_FAQ_ACTION, result, staff=USER)
    )  # not staff: refused, nothing moves
    (refusal,) = rig.slack.made("chat.postEphemeral")
    assert (refusal["user"], refusal["text"]) == (
        USER,
        "Only the support team can save or approve FAQ entries.",
    )
    assert PendingFaq(tmp_path / "knowledge").suggestions()

    await step(rig, click(APPROVE_FAQ_ACTION, result, staff=STAFF))
    approved = rig.slack.made("chat.update")[-1]
    assert approved["ts"] == result["posted_ts"]
    assert "Approved: `sell-gift-cards` is now in the cafe FAQ" in text_of(approved)
    assert f"Approved by <@{STAFF}>" in text_of(approved)
    assert APPROVE_FAQ_ACTION not in json.dumps(approved["blocks"])
    assert PendingFaq(tmp_path / "knowledge").suggestions() == []

    await step(rig, mention("300.1", "do you sell gift cards?"))
    answer = text_of(rig.thread_posts("300.1")[-1])
    assert "gift cards from $25 at the counter" in answer


async def test_save_is_staff_only_and_refuses_plainly(rig: Rig, tmp_path: Path) -> None:
    card = await handed_off_answered_and_resolved(rig)
    await step(rig, click(SAVE_FAQ_ACTION, card, staff=USER))
    (refusal,) = rig.slack.made("chat.postEphemeral")
    assert refusal["user"] == USER
    assert "Only the support team" in refusal["text"]
    assert not (tmp_path / "knowledge" / "cafe" / "pending.yaml").exists()


async def test_no_save_button_when_nobody_from_the_team_answered(rig: Rig) -> None:
    await step(rig, mention("100.1", "I want a human"))
    await step(rig, click(CLAIM_ACTION, latest_card(rig)))
    await step(rig, click(RESOLVE_ACTION, latest_card(rig)))
    card = latest_card(rig)
    assert "Resolved by" in text_of(card)
    assert buttons(card) == []  # claimed by a click, nobody wrote: nothing to save
