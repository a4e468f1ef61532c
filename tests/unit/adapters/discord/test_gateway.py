"""A gateway event discord.py cannot parse is skipped with one log line; the bot stays up."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bots.store.sqlite import SQLiteStore
from tests.fakes.fake_discord import interaction, user_message
from tests.support.discord_rig import running_bot
from tests.unit.adapters.discord.test_adapter import ScriptedModel


async def test_an_event_discord_py_cannot_parse_is_skipped_and_the_bot_answers_on(
    tmp_path: Path, store: SQLiteStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with running_bot(tmp_path, store, ScriptedModel("We open at 8 every day.")) as rig:
        broken = interaction(3, {"custom_id": "x", "component_type": 2}, channel="1")
        del broken["token"]  # a field discord.py's Interaction needs
        broken["data"]["secret words of a user"] = "please do not log me"
        await rig.fake.dispatch("INTERACTION_CREATE", broken)
        question = user_message("When do you open on Sundays?")
        await rig.send(question)
        [connection] = rig.tasks
        assert not connection.done(), connection  # connect() still holds the gateway
        assert rig.fake.posts(question["id"])
    skipped = [r for r in caplog.records if r.name == "bots.adapters.discord.gateway"]
    assert [r.levelname for r in skipped] == ["WARNING"]
    line = skipped[0].getMessage()
    assert "INTERACTION_CREATE" in line
    assert "KeyError" in line
    assert "please do not log me" not in caplog.text


async def test_wrapping_twice_wraps_once(tmp_path: Path, store: SQLiteStore) -> None:
    from bots.adapters.discord.gateway import skip_unreadable_events

    async with running_bot(tmp_path, store, None) as rig:
        parsers = rig.bot.client._connection.parsers
        before = dict(parsers)
        skip_unreadable_events(rig.bot.client)
        assert parsers == before
