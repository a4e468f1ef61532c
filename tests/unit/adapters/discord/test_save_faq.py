"""Save as FAQ on Discord, end to end through discord.py against the fake Discord: hand-off,
staff answer, resolve, save, pending entry written, checks run, approve, and the next
user's question answered from the new entry. Support role only."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

from bots.adapters.discord.formatting import approve_faq_id, resolve_id, save_faq_id, thread_key
from bots.app.suggestion_check import check_suggestion_set
from bots.knowledge.pending import PendingFaq
from bots.store.sqlite import SQLiteStore
from bots.turn.engine import utc_now
from bots.turn.faq_suggestions import FaqSuggestions
from bots.turn.library import PersonaLibrary
from bots.turn.runtime import PersonaRuntime
from tests.conftest import DATA
from tests.fakes.fake_discord import (
    GUILD_ID,
    ROLE_ID,
    STAFF_ID,
    SUPPORT_ID,
    USER_ID,
    button_click,
    custom_ids,
    user_message,
)
from tests.support.discord_rig import Rig, running_bot
from tests.unit.adapters.discord.test_adapter import contents
from tests.unit.adapters.test_staff_only import refusals

ANSWER = "Yes, gift cards from $25 at the counter; they never expire."


def library_for(tmp_path: Path) -> partial[PersonaLibrary]:
    shutil.copytree(DATA / "knowledge", tmp_path / "knowledge")

    def build(persona_file: Path) -> PersonaLibrary:
        persona_file.with_name("cafe.tests.yaml").write_text(
            "tests:\n  - ask: is there wifi?\n    answer_from: wifi\n", encoding="utf-8"
        )
        library = PersonaLibrary(persona_file.parent, tmp_path / "knowledge", required="cafe")
        library.load()
        return library

    return partial(build)


def faq_for(tmp_path: Path, store: SQLiteStore) -> Any:
    def build(personas: Mapping[str, PersonaRuntime]) -> FaqSuggestions:
        assert isinstance(personas, PersonaLibrary)
        return FaqSuggestions(
            store=store,
            personas=personas,
            default_persona="cafe",
            pending=PendingFaq(tmp_path / "knowledge"),
            clock=utc_now,
            check=partial(check_suggestion_set, personas.personas_dir, personas.knowledge_dir),
            reload=personas.reload,
        )

    return build


def card_of(rig: Rig) -> dict[str, Any]:
    return next(m for m in rig.fake.messages.values() if m["channel_id"] == SUPPORT_ID)


async def answered_and_resolved(rig: Rig) -> str:
    question = user_message("Do you sell gift cards?")
    await rig.send(question)
    thread = question["id"]
    assert "Sorry, I don't know that." in contents(rig.fake.posts(thread))[-1]
    await rig.send(user_message("yes", channel=thread, mention_bot=False))
    staff = user_message(
        ANSWER, channel=thread, author=STAFF_ID, roles=[ROLE_ID], mention_bot=False
    )
    await rig.send(staff)
    key = thread_key(GUILD_ID, thread)
    card = card_of(rig)
    await rig.interact(button_click(resolve_id(key), card, author=STAFF_ID, roles=[ROLE_ID]))
    return thread


async def test_save_as_faq_end_to_end(tmp_path: Path, store: SQLiteStore) -> None:
    async with running_bot(
        tmp_path, store, None, personas_for=library_for(tmp_path), faq=faq_for(tmp_path, store)
    ) as rig:
        thread = await answered_and_resolved(rig)
        key = thread_key(GUILD_ID, thread)
        card = card_of(rig)
        assert custom_ids(card) == [save_faq_id(key)]

        await rig.interact(button_click(save_faq_id(key), card, author=STAFF_ID, roles=[ROLE_ID]))
        replies = [m for m in rig.fake.messages.values() if m["channel_id"] == SUPPORT_ID][1:]
        (result,) = replies
        assert "Saved as the pending FAQ entry `sell-gift-cards`" in result["content"]
        assert "Q: Do you sell gift cards?" in result["content"]
        assert "bots check: all good" in result["content"]
        assert "persona tests for cafe with it approved: 1 passed, 0 failed" in result["content"]
        assert custom_ids(result) == [approve_faq_id(key)]
        # As Discord documents it: an action row (1) holding a green (3) button (2), custom
        # id of at most 100 characters; the reply pings nobody.
        [[button]] = [row["components"] for row in result["components"] if row["type"] == 1]
        assert (button["type"], button["style"], button["label"]) == (2, 3, "Approve")
        assert len(button["custom_id"]) <= 100
        [posted] = [p for p in rig.fake.posts(SUPPORT_ID) if "Saved as" in p["content"]]
        assert posted["allowed_mentions"]["parse"] == []
        assert custom_ids(card_of(rig)) == []  # saved: the Save button is gone
        pending = (tmp_path / "knowledge" / "cafe" / "pending.yaml").read_text(encoding="utf-8")
        assert f"link: https://discord.com/channels/{GUILD_ID}/{thread}" in pending

        second = user_message("do you sell gift cards?")
        await rig.send(second)
        assert "Sorry, I don't know that." in contents(rig.fake.posts(second["id"]))[-1]

        await rig.interact(button_click(approve_faq_id(key), result, author=USER_ID, roles=[]))
        assert refusals(rig)[-1] == "Only the support team can save or approve FAQ entries."
        assert PendingFaq(tmp_path / "knowledge").suggestions()

        await rig.interact(
            button_click(approve_faq_id(key), result, author=STAFF_ID, roles=[ROLE_ID])
        )
        approved = rig.fake.messages[result["id"]]
        assert "Approved: `sell-gift-cards` is now in the cafe FAQ" in approved["content"]
        assert custom_ids(approved) == []
        assert PendingFaq(tmp_path / "knowledge").suggestions() == []

        third = user_message("do you sell gift cards?")
        await rig.send(third)
        assert "gift cards from $25 at the counter" in contents(rig.fake.posts(third["id"]))[-1]


async def test_save_is_for_the_support_role_only(tmp_path: Path, store: SQLiteStore) -> None:
    async with running_bot(
        tmp_path, store, None, personas_for=library_for(tmp_path), faq=faq_for(tmp_path, store)
    ) as rig:
        thread = await answered_and_resolved(rig)
        key = thread_key(GUILD_ID, thread)
        await rig.interact(button_click(save_faq_id(key), card_of(rig), author=USER_ID, roles=[]))
        assert refusals(rig)[-1] == "Only the support team can save or approve FAQ entries."
        assert not (tmp_path / "knowledge" / "cafe" / "pending.yaml").exists()
        assert custom_ids(card_of(rig)) == [save_faq_id(key)]
