"""Honest endings: a reply that stopped before its end is cut back to a boundary and says so."""

from __future__ import annotations

from bots.knowledge.persona import Persona
from bots.models import Citation, FinalReply, ReplySource, Usage
from bots.retrieval.search import RetrievalResult
from bots.text import trim_to_boundary
from bots.turn.offline import citation_for


def marked_cut_short(persona: Persona, text: str, language: str = "en") -> str:
    """`text` cut back to a word or sentence boundary, then "…" and the persona's note (in
    `language`, the user's)."""
    kept = trim_to_boundary(text)
    note = persona.text("cut_short", language)
    return f"{kept} …\n\n{note}" if kept else note


def broken_off(
    persona: Persona,
    retrieval: RetrievalResult,
    written: str,
    cited: tuple[Citation, ...],
    usage: Usage,
    language: str = "en",
) -> FinalReply:
    """The model broke off after `written` was shown (the turn's deadline, a dropped stream).

    The user keeps what was written, marked as cut short, with the honest notice that the
    answering service is in trouble; then the FAQ's answer when one matches well, or the
    offer of a person (which a "yes" accepts). The bot's own words are in `language`.
    """
    parts = [marked_cut_short(persona, written, language)]
    unavailable = persona.text("llm_unavailable", language)
    best = retrieval.best
    if retrieval.confident and best is not None:
        parts += [unavailable, persona.text("knowledge_intro", language), best.entry.answer]
        faq = citation_for(best.entry)
        citations = cited if faq in cited else (*cited, faq)
        return FinalReply("\n\n".join(parts), ReplySource.KNOWLEDGE, citations, usage)
    parts.append(f"{unavailable} {persona.text('offer', language)}")
    return FinalReply("\n\n".join(parts), ReplySource.FALLBACK, cited, usage)
