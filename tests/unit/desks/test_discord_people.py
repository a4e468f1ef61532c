"""Discord's requester lookup with the real discord.py client against the fake Discord."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bots.adapters.discord.formatting import DM_WORKSPACE
from bots.adapters.discord.people import DiscordPeople
from bots.desks.requester import requester_for
from bots.models import HandoffReason, HandoffRecord, Requester, ThreadKey
from bots.store.sqlite import SQLiteStore
from tests.fakes.fake_discord import GUILD_ID, USER_ID
from tests.support.discord_rig import running_bot


def record(workspace: str) -> HandoffRecord:
    key = ThreadKey("discord", workspace, "1", "2")
    return HandoffRecord(
        conversation_id=key.as_id(),
        key=key,
        persona="cafe",
        user_id=USER_ID,
        reason=HandoffReason.USER_ASKED,
        detail="",
        summary=(),
        last_messages=(),
        requested_at=datetime(2026, 12, 2, tzinfo=UTC),
    )


async def test_the_server_nickname_then_the_dm_display_name_then_the_id(
    tmp_path: Path, store: SQLiteStore
) -> None:
    async with running_bot(tmp_path, store, None) as rig:
        people = DiscordPeople(rig.bot.client)
        rig.fake.add_member(USER_ID, "alice", nick="Alice from Lisbon")
        assert await people.requester(record(GUILD_ID)) == Requester(USER_ID, "Alice from Lisbon")
        # In a DM there is no server: the user's own display name.
        assert await people.requester(record(DM_WORKSPACE)) == Requester(USER_ID, "alice")
        # A user Discord no longer knows: the hand-off goes on with the id alone.
        rig.fake.members.clear()
        assert await requester_for(record(GUILD_ID), people.requester) == Requester(USER_ID)
