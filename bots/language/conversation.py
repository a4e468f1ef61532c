"""The language a conversation is held in, for messages sent without a new user message."""

from __future__ import annotations

from collections.abc import Callable, Sequence

# How many of the user's newest messages are read. The newest come first in the sample, so a
# user who switched languages is answered in the one they write now; older ones give a short
# "ok" or "merci" the words it lacks.
USER_MESSAGES = 3


def conversation_language(user_texts: Sequence[str], identify: Callable[[str], str]) -> str:
    """The language of the user's newest messages (`user_texts` oldest first).

    For what the bot says on its own: the hand-back when the team is done, the offer of a
    person after a thumbs-down, a hand-off started by staff. None of these has a message of
    the user's to read, so the user's last few are read together, newest first.
    """
    newest_first = [text for text in reversed(user_texts) if text.strip()][:USER_MESSAGES]
    return identify("\n".join(newest_first))
