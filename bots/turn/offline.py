"""Answers from the knowledge base alone: no API key, or the model is down after retries."""

from __future__ import annotations

from bots.knowledge.files import KnowledgeEntry
from bots.knowledge.persona import Persona
from bots.models import Citation, FinalReply, ReplySource
from bots.retrieval.search import RetrievalResult


def citation_for(entry: KnowledgeEntry) -> Citation:
    return Citation(entry_id=entry.id, title=entry.question, url=entry.url)


def offline_reply(persona: Persona, retrieval: RetrievalResult, *, llm_down: bool) -> FinalReply:
    """The best entry's answer when the match is confident, else an honest "I don't know".

    `llm_down` says the model was meant to answer but could not: the user is told so, rather
    than getting a different style of answer without explanation.
    """
    texts = persona.fallback
    lead = [texts.llm_unavailable] if llm_down else []
    best = retrieval.best
    if retrieval.confident and best is not None:
        body = "\n\n".join([*lead, texts.knowledge_intro, best.entry.answer])
        return FinalReply(
            text=body, source=ReplySource.KNOWLEDGE, citations=(citation_for(best.entry),)
        )
    body = "\n\n".join([*lead, f"{texts.unknown} {persona.handoff.offer}"])
    return FinalReply(text=body, source=ReplySource.FALLBACK)
