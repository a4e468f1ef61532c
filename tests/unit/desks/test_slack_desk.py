"""End to end on Slack: the real slack-bolt adapter, a fake Slack, a fake Zendesk.

hand-off -> ticket with transcript -> the agent's reply appears in the thread -> the user
replies -> a comment on the ticket -> solved -> the thread is resolved -> the bot answers.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from bots.adapters.slack.adapter import SlackBot
from bots.adapters.slack.formatting import thread_link
from bots.app.desk_wiring import knowledge_sources
from bots.desks.connector import DeskConnector
from bots.desks.outbox import DeskOutbox
from bots.desks.receiver import DeskWebhooks
from bots.desks.relay import DeskRelay
from bots.desks.zendesk import ZendeskDesk
from bots.knowledge.files import load_knowledge
from bots.knowledge.persona import load_persona
from bots.models import EngineEvent, thread_of
from bots.secret import Secret
from bots.store.sqlite import SQLiteStore
from bots.turn.engine import Engine
from bots.turn.runtime import PersonaRuntime
from tests.conftest import RecordingSleep
from tests.fakes import fake_zendesk
from tests.fakes.fake_slack import TEAM_ID, FakeSlack
from tests.fakes.fake_zendesk import FakeZendesk
from tests.unit.adapters.slack.test_adapter import (
    CHANNEL,
    SECRET,
    SUPPORT,
    Rig,
    copy_slack_persona,
    mention,
    message,
    text_of,
)

HOOK_SECRET = "zendesk-hook-secret"


async def test_a_zendesk_ticket_round_trip_on_slack(tmp_path: Path, store: SQLiteStore) -> None:
    folder = copy_slack_persona(tmp_path)
    persona = load_persona(folder / "personas" / "cafe.yaml")
    runtime = PersonaRuntime.build(
        persona, load_knowledge(folder / "knowledge", persona.knowledge.sets), None
    )
    personas = {"cafe": runtime}
    with FakeZendesk() as zendesk:
        desk = ZendeskDesk(zendesk.url, fake_zendesk.EMAIL, Secret(fake_zendesk.TOKEN))
        outbox = DeskOutbox(store, {"zendesk": desk}, runtime_clock := _Now())
        connector = DeskConnector(desk, store, outbox, sources_of=knowledge_sources(personas))
        engine = Engine(
            store=store,
            personas=personas,
            default_persona="cafe",
            llm=None,
            handoff_sinks=[connector],
            clock=runtime_clock,
            link_for=thread_link,
        )
        relay = DeskRelay(store, engine, {"zendesk": desk}, runtime_clock)
        webhooks = DeskWebhooks(relay, {"zendesk": Secret(HOOK_SECRET)})
        slack = FakeSlack()
        await slack.start()
        bot = SlackBot(
            engine,
            personas,
            bot_token="xoxb-test",
            signing_secret=SECRET,
            default_persona="cafe",
            api_url=slack.base_url,
            sleep=RecordingSleep(),
        )

        async def show(event: EngineEvent) -> None:  # what bots/app/wiring.py attach_desk does
            key = thread_of(event)
            if key is not None:
                await bot.render(event, key)

        relay.attach(show)
        rig = Rig(slack, bot, store)
        try:
            await run_round_trip(rig, zendesk, webhooks, relay, outbox, engine)
        finally:
            await bot.wait_idle()
            await bot.aclose()
            await engine.aclose()
            await desk.aclose()
            await slack.close()


async def run_round_trip(
    rig: Rig,
    zendesk: FakeZendesk,
    webhooks: DeskWebhooks,
    relay: DeskRelay,
    outbox: DeskOutbox,
    engine: Engine,
) -> None:
    # 1. The hand-off: the user is told, the team's notice says the ticket is pending.
    await rig.deliver(mention("100.1", "I want a human, my order is missing"))
    await rig.settle()
    (support,) = rig.slack.posts(SUPPORT)
    assert "Zendesk ticket: pending" in text_of(support)
    # 2. The ticket, with the transcript and the link back to the thread.
    await engine.aclose()
    await outbox.run_due()
    (ticket,) = zendesk.tickets.values()
    assert "User: I want a human, my order is missing" in ticket.comments[0]["body"]
    link = f"https://app.slack.com/client/{TEAM_ID}/{CHANNEL}/thread/{CHANNEL}-100.1"
    assert f"Chat thread: {link}" in ticket.comments[0]["body"]
    # 3. The agent's public reply appears in the thread, under the agent's name.
    zendesk.reply(str(ticket.id), zendesk.agent("Ana Agent"), "Found it: it ships today.")
    headers, body = zendesk.webhook(str(ticket.id), HOOK_SECRET)
    assert webhooks.handle("/desks/zendesk", headers, body)[0] == 200
    await asyncio.gather(*relay.tasks)
    shown = [p["text"] for p in rig.thread_posts("100.1")]
    assert any("*Ana Agent* (Zendesk): Found it: it ships today." in t for t in shown), shown
    # 4. The user replies: the bot is silent, the ticket gets the comment.
    before = len(rig.thread_posts("100.1"))
    await rig.deliver(message("100.2", "Thank you so much!", thread_ts="100.1"))
    await rig.settle()
    assert len(rig.thread_posts("100.1")) == before
    await engine.aclose()
    await outbox.run_due()
    assert "Thank you so much!" in ticket.comments[-1]["body"]
    # 5. Solved in Zendesk: the thread is resolved, with the hand-back message.
    zendesk.solve(str(ticket.id))
    headers, body = zendesk.webhook(str(ticket.id), HOOK_SECRET)
    webhooks.handle("/desks/zendesk", headers, body)
    await asyncio.gather(*relay.tasks)
    updates = [text_of(u) for u in rig.slack.made("chat.update")]
    assert any("Resolved by Ana Agent (Zendesk)" in u for u in updates), updates
    # 6. The bot answers again.
    before = len(rig.thread_posts("100.1"))
    await rig.deliver(message("100.3", "Do you have wifi?", thread_ts="100.1"))
    await rig.settle()
    assert len(rig.thread_posts("100.1")) > before


class _Now:
    """The wall clock, frozen: Slack's signed requests use real time, the desk calls this."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now
