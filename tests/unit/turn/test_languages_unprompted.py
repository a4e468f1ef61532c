"""What the bot says without a new user message comes in the user's language too: the
hand-back, the offer after a thumbs-down, a staff hand-off, the cut-short note."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime, timedelta

import pytest

from bots.language.conversation import conversation_language
from bots.language.identify import LanguageIdentifier
from bots.llm.client import OpenAIChatClient
from bots.models import (
    EngineEvent,
    FinalReply,
    HandoffRequested,
    HandoffResolved,
    IncomingMessage,
    ThreadKey,
)
from bots.store.sqlite import SQLiteStore
from bots.turn.engine import Engine
from bots.turn.runtime import PersonaRuntime
from tests.fakes.fake_llm import CutStream, FakeLLMServer, Reply

IDENTIFIER = LanguageIdentifier()
KEY = ThreadKey("test", "w1", "c1", "t1")
_ids = itertools.count(1)


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


def say(text: str) -> IncomingMessage:
    return IncomingMessage(key=KEY, author_id="u1", text=text, message_id=f"m{next(_ids)}")


async def run(engine: Engine, msg: IncomingMessage) -> list[EngineEvent]:
    return [event async for event in engine.handle(msg)]


def engine_for(
    store: SQLiteStore,
    runtime: PersonaRuntime,
    clock: Clock | None = None,
    llm: OpenAIChatClient | None = None,
) -> Engine:
    return Engine(
        store=store,
        personas={runtime.persona.name: runtime},
        default_persona=runtime.persona.name,
        llm=llm,
        clock=clock or Clock(),
        language_of=IDENTIFIER.identify,
    )


@pytest.fixture
def offline(store: SQLiteStore, cafe_runtime: PersonaRuntime) -> Engine:
    return engine_for(store, cafe_runtime)


async def test_the_hand_back_comes_in_the_users_language(offline: Engine) -> None:
    await run(offline, say("je voudrais parler à une personne de votre équipe, s'il vous plaît"))
    await offline.claim(KEY, "alice")
    resolved = await offline.resolve(KEY, "alice")
    assert isinstance(resolved, HandoffResolved)
    assert resolved.message == (
        "Vous êtes de nouveau avec l'assistant. Posez-moi d'autres questions !"
    )


async def test_an_english_hand_back_keeps_the_personas_own_words(
    offline: Engine, cafe_runtime: PersonaRuntime
) -> None:
    await run(offline, say("I want to talk to a human please"))
    resolved = await offline.resolve(KEY, "alice")
    assert isinstance(resolved, HandoffResolved)
    assert resolved.message == cafe_runtime.persona.handoff.handback_message


async def test_the_personas_own_translation_of_the_hand_back_wins(
    store: SQLiteStore, cafe_runtime: PersonaRuntime
) -> None:
    persona = cafe_runtime.persona.model_copy(
        update={"messages": {"de": {"handback": "Marie ist fertig; ich bin wieder da."}}}
    )
    engine = engine_for(store, dataclasses.replace(cafe_runtime, persona=persona))
    await run(engine, say("ich möchte bitte mit einem Mitarbeiter sprechen"))
    resolved = await engine.resolve(KEY, "alice")
    assert isinstance(resolved, HandoffResolved)
    assert resolved.message == "Marie ist fertig; ich bin wieder da."


async def test_the_timed_hand_back_of_a_quiet_thread_is_in_the_users_language(
    store: SQLiteStore, cafe_runtime: PersonaRuntime
) -> None:
    clock = Clock()
    engine = engine_for(store, cafe_runtime, clock)
    await run(engine, say("quiero hablar con una persona de vuestro equipo, por favor"))
    await engine.claim(KEY, "alice")
    clock.at += timedelta(days=2)
    events = await engine.tick()
    assert events == [
        HandoffResolved(KEY, None, "Vuelves a hablar con el asistente. ¡Pregúntame lo que quieras!")
    ]


async def test_the_offer_after_a_thumbs_down_is_in_the_users_language(offline: Engine) -> None:
    await run(offline, say("Gibt es bei Ihnen WLAN für die Gäste?"))
    offer = await offline.feedback(KEY, "m-answer", "u1", positive=False)
    assert isinstance(offer, FinalReply)
    assert offer.text == "Möchten Sie, dass ich eine Person aus unserem Team hole?"
    # ...and a "ja" to it hands over, with the hand-off message in German as well.
    events = await run(offline, say("ja bitte"))
    handoff = next(e for e in events if isinstance(e, HandoffRequested))
    assert handoff.message.startswith("Ich gebe dieses Gespräch an ein Mitglied")


async def test_an_english_thumbs_down_keeps_the_personas_offer(offline: Engine) -> None:
    await run(offline, say("is there wifi for guests?"))
    offer = await offline.feedback(KEY, "m-answer", "u1", positive=False)
    assert offer is not None
    assert offer.text == "Shall I get a person?"


async def test_a_hand_off_by_staff_tells_the_user_in_their_language(offline: Engine) -> None:
    await run(offline, say("Posso pagare con la carta di credito al tavolo?"))
    event = await offline.staff_handoff(KEY, "alice", "billing question")
    assert isinstance(event, HandoffRequested)
    assert event.message.startswith("Passo questa conversazione a una persona del nostro team.")


async def test_a_reply_cut_short_says_so_in_the_users_language(
    store: SQLiteStore,
    cafe_runtime: PersonaRuntime,
    llm_client: OpenAIChatClient,
    llm_server: FakeLLMServer,
) -> None:
    engine = engine_for(store, cafe_runtime, llm=llm_client)
    llm_server.script(
        Reply("Le parking est derrière le café et il est gra", finish_reason="length")
    )
    events = await run(engine, say("où est-ce que je peux garer ma voiture ?"))
    (reply,) = [e for e in events if isinstance(e, FinalReply)]
    assert (
        reply.text
        == "Le parking est derrière le café et il est …\n\n(Ma réponse a été interrompue.)"
    )


async def test_a_broken_stream_is_explained_in_the_users_language(
    store: SQLiteStore,
    cafe_runtime: PersonaRuntime,
    llm_client: OpenAIChatClient,
    llm_server: FakeLLMServer,
) -> None:
    engine = engine_for(store, cafe_runtime, llm=llm_client)
    llm_server.script(
        CutStream("Die Werkstatt für Motorräder ist leider geschlossen", after_chars=30)
    )
    events = await run(engine, say("Können Sie das Getriebe meines Motorrads reparieren?"))
    (reply,) = [e for e in events if isinstance(e, FinalReply)]
    assert "(Meine Antwort wurde abgeschnitten.)" in reply.text
    assert "Ich erreiche meinen Antwortdienst gerade nicht." in reply.text
    assert reply.text.endswith("Möchten Sie, dass ich eine Person aus unserem Team hole?")


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        (["Quels sont vos horaires le dimanche ?", "merci"], "fr"),
        (["Quels sont vos horaires le dimanche ?", "ok"], "fr"),
        (["Quels sont vos horaires le dimanche ?", "and do you have a kids menu for them?"], "en"),
        (["hola", "¿Tenéis terraza con calefacción en invierno?"], "es"),
        ([], "en"),
    ],
)
def test_the_conversation_language_is_the_newest_messages(said: list[str], expected: str) -> None:
    assert conversation_language(said, IDENTIFIER.identify) == expected


# -- a reply too short to name its language ----------------------------------------------


async def test_a_short_yes_to_a_french_offer_is_answered_in_french(offline: Engine) -> None:
    await run(offline, say("pouvez-vous réparer la boîte de vitesses de ma moto ?"))
    events = await run(offline, say("yes"))
    handoff = next(e for e in events if isinstance(e, HandoffRequested))
    assert handoff.message.startswith("Je transmets cette conversation à un membre")


async def test_a_short_message_in_an_english_conversation_stays_english(offline: Engine) -> None:
    await run(offline, say("can you repair my motorbike gearbox?"))
    events = await run(offline, say("any vegan cake?"))
    (reply,) = [e for e in events if isinstance(e, FinalReply)]
    assert reply.text.startswith("From our FAQ:")  # the persona's own English words


async def test_a_short_message_with_a_telltale_word_keeps_its_own_language(
    offline: Engine,
) -> None:
    await run(offline, say("pouvez-vous réparer la boîte de vitesses de ma moto ?"))
    events = await run(offline, say("ja bitte"))
    handoff = next(e for e in events if isinstance(e, HandoffRequested))
    assert handoff.message.startswith("Ich gebe dieses Gespräch")
