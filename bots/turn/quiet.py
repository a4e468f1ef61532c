"""Which messages the engine will surely not answer, known before the turn starts.

Adapters show a "working" sign (Slack's 👀 reaction, the assistant pane's status) while the
engine answers; on a message the bot stays silent on, that sign would flash on and off for
nothing, in a thread a person has claimed too. This is the engine's own rule (`_turn`:
people have the thread, staff talking to the user, nothing to read), asked in advance from
the conversation's state; the turn itself still decides, so a race only costs a sign.
"""

from __future__ import annotations

from bots.models import ConversationState, IncomingMessage

PEOPLE_HAVE_IT = frozenset({ConversationState.WAITING_FOR_HUMAN, ConversationState.HUMAN})


def stays_silent(state: ConversationState | None, message: IncomingMessage) -> bool:
    """True when the engine will not reply to `message` in a thread in `state`."""
    if not message.text.strip():
        return True
    if state in PEOPLE_HAVE_IT:
        return True  # the bot is quiet while people have it (staff there claim, not answer)
    return message.is_staff and not message.addressed_to_bot
