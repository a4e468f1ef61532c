"""`bots forget` names the desk tickets it leaves, and deletes them only when asked."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bots.app.forget_commands import run_forget
from bots.config import Settings
from bots.desks.settings import DeskSettings
from bots.desks.zendesk import ZendeskDesk
from bots.secret import Secret
from bots.store.sqlite import SQLiteStore
from bots.turn.runtime import PersonaRuntime
from tests.fakes import fake_zendesk
from tests.fakes.fake_zendesk import FakeZendesk
from tests.support.desk_rig import desk_bot


@pytest.mark.parametrize("delete", [False, True])
async def test_forget_a_user_with_a_ticket(
    tmp_path: Path,
    cafe_runtime: PersonaRuntime,
    capsys: pytest.CaptureFixture[str],
    delete: bool,
) -> None:
    path = tmp_path / "bots.sqlite3"
    with FakeZendesk() as zendesk:
        store = SQLiteStore(path)
        await store.open()
        desk = ZendeskDesk(zendesk.url, fake_zendesk.EMAIL, Secret(fake_zendesk.TOKEN))
        async with desk_bot(store, cafe_runtime, desk) as bot:
            await bot.say("I want to talk to a human", author="U0ALICE")
            await bot.settle()
            ticket_id = await bot.ticket_id()
        await store.close()
        settings = Settings(
            database_url=f"sqlite:///{path}",
            desks=DeskSettings(
                desk="zendesk",
                url=zendesk.url,
                email=fake_zendesk.EMAIL,
                token=Secret(fake_zendesk.TOKEN),
            ),
        )
        args = argparse.Namespace(conversation=None, user="U0ALICE", delete_desk_tickets=delete)
        assert await run_forget(settings, args) == 0
        said = capsys.readouterr().out
        if delete:
            assert "Deleted 1 help-desk ticket in Zendesk." in said
            assert int(ticket_id) not in zendesk.tickets
        else:
            assert f"still in the desk: zendesk:{ticket_id}" in said
            assert int(ticket_id) in zendesk.tickets
