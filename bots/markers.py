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
# like me to...", "I can connect you..."), directions ("call our team on...") and errands
# ("let me get the manager's email", "I'll get the team to prepare a cake") do not count.
_I_WILL = (
    r"\b(?:i(?:'ll|’ll| will|'m going to|’m going to| am going to|'m now| am now| have|'ve|’ve)"
    r"|i'm|i’m|i am|let me)\s+(?:now\s+|just\s+|quickly\s+)?"
)
_STAFF_NOUN = (
    r"(?:team|staff|colleagues?|humans?|persons?|people|agents?|managers?|supervisors?"
    r"|representatives?|hosts?)"
)
_A_PERSON = (
    r"(?:someone|somebody|(?:a|an|one|our|the|a member|members?)\s+(?:of\s+)?"
    r"(?:(?:our|the|my|real|live|human|support|customer|service)\s+){0,3}" + _STAFF_NOUN + r")"
    r"(?!['’]s|\s+(?:picks?|to\s+\w+|'s)\b)"
)
# Moving the conversation: the object is the user or their request.
_MOVE = re.compile(
    _I_WILL + r"(?:connect(?:ing)?|transfer(?:ring|red)?|pass(?:ing|ed)?|hand(?:ing|ed)?"
    r"|put(?:ting)?|forward(?:ing|ed)?|escalat(?:e|ing|ed)|refer(?:ring|red)?)\s+"
    r"(?:you|this|it|your\s+\w+|the\s+conversation|the\s+chat)\s+"
    r"(?:over\s+|on\s+|through\s+)?(?:to|with)\s+" + _A_PERSON + r"\b",
    re.IGNORECASE,
)
# Fetching a person: only for "someone" or a person noun, never an errand for one.
_FETCH = re.compile(
    _I_WILL + r"(?:get(?:ting)?|fetch(?:ing)?|bring(?:ing)?\s+in|call(?:ing)?\s+(?:over|in))"
    r"\s+(?:you\s+)?" + _A_PERSON + r"\b",
    re.IGNORECASE,
)


def find_handoff(text: str) -> str | None:
    """The reason, when the reply hands off by marker or by an explicit promise; else None."""
    marker = _MARKER.search(text)
    if marker:
        reason = (marker.group("reason") or marker.group("line_reason") or "").strip()
        return reason or "the assistant could not help"
    if _MOVE.search(text) or _FETCH.search(text):
        return "the assistant said a person would take over"
    return None


def marker_texts(text: str) -> list[str]:
    """Each hand-off marker in `text`, exactly as written."""
    return [match.group(0) for match in _MARKER.finditer(text)]


def strip_markers(text: str) -> str:
    """The reply without hand-off markers (users never see them)."""
    return _MARKER.sub("", text)
