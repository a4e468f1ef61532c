"""Help-desk faults: every hand-off one ticket, every reply and comment once, nothing lost.

Each conversation goes the whole way through the real engine, store, outbox, relay and desk
client (real httpx) against the fake Zendesk or Chatwoot on 127.0.0.1: a hand-off (one
ticket), an agent's reply (one message in the thread), the user's answer (one comment on the
ticket), solved (one hand-back). Four items per conversation, each counted as delivered
once, twice (a duplicate) or never (lost). Webhooks carry the desk's side; polling, the
documented fallback, runs after them. Back-off is not sat out: the clock is moved on.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bots.desks.chatwoot import ChatwootDesk
from bots.desks.protocol import DeskClient
from bots.desks.zendesk import ZendeskDesk
from bots.knowledge.files import load_knowledge
from bots.knowledge.persona import load_persona
from bots.models import HandoffResolved, IncomingMessage, StaffReply, ThreadKey
from bots.secret import Secret
from bots.store.sqlite import SQLiteStore
from bots.turn.runtime import PersonaRuntime
from tests.fakes import fake_chatwoot, fake_zendesk
from tests.fakes.fake_chatwoot import FakeChatwoot
from tests.fakes.fake_zendesk import FakeZendesk
from tests.support.desk_rig import WEBHOOK_SECRET, Clock, DeskBot, desk_bot
from tests.support.fault_harness import Tally

DATA = Path(__file__).resolve().parent.parent / "data"
DESK_FAULTS = (
    "Zendesk down (503 on 30% of calls)",
    "Zendesk 429 with Retry-After (30%)",
    "Zendesk webhook redelivered (each 3 times)",
    "Zendesk webhook with a bad signature (before each real one)",
    "Zendesk bot restarted mid-run",
    "Chatwoot down (503 on 30% of calls)",
    "Chatwoot webhook redelivered (each 3 times)",
)
SHARE = 0.3
ROUNDS = 40


def _faulty(base: type[Any], status: int, headers: dict[str, str], seed: int) -> Any:
    class Faulty(base):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            super().__init__()
            self.injected = 0
            self._random = random.Random(seed)

        def answer(
            self, method: str, raw_path: str, body: bytes, request: dict[str, str]
        ) -> tuple[int, dict[str, str], bytes]:
            if status and self._random.random() < SHARE:
                self.injected += 1
                return status, headers, b'{"error":"injected"}'
            return super().answer(method, raw_path, body, request)  # type: ignore[no-any-return]

    return Faulty()


def _runtime() -> PersonaRuntime:
    persona = load_persona(DATA / "personas" / "cafe.yaml")
    return PersonaRuntime.build(
        persona, load_knowledge(DATA / "knowledge", persona.knowledge.sets), None
    )


async def desk_scenario(
    name: str, workdir: Path, *, conversations: int, progress: Callable[[str], None]
) -> Tally:
    chatwoot = name.startswith("Chatwoot")
    status = 503 if "down" in name else 429 if "429" in name else 0
    headers = {"Retry-After": "3"} if status == 429 else {}
    fake = _faulty(FakeChatwoot if chatwoot else FakeZendesk, status, headers, seed=11)
    tally = Tally(name)
    path = workdir / f"desk-{abs(hash(name))}.sqlite3"
    path.unlink(missing_ok=True)
    clock = Clock()
    runtime = _runtime()
    keys = [ThreadKey("slack", "T1", "C1", f"17000000{i:02d}.000100") for i in range(conversations)]
    with fake:

        def client() -> DeskClient:
            if chatwoot:
                token = Secret(fake_chatwoot.TOKEN)
                return ChatwootDesk(fake.url, fake_chatwoot.ACCOUNT, fake_chatwoot.INBOX, token)
            return ZendeskDesk(fake.url, fake_zendesk.EMAIL, Secret(fake_zendesk.TOKEN))

        store = SQLiteStore(path)
        await store.open()
        shown: list[Any] = []
        try:
            async with desk_bot(store, runtime, client(), clock) as bot:
                for n, key in enumerate(keys):
                    await _say(bot, key, f"q{n}", "I want to talk to a human please")
                tally.sent += conversations
                await _drain(bot, clock)
                shown += bot.shown
            if "restarted" in name:
                await store.close()
                store = SQLiteStore(path)  # a new process on the same file
                await store.open()
                tally.faults += 1
            async with desk_bot(store, runtime, client(), clock) as bot:
                await _drain(bot, clock)
                tickets = {key: await _tickets(bot, key) for key in keys}
                tally.replies += sum(1 for found in tickets.values() if len(found) == 1)
                tally.duplicates += sum(max(0, len(found) - 1) for found in tickets.values())
                tally.lost += sum(1 for found in tickets.values() if not found)
                for n, key in enumerate(keys):
                    for ticket_id in tickets[key][:1]:
                        _agent_reply(fake, chatwoot, ticket_id, f"agent answer {n}")
                        tally.faults += await _webhooks(bot, fake, chatwoot, ticket_id, name)
                tally.sent += conversations
                await _poll_until_quiet(bot, clock)
                for n, key in enumerate(keys):
                    await _say(bot, key, f"u{n}", f"user follow-up {n}")
                tally.sent += conversations
                await _drain(bot, clock)
                for key in keys:
                    for ticket_id in tickets[key][:1]:
                        _solve(fake, chatwoot, ticket_id)
                        tally.faults += await _webhooks(bot, fake, chatwoot, ticket_id, name)
                tally.sent += conversations
                await _poll_until_quiet(bot, clock)
                shown += bot.shown
                for n, key in enumerate(keys):
                    replies = [e for e in shown if isinstance(e, StaffReply) and e.key == key]
                    resolved = [e for e in shown if isinstance(e, HandoffResolved) and e.key == key]
                    comments = _comments(fake, chatwoot, tickets[key][:1], f"user follow-up {n}")
                    for count in (len(replies), comments, len(resolved)):
                        tally.replies += 1 if count >= 1 else 0
                        tally.duplicates += max(0, count - 1)
                        tally.lost += 1 if count == 0 else 0
        finally:
            await store.close()
        tally.faults += fake.injected
    progress(f"{name}: {tally}")
    return tally


async def _say(bot: DeskBot, key: ThreadKey, message_id: str, text: str) -> None:
    async for _ in bot.engine.handle(IncomingMessage(key, "U1", text, message_id)):
        pass


async def _drain(bot: DeskBot, clock: Clock) -> None:
    """Run the outbox, moving the clock past each back-off, until nothing is pending."""
    await bot.engine.aclose()
    for _ in range(ROUNDS):
        await bot.outbox.run_due()
        if not await bot.store.due_desk_jobs(clock.now.replace(year=clock.now.year + 1)):
            return
        clock.advance(60)


async def _poll_until_quiet(bot: DeskBot, clock: Clock) -> None:
    await asyncio.gather(*bot.relay.tasks)
    for _ in range(ROUNDS // 4):
        await bot.relay.poll()
        clock.advance(60)


async def _tickets(bot: DeskBot, key: ThreadKey) -> list[str]:
    return [t.ticket_id for t in await bot.store.desk_tickets_of(key.as_id())]


def _agent_reply(fake: Any, chatwoot: bool, ticket_id: str, text: str) -> None:
    if chatwoot:
        fake.reply(ticket_id, "Bea", text)
    else:
        fake.reply(ticket_id, fake.agent("Ana"), text)


def _solve(fake: Any, chatwoot: bool, ticket_id: str) -> None:
    (fake.resolve if chatwoot else fake.solve)(ticket_id)


async def _webhooks(bot: DeskBot, fake: Any, chatwoot: bool, ticket_id: str, name: str) -> int:
    """Deliver the change's webhook (3 times when redelivered; after a forged one). The
    injected faults: forged requests refused with 401, and redeliveries."""
    path = "/desks/chatwoot" if chatwoot else "/desks/zendesk"
    headers, body = fake.webhook(ticket_id, WEBHOOK_SECRET)
    faults = 0
    if "bad signature" in name:
        forged, _ = fake.webhook(ticket_id, "forged")
        status, _ = bot.webhooks.handle(path, forged, body)
        assert status == 401, status
        faults += 1
    times = 3 if "redelivered" in name else 1
    for _ in range(times):
        bot.webhooks.handle(path, headers, body)
    await asyncio.gather(*bot.relay.tasks)
    return faults + times - 1


def _comments(fake: Any, chatwoot: bool, tickets: list[str], text: str) -> int:
    count = 0
    for ticket_id in tickets:
        if chatwoot:
            messages = fake.conversations[int(ticket_id)].messages
            count += sum(1 for m in messages if m["content"] == text)
        else:
            comments = fake.tickets[int(ticket_id)].comments
            count += sum(1 for c in comments if text in c["body"])
    return count
