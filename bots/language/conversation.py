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


# A message with fewer letters than this ("yes", "ok", "why?", "and Sunday?") says too little
# of its language on its own (bots.language.identify reads it as English unless a telltale
# word such as "merci" or "danke" names another).
SHORT_LETTERS = 16
UNSURE = "en"
"""What the identifier says of a short message it cannot place."""


def reply_language(
    text: str, identified: str, earlier_user_texts: Sequence[str], identify: Callable[[str], str]
) -> str:
    """The language to answer `text` in: `identified` (the message's own), unless the message
    is too short to say and was read as English; then the conversation's ("oui" or "ok"
    after French questions is answered in French)."""
    letters = sum(character.isalpha() for character in text)
    if letters >= SHORT_LETTERS or identified != UNSURE or not earlier_user_texts:
        return identified
    return conversation_language([*earlier_user_texts, text], identify)
