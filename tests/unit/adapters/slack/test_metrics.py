"""Platform errors and turns from the Slack adapter reach the metrics (real bolt, fake Slack)."""

from __future__ import annotations

from typing import Any

import httpx

from bots.adapters.slack.adapter import SlackBot
from bots.knowledge.files import load_knowledge
from bots.knowledge.persona import load_persona
from bots.ops.metrics import PrometheusTelemetry
from bots.store.sqlite import SQLiteStore
from bots.turn.engine import Engine
from bots.turn.runtime import PersonaRuntime
from tests.conftest import DATA
from tests.fakes.fake_slack import FakeSlack
from tests.unit.adapters.slack.test_adapter import SECRET, Rig, mention


class RefusingSlack(FakeSlack):
    """A Slack that refuses every post to the channel (the bot was removed from it)."""

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "chat.postMessage":
            return {"ok": False, "error": "not_in_channel", "ts": ""}
        return super()._answer(method, params)


async def test_a_refused_post_is_counted_as_a_platform_error(store: SQLiteStore) -> None:
    persona = load_persona(DATA / "personas" / "cafe.yaml")
    entries = load_knowledge(DATA / "knowledge", persona.knowledge.sets)
    personas = {"cafe": PersonaRuntime.build(persona, entries, None)}
    telemetry = PrometheusTelemetry()
    engine = Engine(
        store=store, personas=personas, default_persona="cafe", llm=None, telemetry=telemetry
    )
    slack = RefusingSlack()
    await slack.start()
    bot = SlackBot(
        engine,
        personas,
        bot_token="xoxb-test",
        signing_secret=SECRET,
        default_persona="cafe",
        api_url=slack.base_url,
        telemetry=telemetry,
    )
    try:
        rig = Rig(slack, bot, store)
        assert await rig.deliver(mention("100.1", "is there wifi?")) == 200
        await rig.settle()
    finally:
        await bot.wait_idle()
        await bot.aclose()
        await slack.close()
    registry = telemetry.registry
    errors = {"component": "platform", "kind": "slack_not_in_channel"}
    assert registry.get_sample_value("bots_errors_total", errors) == 1
    turn = {"persona": "cafe", "platform": "slack", "outcome": "reply_knowledge"}
    assert registry.get_sample_value("bots_turns_total", turn) == 1


async def test_the_events_port_answers_health_checks_with_the_status_only(
    store: SQLiteStore,
) -> None:
    persona = load_persona(DATA / "personas" / "cafe.yaml")
    entries = load_knowledge(DATA / "knowledge", persona.knowledge.sets)
    personas = {"cafe": PersonaRuntime.build(persona, entries, None)}
    engine = Engine(store=store, personas=personas, default_persona="cafe", llm=None)
    slack = FakeSlack()
    await slack.start()
    bot = SlackBot(
        engine,
        personas,
        bot_token="xoxb-test",
        signing_secret=SECRET,
        default_persona="cafe",
        api_url=slack.base_url,
    )
    state = {"ok": True}

    async def healthy() -> bool:
        return state["ok"]

    try:
        async with bot.serve_http("127.0.0.1", 0, healthy) as port, httpx.AsyncClient() as http:
            url = f"http://127.0.0.1:{port}/healthz"
            first = await http.get(url)
            state["ok"] = False
            second = await http.get(url)
    finally:
        await bot.aclose()
        await slack.close()
    assert (first.status_code, first.json()) == (200, {"status": "ok"})
    assert (second.status_code, second.json()) == (503, {"status": "failing"})
