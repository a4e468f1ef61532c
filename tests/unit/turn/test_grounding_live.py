"""The grounding check runs live on every model answer: counted, stored, listed by `bots report`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bots.llm.client import OpenAIChatClient
from bots.llm.pricing import PriceTable
from bots.models import FinalReply, IncomingMessage, ThreadKey
from bots.ops.metrics import PrometheusTelemetry
from bots.report.figures import read_report
from bots.report.render import render_json, render_text
from bots.store.sqlite import SQLiteStore
from bots.turn.engine import Engine
from bots.turn.runtime import PersonaRuntime
from tests.fakes.fake_llm import FakeLLMServer, Reply


def ask(text: str, thread: str) -> IncomingMessage:
    return IncomingMessage(ThreadKey("test", "w1", "c1", thread), "u1", text, f"m-{thread}")


async def reply_to(engine: Engine, message: IncomingMessage) -> FinalReply:
    events = [event async for event in engine.handle(message)]
    assert isinstance(events[-1], FinalReply), events
    return events[-1]


async def test_invented_facts_are_counted_stored_and_reported(
    store: SQLiteStore,
    cafe_runtime: PersonaRuntime,
    llm_client: OpenAIChatClient,
    llm_server: FakeLLMServer,
) -> None:
    telemetry = PrometheusTelemetry()
    engine = Engine(
        store=store,
        personas={"cafe": cafe_runtime},
        default_persona="cafe",
        llm=llm_client,
        telemetry=telemetry,
    )
    llm_server.script(
        Reply("We open at 8am and close at 6pm [opening-hours]."),
        Reply("We open at 6am; call 555-010-9999 [opening-hours]."),
    )
    good = await reply_to(engine, ask("when are you open?", "good"))
    bad = await reply_to(engine, ask("when are you open?", "bad"))
    assert good.ungrounded == ()
    assert bad.ungrounded == ("6am", "555-010-9999")
    counted = telemetry.registry.get_sample_value(
        "bots_ungrounded_answers_total", {"persona": "cafe"}
    )
    assert counted == 1.0

    now = datetime.now(UTC)
    report = await read_report(
        store, now - timedelta(days=1), now + timedelta(minutes=1), PriceTable()
    )
    assert [(u.persona, u.facts) for u in report.ungrounded] == [("cafe", ("6am", "555-010-9999"))]
    text = render_text(report)
    assert "Ungrounded answers: 1" in text
    assert "6am, 555-010-9999" in text
    assert '"facts": [\n        "6am"' in render_json(report)
