"""The engine's fixed messages in the user's language, and a "no thanks" to the offer."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from bots.knowledge.files import KnowledgeEntry
from bots.knowledge.persona import Persona
from bots.language.identify import LanguageIdentifier
from bots.models import (
    EngineEvent,
    FinalReply,
    HandoffRequested,
    IncomingMessage,
    ReplySource,
    Role,
    ThreadKey,
)
from bots.store.sqlite import SQLiteStore
from bots.turn.engine import Engine
from bots.turn.runtime import PersonaRuntime

_ids = itertools.count(1)
IDENTIFIER = LanguageIdentifier()


def message(text: str, thread: str = "t1") -> IncomingMessage:
    return IncomingMessage(
        key=ThreadKey("test", "w1", "c1", thread),
        author_id="u1",
        text=text,
        message_id=f"m{next(_ids)}",
    )


async def run(engine: Engine, msg: IncomingMessage) -> list[EngineEvent]:
    return [event async for event in engine.handle(msg)]


def reply_of(events: list[EngineEvent]) -> FinalReply:
    replies = [e for e in events if isinstance(e, FinalReply)]
    assert len(replies) == 1, events
    return replies[0]


def engine_for(store: SQLiteStore, runtime: PersonaRuntime) -> Engine:
    return Engine(
        store=store,
        personas={"cafe": runtime},
        default_persona="cafe",
        llm=None,
        language_of=IDENTIFIER.identify,
    )


@pytest.fixture
def offline(store: SQLiteStore, cafe_runtime: PersonaRuntime) -> Engine:
    return engine_for(store, cafe_runtime)


async def test_the_fallback_and_offer_come_in_the_users_language(offline: Engine) -> None:
    reply = reply_of(
        await run(offline, message("pouvez-vous réparer la boîte de vitesses de ma moto ?"))
    )
    assert reply.source is ReplySource.FALLBACK
    assert "je ne connais pas la réponse" in reply.text
    assert "Voulez-vous que je fasse appel à une personne de notre équipe ?" in reply.text


async def test_english_keeps_the_personas_own_words(offline: Engine) -> None:
    reply = reply_of(await run(offline, message("can you repair my motorbike gearbox?")))
    assert "Sorry, I don't know that." in reply.text
    assert "Shall I get a person?" in reply.text


async def test_the_handoff_message_comes_in_the_users_language(offline: Engine) -> None:
    events = await run(offline, message("ich möchte bitte mit einem Mitarbeiter sprechen"))
    handoff = next(e for e in events if isinstance(e, HandoffRequested))
    assert handoff.message.startswith("Ich gebe dieses Gespräch an ein Mitglied")


async def test_a_persona_translation_wins(store: SQLiteStore, cafe_runtime: PersonaRuntime) -> None:
    persona = cafe_runtime.persona.model_copy(
        update={"messages": {"fr": {"offer": "Je vous passe Marie ?"}}}
    )
    runtime = dataclasses.replace(cafe_runtime, persona=persona)
    engine = engine_for(store, runtime)
    reply = reply_of(
        await run(engine, message("pouvez-vous réparer la boîte de vitesses de ma moto ?"))
    )
    assert reply.text.endswith("Je vous passe Marie ?")


async def test_an_faq_answer_in_another_language_says_which(
    store: SQLiteStore, cafe_persona: Persona
) -> None:
    entry = KnowledgeEntry(
        id="parken",
        question="Wo kann ich parken?",
        answer="Hinter dem Café gibt es einen kostenlosen Parkplatz.",
        also_asked=("parking car park",),
    )
    engine = engine_for(store, PersonaRuntime.build(cafe_persona, (entry,), None))
    reply = reply_of(await run(engine, message("is there a car park where I can leave my car?")))
    assert reply.source is ReplySource.KNOWLEDGE
    assert "(Our FAQ is written in German.)" in reply.text
    assert "kostenlosen Parkplatz" in reply.text


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("no thanks", "All right, no person then."),
        ("No, thank you!", "All right, no person then."),
        ("nein danke", "Alles klar, dann keine Person."),
        ("non merci", "Très bien, pas de personne alors."),
        ("no gracias", "De acuerdo, sin persona entonces."),
        ("不用了，谢谢", "好的，那就不转人工了。"),
    ],
)
async def test_no_to_the_offer_is_acknowledged_and_not_offered_again(
    offline: Engine, store: SQLiteStore, answer: str, expected: str
) -> None:
    await run(offline, message("can you repair my motorbike gearbox?"))
    events = await run(offline, message(answer))
    reply = reply_of(events)
    assert not any(isinstance(e, HandoffRequested) for e in events)
    assert reply.text.startswith(expected)
    assert "Shall I get a person?" not in reply.text
    conversation = await store.get_conversation(ThreadKey("test", "w1", "c1", "t1"))
    assert conversation is not None
    assert conversation.offer_reason is None
    turns = await store.recent_turns(conversation.id, 10)
    assert [t.role for t in turns] == [Role.USER, Role.ASSISTANT] * 2
    # A later "yes" is not a yes to an offer that was withdrawn.
    later = reply_of(await run(offline, message("yes")))
    assert not later.text.startswith(expected)


async def test_no_without_an_offer_is_an_ordinary_message(offline: Engine) -> None:
    reply = reply_of(await run(offline, message("no thanks")))
    assert "All right, no person then." not in reply.text


def test_persona_messages_are_checked_with_plain_errors() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match='did you mean "offer"'):
        Persona(name="x", display_name="X", instructions="hi", messages={"fr": {"ofer": "?"}})
    with pytest.raises(ValidationError, match="not a language code"):
        Persona(name="x", display_name="X", instructions="hi", messages={"French": {"offer": "?"}})
