"""Seeing a hand-off in the model's own words: the marker for servers without tool calls,
and a promise to fetch a person that the model made without calling its tool."""

from __future__ import annotations

import re

# Told to models on servers without tool support (persona `model.tools: false`).
MARKER_RULE = (
    "5. If the user asks for a person, or you cannot help, write [[handoff: short reason]] "
    "on its own line, then one short sentence telling the user that a person will take over."
)

# Tolerant on purpose: models restyle markers ("[handoff - reason]", "[[Hand-off]]",
# "HANDOFF: reason" on its own line), and a missed marker leaves a user waiting for nobody.
_MARKER = re.compile(
    r"\[\[?\s*hand[\s_-]*off\s*(?:[:\-–]\s*(?P<reason>[^\]\n]*?))?\s*\]\]?"
    r"|^[ \t]*\**hand[\s_-]*off\**[ \t]*:[ \t]*(?P<line_reason>[^\n]*)$",
    re.IGNORECASE | re.MULTILINE,
)

# A first-person promise to bring a person in: "I'll connect you with a member of our team",
# "I'm passing this to our staff", "let me get someone from the team". Offers ("would you
# like me to...", "I can connect you...") and directions ("call our team on...") do not count.
_PERSON = (
    r"(?:someone|somebody|(?:(?:a|an|one|our|the|a member|members?)\s+(?:of\s+)?)?"
    r"(?:(?:our|the|my|real|live|human|support|customer|service)\s+){0,3}"
    r"(?:team|staff|colleagues?|humans?|persons?|people|agents?|managers?|supervisors?"
    r"|representatives?|host|hosts))\b"
)
_PROMISE = re.compile(
    r"\b(?:i(?:'ll|’ll| will|'m going to|’m going to| am going to|'m now| am now| have|'ve|’ve)"
    r"|i'm|i’m|i am|let me)\s+(?:now\s+|just\s+)?"
    r"(?:connect(?:ing)?|transfer(?:ring|red)?|pass(?:ing|ed)?|hand(?:ing|ed)?|put(?:ting)?"
    r"|forward(?:ing|ed)?|escalat(?:e|ing|ed)|get(?:ting)?|fetch(?:ing)?|bring(?:ing)?)\s+"
    r"(?:you\s+|this\s+|it\s+|your\s+\w+\s+|the\s+conversation\s+)?"
    r"(?:over\s+|on\s+|through\s+|in\s+)?(?:(?:to|with)\s+)?" + _PERSON,
    re.IGNORECASE,
)


def find_handoff(text: str) -> str | None:
    """The reason, when the reply hands off by marker or by an explicit promise; else None."""
    marker = _MARKER.search(text)
    if marker:
        reason = (marker.group("reason") or marker.group("line_reason") or "").strip()
        return reason or "the assistant could not help"
    if _PROMISE.search(text):
        return "the assistant said a person would take over"
    return None


def strip_markers(text: str) -> str:
    """The reply without hand-off markers (users never see them)."""
    return _MARKER.sub("", text)
