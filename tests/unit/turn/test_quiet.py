"""The engine's silence rule asked in advance: which messages get no "working" sign."""

from __future__ import annotations

import pytest

from bots.models import ConversationState, IncomingMessage, ThreadKey
from bots.turn.quiet import stays_silent

KEY = ThreadKey("slack", "T", "C", "1.1")


def message(text: str = "is there wifi?", *, staff: bool = False, addressed: bool = False):
    return IncomingMessage(KEY, "U1", text, "1.2", is_staff=staff, addressed_to_bot=addressed)


@pytest.mark.parametrize("state", [ConversationState.HUMAN, ConversationState.WAITING_FOR_HUMAN])
def test_people_have_the_thread(state: ConversationState) -> None:
    assert stays_silent(state, message())
    assert stays_silent(state, message(staff=True))


@pytest.mark.parametrize("state", [None, ConversationState.BOT, ConversationState.RESOLVED])
def test_the_bot_answers_users(state: ConversationState | None) -> None:
    assert not stays_silent(state, message())
    assert not stays_silent(state, message(staff=True, addressed=True))


def test_staff_talking_to_the_user_and_empty_messages() -> None:
    assert stays_silent(ConversationState.BOT, message(staff=True))
    assert stays_silent(None, message("   "))
