"""Suggested prompts for a new chat: the persona's own, or its most asked FAQ questions.

The assistant pane (and any surface that offers starter questions) asks for these when a
chat opens. The persona's `assistant.suggested_prompts` win; without them the questions of
the entries that answered most people in the last weeks (the store's retrieval outcomes,
confident matches only), topped up with the first entries of the knowledge, so a new bot
with no history still offers something it can answer.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bots.knowledge.entry_points import MAX_PROMPTS
from bots.store import Store
from bots.turn.runtime import PersonaRuntime

LOOKBACK = timedelta(days=30)
"""How far back "most asked" looks."""


async def suggested_prompts(
    runtime: PersonaRuntime, store: Store, now: datetime, limit: int = MAX_PROMPTS
) -> tuple[str, ...]:
    """At most `limit` questions to offer, the persona's own first."""
    own = runtime.persona.assistant.suggested_prompts
    if own:
        return own[:limit]
    by_id = runtime.catalog.by_id
    asked = await store.most_asked_entries(runtime.persona.name, now - LOOKBACK, limit * 3)
    chosen = [by_id[entry_id].question for entry_id in asked if entry_id in by_id]
    for entry in runtime.catalog.entries:
        if len(chosen) >= limit:
            break
        chosen.append(entry.question)
    return tuple(dict.fromkeys(q for q in chosen if q.strip()))[:limit]
