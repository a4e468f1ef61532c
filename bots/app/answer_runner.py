"""`bots eval answers` wiring: the real engine in a throw-away store, one question at a time."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, aclosing, asynccontextmanager
from dataclasses import replace

from bots.app.wiring import build_app
from bots.config import Settings
from bots.errors import BotsError
from bots.evals.answers import AnswerOutcome, Ask, timed
from bots.evals.judge import AnswerJudge
from bots.grounding import find_facts
from bots.llm.client import OpenAIChatClient, RetryPolicy
from bots.models import FinalReply, HandoffRequested, IncomingMessage, ThreadKey
from bots.turn.engine import Engine
from bots.turn.runtime import PersonaRuntime

PLATFORM = "eval"


@asynccontextmanager
async def answer_run(
    settings: Settings, persona_name: str | None, judge_model: str | None
) -> AsyncIterator[tuple[str, Ask, Iterable[str]]]:
    """(a label for the run, the `Ask` of the eval, the knowledge's entry ids) while inside.

    The store is in memory and the ops port, webhooks and limits are off: an evaluation
    touches neither the bot's conversations nor the help desk.
    """
    quiet = replace(
        settings,
        database_url="sqlite:///:memory:",
        metrics_port=None,
        handoff_webhook_url=None,
        handoff_webhook_secret=None,
    )
    async with AsyncExitStack() as stack:
        app = await stack.enter_async_context(build_app(quiet, persona_name))
        runtime = app.library[app.persona.name]
        judge = None
        if judge_model:
            if settings.api_key is None:
                raise BotsError("--judge-model needs OPENAI_API_KEY (and OPENAI_BASE_URL)")
            client = OpenAIChatClient(
                settings.base_url,
                settings.api_key,
                timeout=settings.llm_timeout_seconds,
                retry=RetryPolicy(max_attempts=settings.llm_max_attempts),
            )
            stack.push_async_callback(client.aclose)
            judge = AnswerJudge(client, judge_model)
        where = f"{runtime.model} at {settings.base_url}" if settings.api_key else "FAQ only"
        label = f"{runtime.persona.name} ({where})"
        yield label, _asker(app.engine, runtime, judge), runtime.catalog.by_id


def _asker(engine: Engine, runtime: PersonaRuntime, judge: AnswerJudge | None) -> Ask:
    persona = runtime.persona

    async def ask(question: str) -> AnswerOutcome:
        key = ThreadKey(PLATFORM, "answers", persona.name, uuid.uuid4().hex[:12])
        message = IncomingMessage(key, "eval", question, uuid.uuid4().hex)
        started = time.perf_counter()
        final: FinalReply | HandoffRequested | None = None
        async with aclosing(engine.handle(message, persona.name)) as events:
            async for event in events:
                if isinstance(event, FinalReply | HandoffRequested):
                    final = event
        seconds = timed(started)
        if isinstance(final, HandoffRequested):
            return AnswerOutcome(final.message, "handoff", handed_off=True, seconds=seconds)
        if final is None:
            return AnswerOutcome("", "silent", seconds=seconds)
        judged = None
        if judge is not None:
            hits = runtime.retriever.search(question, k=persona.knowledge.max_snippets).hits
            snippets = runtime.catalog.block([hit.entry.id for hit in hits])
            judged = await judge(question, snippets, final.text)
        offer = persona.handoff.offer.strip()
        return AnswerOutcome(
            text=final.text,
            source=final.source.value,
            cited=tuple(c.entry_id for c in final.citations),
            offered=bool(offer) and offer in final.text,
            ungrounded=final.ungrounded,
            facts=len(find_facts(final.text)),
            seconds=seconds,
            judged=judged,
        )

    return ask
