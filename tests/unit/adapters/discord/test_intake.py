"""The intake form on Discord through the real client: the button, the MODAL response (type 9),
the MODAL_SUBMIT interaction (type 5), the answers in the store and the support channel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bots.adapters.discord.formatting import thread_key
from bots.models import IntakeAnswer
from bots.store.sqlite import SQLiteStore
from tests.fakes.fake_discord import (
    GUILD_ID,
    SUPPORT_ID,
    USER_ID,
    bot_user,
    button_click,
    custom_ids,
    message_payload,
    modal_submit,
    snowflake,
    user_message,
)
from tests.support.discord_rig import Rig, running_bot
from tests.unit.adapters.discord.test_adapter import ScriptedModel

CALLBACK = r"/interactions/\d+/[^/]+/callback"
INTAKE = {
    "intake": {
        "fields": [
            {"id": "email", "label": "Your e-mail", "kind": "email", "required": True},
            {"id": "topic", "label": "Topic", "kind": "choice", "options": ["Booking", "Other"]},
        ]
    }
}


async def told_with_button(rig: Rig) -> tuple[str, dict[str, Any]]:
    question = user_message("Can I talk to a human please?")
    await rig.send(question)
    thread = question["id"]
    told = next(
        m for m in rig.fake.messages.values() if m["channel_id"] == thread and m.get("components")
    )
    return thread, told


async def open_modal(rig: Rig) -> tuple[str, dict[str, Any]]:
    thread, told = await told_with_button(rig)
    (button,) = custom_ids(told)
    assert button == f"bots:intake:{GUILD_ID}:{thread}:{USER_ID}"
    await rig.interact(button_click(button, told))
    (callback,) = rig.fake.made("POST", CALLBACK)
    assert callback.body["type"] == 9  # MODAL
    (modal,) = rig.fake.modals
    return thread, modal


async def test_the_asker_opens_the_modal_with_the_personas_fields(
    tmp_path: Path, store: SQLiteStore
) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("x"), persona_changes=INTAKE) as rig:
        _, modal = await open_modal(rig)
        inputs = [row["components"][0] for row in modal["components"]]
        assert [i["custom_id"] for i in inputs] == ["email", "topic"]
        assert [i["label"] for i in inputs] == ["Your e-mail", "Topic"]
        assert inputs[1]["placeholder"] == "Booking / Other"
        assert [i["required"] for i in inputs] == [True, False]


async def test_someone_else_gets_a_private_no(tmp_path: Path, store: SQLiteStore) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("x"), persona_changes=INTAKE) as rig:
        _, told = await told_with_button(rig)
        (button,) = custom_ids(told)
        await rig.interact(button_click(button, told, author="999000111"))
        (callback,) = rig.fake.made("POST", CALLBACK)
        assert callback.body["type"] == 4
        assert callback.body["data"]["flags"] & 64  # ephemeral
        assert rig.fake.modals == []


async def test_answers_are_checked_kept_and_posted_to_the_team(
    tmp_path: Path, store: SQLiteStore
) -> None:
    async with running_bot(tmp_path, store, ScriptedModel("x"), persona_changes=INTAKE) as rig:
        thread, modal = await open_modal(rig)
        key = thread_key(GUILD_ID, thread)

        wrong = modal_submit(
            modal["custom_id"], {"email": "nope", "topic": "Pizza"}, channel=thread
        )
        await rig.interact(wrong)
        refusal = rig.fake.made("POST", CALLBACK)[-1].body
        assert refusal["type"] == 4
        assert refusal["data"]["flags"] & 64
        assert "Your e-mail" in refusal["data"]["content"]
        assert "Topic" in refusal["data"]["content"]
        conversation = await store.get_conversation(key)
        assert conversation is not None
        assert await store.intake_of(conversation.id) == ()

        # The button again reopens the modal with what was typed: nothing is lost.
        (again,) = [
            c["custom_id"] for row in refusal["data"]["components"] for c in row["components"]
        ]
        ephemeral = message_payload(snowflake(), thread, refusal["data"], bot_user())
        await rig.interact(button_click(again, ephemeral))
        reopened = rig.fake.modals[-1]
        assert [r["components"][0].get("value") for r in reopened["components"]] == [
            "nope",
            "Pizza",
        ]

        good = modal_submit(
            modal["custom_id"], {"email": "ann@example.com", "topic": "Booking"}, channel=thread
        )
        await rig.interact(good)
        assert await store.intake_of(conversation.id) == (
            IntakeAnswer("email", "Your e-mail", "ann@example.com"),
            IntakeAnswer("topic", "Topic", "Booking"),
        )
        details = rig.fake.posts(SUPPORT_ID)[-1]
        assert "Your e-mail: ann@example.com" in details["content"]
        assert details["allowed_mentions"]["parse"] == []
        thanks = rig.fake.made("POST", CALLBACK)[-1].body
        assert "Thanks, the team has your details." in thanks["data"]["content"]
