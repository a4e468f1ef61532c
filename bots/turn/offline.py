"""Answers from the knowledge base alone: no API key, or the model is down after retries."""

from __future__ import annotations

from bots.knowledge.files import KnowledgeEntry
from bots.knowledge.persona import Persona
from bots.models import Citation, FinalReply, ReplySource
from bots.retrieval.search import RetrievalResult


def citation_for(entry: KnowledgeEntry) -> Citation:
    return Citation(entry_id=entry.id, title=entry.question, url=entry.url)


def offline_reply(
    persona: Persona,
    retrieval: RetrievalResult,
    *,
    llm_down: bool,
    language: str = "en",
    note: str = "",
) -> FinalReply:
    """The best entry's answer when the match is confident, else an honest "I don't know".

    `llm_down` says the model was meant to answer but could not: the user is told so, rather
    than getting a different style of answer without explanation. The bot's own words are in
    `language`; the entry's answer is as written, after `note` (e.g. "our FAQ is in English").
    """
    lead = [persona.text("llm_unavailable", language)] if llm_down else []
    best = retrieval.best
    if retrieval.confident and best is not None:
        intro = persona.text("knowledge_intro", language)
        if note:
            intro = f"{intro} {note}"
        body = "\n\n".join([*lead, intro, best.entry.answer])
        return FinalReply(
            text=body, source=ReplySource.KNOWLEDGE, citations=(citation_for(best.entry),)
        )
    unknown = f"{persona.text('unknown', language)} {persona.text('offer', language)}"
    body = "\n\n".join([*lead, unknown])
    return FinalReply(text=body, source=ReplySource.FALLBACK)
