"""The ticket's text: the transcript with cited sources, the summary and the link back."""

from __future__ import annotations

from bots.desks.protocol import TicketRequest, TranscriptLine

_WHO = {"user": "User", "assistant": "Assistant", "staff": "Support team (chat)"}
SUBJECT_CHARS = 120


def describe(request: TicketRequest) -> str:
    """Plain text for a Zendesk description or a Chatwoot note (both show it as written)."""
    parts = []
    if request.link:
        parts.append(f"Chat thread: {request.link}")
    if request.summary:
        parts.append("Summary:\n" + "\n".join(f"- {line}" for line in request.summary))
    parts.append("Transcript:\n" + "\n\n".join(line_text(line) for line in request.transcript))
    return "\n\n".join(parts)


def line_text(line: TranscriptLine) -> str:
    text = f"{_WHO.get(line.who, line.who)}: {line.text}"
    if line.sources:
        text += "\n  Sources: " + "; ".join(line.sources)
    return text


def subject_from(question: str, fallback: str) -> str:
    """One line of at most `SUBJECT_CHARS` characters, from the user's question."""
    flat = " ".join(question.split()) or fallback
    return flat if len(flat) <= SUBJECT_CHARS else flat[: SUBJECT_CHARS - 1] + "…"
