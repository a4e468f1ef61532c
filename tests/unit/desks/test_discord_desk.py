"""End to end on Discord: the real discord.py adapter, the fake Discord, a fake Chatwoot.

hand-off -> conversation with the transcript -> the agent's reply appears in the thread ->
the user replies -> a message in Chatwoot -> resolved -> the thread is resolved -> the bot
answers again.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from bots.adapters.discord.formatting import thread_link
from bots.desks.chatwoot import ChatwootDesk
from bots.desks.connector import DeskConnector
from bots.desks.outbox import DeskOutbox
from bots.desks.receiver import DeskWebhooks
from bots.desks.relay import DeskRelay
from bots.models import EngineEvent, thread_of
from bots.secret import Secret
from bots.store.sqlite import SQLiteStore
from tests.fakes import fake_chatwoot
from tests.fakes.fake_chatwoot import FakeChatwoot
from tests.fakes.fake_discord import GUILD_ID, SUPPORT_ID, user_message
from tests.support.discord_rig import running_bot
from tests.unit.adapters.discord.test_adapter import ScriptedModel, contents

HOOK_SECRET = "chatwoot-hook-secret"


def now() -> datetime:
    return datetime.now(UTC)


async def test_a_chatwoot_round_trip_on_discord(tmp_path: Path, store: SQLiteStore) -> None:
    with FakeChatwoot() as chatwoot:
        desk = ChatwootDesk(
            chatwoot.url, fake_chatwoot.ACCOUNT, fake_chatwoot.INBOX, Secret(fake_chatwoot.TOKEN)
        )
        outbox = DeskOutbox(store, {"chatwoot": desk}, now)
        connector = DeskConnector(desk, store, outbox)
        async with running_bot(
            tmp_path,
            store,
            ScriptedModel("The bot again.", parts=1),
            handoff_sinks=[connector],
            link_for=thread_link,
        ) as rig:
            relay = DeskRelay(store, rig.engine, {"chatwoot": desk}, now)
            webhooks = DeskWebhooks(relay, {"chatwoot": Secret(HOOK_SECRET)})

            async def show(event: EngineEvent) -> None:  # as bots/app/wiring.py attach_desk
                key = thread_of(event)
                if key is not None:
                    await rig.bot.render(event, key)

            relay.attach(show)
            question = user_message("Can I talk to a human please?")
            await rig.send(question)
            thread = question["id"]
            [card] = rig.fake.posts(SUPPORT_ID)
            assert "Chatwoot ticket: pending" in card["embeds"][0]["description"]
            await rig.engine.aclose()
            await outbox.run_due()
            [conversation] = chatwoot.conversations.values()
            assert f"/channels/{GUILD_ID}/{thread}" in conversation.messages[0]["content"]
            assert conversation.messages[1]["content"] == "Can I talk to a human please?"

            chatwoot.reply(str(conversation.id), "Bea", "Hi, Bea here. How can I help?")
            headers, body = chatwoot.webhook(str(conversation.id), HOOK_SECRET)
            assert webhooks.handle("/desks/chatwoot", headers, body)[0] == 200
            await asyncio.gather(*relay.tasks)
            assert contents(rig.fake.posts(thread))[-1] == (
                "**Bea** (Chatwoot):\nHi, Bea here. How can I help?"
            )

            before = len(rig.fake.posts(thread))
            await rig.send(
                user_message("My table is booked twice", channel=thread, mention_bot=False)
            )
            assert len(rig.fake.posts(thread)) == before  # the bot is silent
            await rig.engine.aclose()
            await outbox.run_due()
            assert conversation.messages[-1]["content"] == "My table is booked twice"

            chatwoot.resolve(str(conversation.id))
            headers, body = chatwoot.webhook(
                str(conversation.id), HOOK_SECRET, event="conversation_status_changed"
            )
            webhooks.handle("/desks/chatwoot", headers, body)
            await asyncio.gather(*relay.tasks)
            edits = [str(e.body) for e in rig.fake.edits(SUPPORT_ID)]
            assert any("Resolved by Bea (Chatwoot)" in e for e in edits), edits

            await rig.send(user_message("and now?", channel=thread, mention_bot=False))
            assert contents(rig.fake.posts(thread))[-1] == "The bot again."
        await desk.aclose()
