"""The preview chat runs the real engine, with the configured model, on the persona on screen."""

from __future__ import annotations

from pathlib import Path

from bots.knowledge.persona import load_persona
from bots.llm.client import OpenAIChatClient
from bots.studio.preview import Preview
from tests.fakes.fake_llm import FakeLLMServer, Reply
from tests.unit.studio.rig import copy_folders


async def test_the_preview_asks_the_configured_model_with_the_unsaved_persona(
    tmp_path: Path, llm_server: FakeLLMServer, llm_client: OpenAIChatClient
) -> None:
    personas, knowledge = copy_folders(tmp_path)
    saved = load_persona(personas / "restaurant.yaml")
    on_screen = saved.model_copy(update={"instructions": "You are Captain Olive, a pirate host."})
    llm_server.script(Reply(text="Arr, Sundays we open at 11:00 [hours-sunday]."))
    preview = Preview(knowledge, llm_client)
    await preview.open()
    try:
        answer = await preview.ask(on_screen, "what time do you open on sunday?", "u1", "t1")
    finally:
        await preview.close()
    assert answer.source == "llm"
    assert answer.text.startswith("Arr, Sundays we open at 11:00")
    assert answer.retrieved[0].entry_id == "hours-sunday"
    assert answer.confident
    system = llm_server.requests[0].body["messages"][0]["content"]
    assert "Captain Olive" in system


async def test_without_a_model_the_preview_answers_from_the_faq(tmp_path: Path) -> None:
    personas, knowledge = copy_folders(tmp_path)
    preview = Preview(knowledge, None)
    await preview.open()
    try:
        persona = load_persona(personas / "restaurant.yaml")
        first = await preview.ask(persona, "is there parking?", "u1", "t1")
        second = await preview.ask(persona, "get me a human please", "u1", "t1")
    finally:
        await preview.close()
    assert first.source == "knowledge"
    assert first.retrieved[0].entry_id == "parking"
    assert second.handoff_reason == "a person was asked for"


async def test_a_saved_faq_change_reaches_the_next_preview_answer(tmp_path: Path) -> None:
    personas, knowledge = copy_folders(tmp_path)
    persona = load_persona(personas / "restaurant.yaml")
    preview = Preview(knowledge, None)
    await preview.open()
    try:
        before = await preview.ask(persona, "is there parking?", "u1", "t1")
        faq = knowledge / "restaurant" / "faq.yaml"
        faq.write_text(faq.read_text(encoding="utf-8").replace("Mill Street", "Dock Road"), "utf-8")
        after = await preview.ask(persona, "is there parking?", "u1", "t2")
    finally:
        await preview.close()
    assert "Mill Street" in before.text
    assert "Dock Road" in after.text
