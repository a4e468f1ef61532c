"""Chat-platform fault injection: real conversations through the real Slack and Discord
adapters (slack-bolt, discord.py) against the local fake platforms, with the platform failing;
every message is accounted for. Used by tests/unit/adapters/test_platform_faults.py (small runs) and
benchmarks/faults.py (the table), next to tests/support/fault_harness.py's LLM, store and process
faults, with the same `Tally`. Discord 429s come with and without the `Via` header (without
it, discord.py does not retry; the adapter does, once).

A message is counted from what its thread shows once the bot has finished with it (the
platform's final state, after every update): one bot message with the answer is a reply,
one with something else (a hand-off) an honest notice, none is lost, more than one are
duplicates; the stored history is audited as in fault_harness. Retry-After and back-off
waits go through the adapters' injected sleep and are recorded, not sat out.
"""

from __future__ import annotations

import asyncio
import logging
import random
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bots.llm.client import ChatModel, ChatRequest, Completed, ContentDelta, LLMEvent
from bots.models import ThreadKey, Usage
from bots.store.sqlite import SQLiteStore
from bots.turn.output_guard import LEAK_WORDS
from tests.conftest import RecordingSleep
from tests.support.fault_harness import Progress, Tally, audit_history

ANSWER = (
    "Happy to help with that: our kitchen is open every day from noon until ten, "
    "and the terrace opens when the weather allows."
)
ANSWER_HEAD = "Happy to help with that"
ANSWER_TAIL = "the terrace opens when the weather allows."


class Streamed(ChatModel):
    """The answer in pieces of a few words (so streaming really streams), then complete.

    With `gate`, waits for it once the first words can show (the output guard holds back
    the newest LEAK_WORDS - 1 words while streaming)."""

    def __init__(self, gate: asyncio.Event | None = None) -> None:
        self.calls = 0
        self.gate = gate

    async def stream(self, request: ChatRequest) -> AsyncIterator[LLMEvent]:
        self.calls += 1
        words = ANSWER.split(" ")
        for index, word in enumerate(words):
            if index == LEAK_WORDS + 2 and self.gate is not None:
                await self.gate.wait()
            yield ContentDelta(word if index == 0 else " " + word)
            await asyncio.sleep(0)  # let the other conversations run between pieces
        yield Completed(ANSWER, (), Usage(10, 5), "stop")


@dataclass(frozen=True)
class Delivery:
    """How the platform hands one message to the bot."""

    redeliver: str | None = None
    """None, "at once" (the copy arrives while the first is handled) or "after" (once the
    first was answered, as Slack does when the acknowledgement came late)."""


def count_turn(tally: Tally, new_messages: list[str]) -> bool:
    """Classify what one user message got; True when it got something.

    The whole answer is a reply; a message with only its beginning (an update that never
    came) is an answer cut short without a word of explanation: lost."""
    answers = [m for m in new_messages if ANSWER_HEAD in m]
    if not new_messages or (answers and not any(ANSWER_TAIL in m for m in answers)):
        tally.lost += 1
        return False
    tally.duplicates += len(new_messages) - 1
    if answers:
        tally.replies += 1
    else:
        tally.notices += 1
    return True


# -- Slack -----------------------------------------------------------------------------------

SLACK_FAULTS: dict[str, dict[str, Any]] = {
    "Slack `ratelimited` (429, Retry-After) on chat.postMessage": {
        "streaming": False,
        "methods": {"chat.postMessage"},
        "error": "ratelimited",
        "share": 0.5,
    },
    "Slack `ratelimited` (429, Retry-After) on chat.update": {
        "streaming": False,
        "methods": {"chat.update"},
        "error": "ratelimited",
        "share": 0.5,
    },
    "Slack `ratelimited` (429, Retry-After) on chat.startStream/appendStream/stopStream": {
        "streaming": True,
        "methods": {"chat.startStream", "chat.appendStream", "chat.stopStream"},
        "error": "ratelimited",
        "share": 0.5,
    },
    "Slack Web API 500/502/503 on posting, updating and streaming": {
        "streaming": True,
        "methods": {
            "chat.postMessage",
            "chat.update",
            "chat.startStream",
            "chat.appendStream",
            "chat.stopStream",
        },
        "error": "server error",
        "share": 0.3,
        "statuses": (500, 502, 503),
    },
    "Slack redelivers events (X-Slack-Retry-Num), at once or after the answer": {
        "streaming": True,
        "redeliver": True,
    },
}


async def slack_scenario(
    name: str, workdir: Path, *, conversations: int, turns: int, progress: Progress
) -> Tally:
    """Slack conversations through bolt's real request handling, the fake Slack failing."""
    from tests.unit.adapters.slack.test_adapter import (
        FakeClock,
        copy_slack_persona,
        make_rig,
        mention,
    )

    setup = SLACK_FAULTS[name]
    tally = Tally(name)
    folder = Path(tempfile.mkdtemp(prefix="slack-", dir=workdir))
    persona_dir = copy_slack_persona(folder)
    store = SQLiteStore(folder / "bots.sqlite3")
    await store.open()
    sleep = RecordingSleep()
    try:
        rigs = make_rig(
            persona_dir,
            store,
            Streamed(),
            streaming=bool(setup["streaming"]),
            sleep=sleep,
            clock=FakeClock(step=0.4),  # a stream update every few pieces
        )
        rig = await anext(rigs)
        try:
            if "methods" in setup:
                rig.slack.fail_share(
                    set(setup["methods"]),
                    str(setup["error"]),
                    float(setup["share"]),
                    retry_after=2,
                    statuses=tuple(setup.get("statuses", ())),
                )
            redelivered = 0

            async def deliver(body: dict[str, Any], ts: str, delivery: Delivery) -> None:
                nonlocal redelivered
                ended = _slack_turn_ended(rig.slack, ts)
                if delivery.redeliver == "at once":
                    await asyncio.gather(rig.deliver(body), rig.deliver(body, retry=1))
                    redelivered += 1
                    await ended(2)
                    return
                await rig.deliver(body)
                await ended(1)
                if delivery.redeliver == "after":
                    await rig.deliver(body, retry=1)
                    redelivered += 1
                    await ended(2)

            answered = await _slack_conversations(
                rig.slack,
                tally,
                deliver,
                mention,
                redeliver=bool(setup.get("redeliver")),
                conversations=conversations,
                turns=turns,
                progress=progress,
            )
            tally.faults = rig.slack.injected + redelivered
        finally:
            await rigs.aclose()
        await audit_history(store, answered, tally)
    finally:
        await store.close()
    return tally


async def slack_socket_redelivery_scenario(
    workdir: Path, *, conversations: int, turns: int, progress: Progress
) -> Tally:
    """Socket Mode: every envelope comes twice (the copy with `retry_attempt` 1), half at
    once, half after the answer; through the real slack_sdk socket-mode client."""
    from tests.unit.adapters.slack.test_adapter import (
        FakeClock,
        copy_slack_persona,
        make_rig,
        mention,
    )

    tally = Tally("Slack Socket Mode redelivers envelopes (retry_attempt), at once or after")
    folder = Path(tempfile.mkdtemp(prefix="slack-socket-", dir=workdir))
    persona_dir = copy_slack_persona(folder)
    store = SQLiteStore(folder / "bots.sqlite3")
    await store.open()
    envelopes = iter(range(1, 10**9))
    try:
        rigs = make_rig(persona_dir, store, Streamed(), clock=FakeClock(step=0.4))
        rig = await anext(rigs)
        try:
            connected = asyncio.Event()
            serving = asyncio.create_task(rig.bot.run_socket_mode("xapp-t", ready=connected.set))
            try:
                await asyncio.wait_for(connected.wait(), 10)

                async def send(body: dict[str, Any], retry: int) -> None:
                    number = next(envelopes)
                    await rig.slack.send_envelope(
                        {
                            "envelope_id": f"env-{number}",
                            "type": "events_api",
                            "accepts_response_payload": False,
                            "retry_attempt": retry,
                            "retry_reason": "timeout" if retry else "",
                            "payload": body,
                        }
                    )

                async def deliver(body: dict[str, Any], ts: str, delivery: Delivery) -> None:
                    ended = _slack_turn_ended(rig.slack, ts)
                    if delivery.redeliver == "at once":
                        await send(body, 0)
                        await send(body, 1)
                        await ended(2)
                    else:
                        await send(body, 0)
                        await ended(1)
                        await send(body, 1)
                        await ended(2)
                    tally.faults += 1

                answered = await _slack_conversations(
                    rig.slack,
                    tally,
                    deliver,
                    mention,
                    redeliver=True,
                    conversations=conversations,
                    turns=turns,
                    progress=progress,
                )
            finally:
                serving.cancel()
                await asyncio.gather(serving, return_exceptions=True)
        finally:
            await rigs.aclose()
        await audit_history(store, answered, tally)
    finally:
        await store.close()
    return tally


def _slack_turn_ended(slack: Any, ts: str) -> Callable[[int], Awaitable[Any]]:
    """Waits until the bot finished with message `ts` `n` times: it takes its 👀 reaction
    off last thing, whatever the turn came to."""

    def ended(n: int) -> Awaitable[Any]:
        return slack.wait_for(
            "reactions.remove", lambda p: p.get("timestamp") == ts, count=n, seconds=30
        )

    return ended


async def _slack_conversations(
    slack: Any,
    tally: Tally,
    deliver: Callable[[dict[str, Any], str, Delivery], Awaitable[None]],
    mention: Callable[..., dict[str, Any]],
    *,
    redeliver: bool,
    conversations: int,
    turns: int,
    progress: Progress,
) -> dict[ThreadKey, list[str]]:
    from tests.fakes.fake_slack import TEAM_ID
    from tests.unit.adapters.slack.test_adapter import CHANNEL, text_of

    answered: dict[ThreadKey, list[str]] = {}

    def bot_messages(thread: str) -> list[str]:
        return [text_of(m) for m in slack.shown(CHANNEL, thread) if m.get("bot_id")]

    async def one(n: int) -> None:
        thread = f"1600{n:06d}.000001"
        key = ThreadKey("slack", TEAM_ID, CHANNEL, thread)
        answered[key] = []
        for t in range(turns):
            ts = thread if t == 0 else f"1600{n:06d}.{t + 1:06d}"
            before = len(bot_messages(thread))
            body = mention(ts, f"question {t} of conversation {n}: when do you open?", thread)
            if t == 0:
                body["event"].pop("thread_ts", None)
            how = Delivery(("at once", "after")[(n + t) % 2] if redeliver else None)
            tally.sent += 1
            await deliver(body, ts, how)
            if count_turn(tally, bot_messages(thread)[before:]):
                answered[key].append(ts)
        progress(f"{tally.scenario}: conversation {n + 1}/{conversations} done")

    await asyncio.gather(*(one(n) for n in range(conversations)))
    return answered


# -- Discord ---------------------------------------------------------------------------------

DISCORD_FAULTS = (
    "none",
    "429 on the first post",
    "429 on the thread's creation",
    "429 on an edit",
    "long 429s (45 s, 60 s) on the post and the edit",
    "redelivered while the first post is rate limited",
)


async def discord_scenario(
    workdir: Path, *, conversations: int, turns: int, progress: Progress, seed: int = 7
) -> Tally:
    """Discord conversations through discord.py against the fake Discord; each message meets
    one of DISCORD_FAULTS at random (seeded), as tests/unit/adapters/discord/test_faults.py does
    one by one."""
    from bots.adapters.discord.formatting import thread_key
    from tests.fakes.fake_discord import GENERAL_ID, GUILD_ID, user_message
    from tests.support.discord_rig import running_bot

    tally = Tally("Discord 429s on thread creation, post and edit; redeliveries")
    rng = random.Random(seed)
    folder = Path(tempfile.mkdtemp(prefix="discord-", dir=workdir))
    store = SQLiteStore(folder / "bots.sqlite3")
    await store.open()
    answered: dict[ThreadKey, list[str]] = {}
    try:
        async with running_bot(folder, store, Streamed()) as rig:
            fake = rig.fake

            def bot_messages(thread: str) -> list[str]:
                return [
                    str(m["content"])
                    for m in fake.messages.values()
                    if m["channel_id"] == thread and m["author"]["bot"]
                ]

            async def one(n: int) -> None:
                thread = ""
                for t in range(turns):
                    fault = rng.choice(DISCORD_FAULTS[1:] if t else DISCORD_FAULTS)
                    if t == 0:
                        question = user_message(f"question {t} of {n}: when do you open?")
                        thread = question["id"]
                        key = thread_key(GUILD_ID, thread)
                        answered[key] = []
                    else:
                        question = user_message(f"question {t} of {n}?", channel=thread)
                        if fault == "429 on the thread's creation":
                            fault = "429 on the first post"  # the thread exists already
                    before = len(bot_messages(thread))
                    posts = f"/channels/{thread}/messages"
                    if fault == "429 on the first post":
                        fake.rate_limit_next("POST", posts, retry_after=0.5)
                    elif fault == "429 on the thread's creation":
                        creation = f"/channels/{GENERAL_ID}/messages/{thread}/threads"
                        fake.rate_limit_next("POST", creation, retry_after=0.5)
                    elif fault == "429 on an edit":
                        fake.rate_limit_next("PATCH", posts + "/\\d+", retry_after=0.5)
                    elif fault.startswith("long 429s"):
                        fake.rate_limit_next("POST", posts, retry_after=45.0)
                        fake.rate_limit_next("PATCH", posts + "/\\d+", retry_after=60.0)
                    elif fault.startswith("redelivered"):
                        fake.rate_limit_next("POST", posts, retry_after=0.5)
                    tally.sent += 1
                    tally.faults += fault != "none"
                    await fake.dispatch("MESSAGE_CREATE", question)
                    if fault.startswith("redelivered"):
                        await fake.dispatch("MESSAGE_CREATE", question)
                        await rig.bot.wait_done(question["id"], 30, times=2)
                    else:
                        await rig.bot.wait_done(question["id"], 30)
                    if count_turn(tally, bot_messages(thread)[before:]):
                        answered[key].append(question["id"])
                progress(f"{tally.scenario}: conversation {n + 1}/{conversations} done")

            await asyncio.gather(*(one(n) for n in range(conversations)))
        await audit_history(store, answered, tally)
    finally:
        await store.close()
    return tally


DISCORD_FORUM_FAULTS = (
    "none",
    "429 on the first post",
    "429 on an edit",
    "429 on the tag change",
    "429 without Via on the tag change",
    "starter message redelivered",
    "post redelivered (THREAD_CREATE and the starter again), the first post rate limited",
)


async def discord_forum_scenario(
    workdir: Path, *, conversations: int, turns: int, progress: Progress, seed: int = 11
) -> Tally:
    """Discord forum posts answered in their own threads; each message meets one of
    DISCORD_FORUM_FAULTS at random (seeded). A post whose tag is not `unsolved` at the end
    (the tag change lost) counts as lost, as does any answer not in the history."""
    from bots.adapters.discord.formatting import thread_key
    from tests.fakes.fake_discord import FORUM_ID, GUILD_ID, TAG_UNSOLVED, user_message
    from tests.support.discord_rig import running_bot

    tally = Tally("Discord forum posts: 429s on the post, edit and tag change; redeliveries")
    rng = random.Random(seed)
    folder = Path(tempfile.mkdtemp(prefix="discord-forum-", dir=workdir))
    store = SQLiteStore(folder / "bots.sqlite3")
    await store.open()
    answered: dict[ThreadKey, list[str]] = {}
    untagged = 0
    try:
        async with running_bot(folder, store, Streamed(), forum_channels=(FORUM_ID,)) as rig:
            fake = rig.fake

            def bot_messages(thread: str) -> list[str]:
                return [
                    str(m["content"])
                    for m in fake.messages.values()
                    if m["channel_id"] == thread and m["author"]["bot"]
                ]

            async def one(n: int) -> None:
                nonlocal untagged
                post: dict[str, Any] = {}
                thread = ""
                for t in range(turns):
                    faults = DISCORD_FORUM_FAULTS
                    fault = rng.choice(faults if t == 0 else faults[:3])
                    if t == 0:
                        post, question = fake.open_post(f"post {n}", f"question {t} of {n}?")
                        thread = question["id"]
                        key = thread_key(GUILD_ID, thread)
                        answered[key] = []
                    else:
                        question = user_message(
                            f"question {t} of {n}?", channel=thread, mention_bot=False
                        )
                    before = len(bot_messages(thread))
                    posts = f"/channels/{thread}/messages"
                    if fault == "429 on the first post" or fault.startswith("post redelivered"):
                        fake.rate_limit_next("POST", posts, retry_after=0.5)
                    elif fault == "429 on an edit":
                        fake.rate_limit_next("PATCH", posts + "/\\d+", retry_after=0.5)
                    elif fault == "429 on the tag change":
                        fake.rate_limit_next("PATCH", f"/channels/{thread}", retry_after=0.5)
                    elif fault == "429 without Via on the tag change":
                        fake.rate_limit_next(
                            "PATCH", f"/channels/{thread}", retry_after=0.5, via=False
                        )
                    tally.sent += 1
                    tally.faults += fault != "none"
                    if t == 0:
                        await fake.dispatch("THREAD_CREATE", post)
                    await fake.dispatch("MESSAGE_CREATE", question)
                    if fault.startswith("post redelivered"):
                        await fake.dispatch("THREAD_CREATE", post)
                    if fault.startswith(("starter message redelivered", "post redelivered")):
                        await fake.dispatch("MESSAGE_CREATE", question)
                        await rig.bot.wait_done(question["id"], 30, times=2)
                    else:
                        await rig.bot.wait_done(question["id"], 30)
                    if count_turn(tally, bot_messages(thread)[before:]):
                        answered[key].append(question["id"])
                if fake.threads[thread].get("applied_tags") != [TAG_UNSOLVED]:
                    untagged += 1
                progress(f"{tally.scenario}: post {n + 1}/{conversations} done")

            await asyncio.gather(*(one(n) for n in range(conversations)))
        await audit_history(store, answered, tally)
        tally.lost += untagged
    finally:
        await store.close()
    return tally


DISCORD_NO_VIA_FAULTS = (
    "429 without Via on the first post (Retry-After header)",
    "429 without Via on the thread's creation (retry_after in the body only)",
    "429 without Via on the final edit",
    "429 without Via on every post of the answer and its retry",
)


async def discord_no_via_scenario(
    workdir: Path, *, conversations: int, turns: int, progress: Progress, seed: int = 11
) -> Tally:
    """Every message meets a 429 without the `Via` header (DISCORD_NO_VIA_FAULTS, seeded),
    which discord.py takes for a Cloudflare ban and does not retry: the adapter waits as
    asked and tries once more; when even that is refused, the user gets a notice."""
    from bots.adapters.discord.formatting import thread_key
    from tests.fakes.fake_discord import GENERAL_ID, GUILD_ID, user_message
    from tests.support.discord_rig import running_bot

    tally = Tally("Discord 429s without Via (not retried by discord.py) on post, thread, edit")
    rng = random.Random(seed)
    folder = Path(tempfile.mkdtemp(prefix="discord-no-via-", dir=workdir))
    store = SQLiteStore(folder / "bots.sqlite3")
    await store.open()
    answered: dict[ThreadKey, list[str]] = {}
    try:
        async with running_bot(folder, store, Streamed()) as rig:
            fake = rig.fake

            def bot_messages(thread: str) -> list[str]:
                return [
                    str(m["content"])
                    for m in fake.messages.values()
                    if m["channel_id"] == thread and m["author"]["bot"]
                ]

            async def one(n: int) -> None:
                thread = ""
                for t in range(turns):
                    choices = DISCORD_NO_VIA_FAULTS if t == 0 else DISCORD_NO_VIA_FAULTS[::2]
                    fault = rng.choice(choices)
                    if t == 0:
                        question = user_message(f"question {t} of {n}: when do you open?")
                        thread = question["id"]
                        key = thread_key(GUILD_ID, thread)
                        answered[key] = []
                    else:
                        question = user_message(f"question {t} of {n}?", channel=thread)
                    posts = f"/channels/{thread}/messages"
                    if fault == DISCORD_NO_VIA_FAULTS[0]:
                        fake.rate_limit_next("POST", posts, 1.5, via=False, header=True)
                    elif fault == DISCORD_NO_VIA_FAULTS[1]:
                        creation = f"/channels/{GENERAL_ID}/messages/{thread}/threads"
                        fake.rate_limit_next("POST", creation, 0.5, via=False)
                    elif fault == DISCORD_NO_VIA_FAULTS[2]:
                        fake.rate_limit_next("PATCH", posts + "/\\d+", 1.0, via=False, header=True)
                    else:
                        fake.rate_limit_next("POST", posts, 1.0, times=3, via=False, header=True)
                    before = len(bot_messages(thread))
                    tally.sent += 1
                    tally.faults += 1
                    await fake.dispatch("MESSAGE_CREATE", question)
                    await rig.bot.wait_done(question["id"], 30)
                    if count_turn(tally, bot_messages(thread)[before:]):
                        answered[key].append(question["id"])
                progress(f"{tally.scenario}: conversation {n + 1}/{conversations} done")

            await asyncio.gather(*(one(n) for n in range(conversations)))
        await audit_history(store, answered, tally)
    finally:
        await store.close()
    return tally


async def discord_thread_deleted_scenario(
    workdir: Path, *, conversations: int, progress: Progress
) -> Tally:
    """A moderator deletes the thread while the answer is being written, once per
    conversation. Such an answer has nowhere to go: it is dropped with one WARNING line
    (`Tally.nowhere`); without that line it counts as lost."""
    from tests.fakes.fake_discord import user_message
    from tests.support.discord_rig import running_bot

    tally = Tally("Discord thread deleted mid-answer")
    folder = Path(tempfile.mkdtemp(prefix="discord-deleted-", dir=workdir))
    store = SQLiteStore(folder / "bots.sqlite3")
    await store.open()
    log = logging.getLogger("bots.adapters.discord.adapter")
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    keep = Keep(logging.WARNING)
    log.addHandler(keep)
    try:
        for n in range(conversations):
            gate = asyncio.Event()
            async with running_bot(folder, store, Streamed(gate)) as rig:
                question = user_message(f"question of {n}: when do you open?")
                thread = question["id"]
                tally.sent += 1
                await rig.fake.dispatch("MESSAGE_CREATE", question)
                await rig.fake.wait_for("POST", f"/channels/{thread}/messages")
                await rig.fake.dispatch("THREAD_DELETE", rig.fake.delete_thread(thread))
                tally.faults += 1
                gate.set()
                await rig.bot.wait_done(thread, 30)
                shown = [
                    m
                    for m in rig.fake.messages.values()
                    if m["channel_id"] == thread and m["author"]["bot"]
                ]
                tally.duplicates += max(0, len(shown) - 1)
                if any("dropped" in line for line in lines[tally.nowhere :]):
                    tally.nowhere += 1
                else:
                    tally.lost += 1
            progress(f"{tally.scenario}: {n + 1}/{conversations} done")
    finally:
        log.removeHandler(keep)
        await store.close()
    return tally
