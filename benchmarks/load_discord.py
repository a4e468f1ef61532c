"""The load benchmark through Discord: gateway events to the real discord.py client.

In this process (`discord_platform`), the fake Discord (REST and gateway websocket on
loopback, `tests/fakes/fake_discord.py`) and the bot share the event loop, so memory figures
hold both. With `discord_processes`, the bot runs in N processes of its own (this file run as
a script), each identifying as shard `i` of `n` on one database, as a deployment sets
`DISCORD_SHARD_COUNT`/`DISCORD_SHARD_IDS`. Discord sends a guild's events to one shard; the
fake has a single guild, so the driver sends each conversation to one process (conversation
number modulo `n`), as each would get a share of the guilds. Every reply reaches the one fake
in the driver, which counts replies, duplicates and lost answers as in a one-process run.

`forum`: each conversation starts as a post in a forum channel the bot answers (THREAD_CREATE,
then the starter MESSAGE_CREATE without a mention), and the bot also sets the post's tag.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from load_answers import Answers, TimedModel
from load_memory import MemoryProbe, Probe, memory_served, remote

from bots.store import Store, open_store
from tests.fakes.fake_discord import FORUM_ID, Call, FakeDiscord, user_message
from tests.support.discord_rig import running_bot


class CountingDiscord(FakeDiscord):
    """The fake Discord, feeding `Answers` instead of keeping every call, and remembering
    which gateway connection identified as which shard, to send an event to one."""

    thread_messages: dict[str, list[str]]

    def __post_init__(self) -> None:
        super().__post_init__()
        self.answers = Answers()
        self.thread_messages = {}
        self.shard_sockets: dict[int, Any] = {}
        self.tag_changes = 0

    def _edit_thread(
        self, thread_id: str, body: dict[str, Any]
    ) -> tuple[int, Any, list[tuple[str, dict[str, Any]]]]:
        status, answer, events = super()._edit_thread(thread_id, body)
        self.tag_changes += status == 200 and "applied_tags" in body
        return status, answer, events

    async def _record(self, call: Call) -> None:
        if call.status != 200 or call.method not in ("POST", "PATCH") or not call.body:
            return
        if "/messages" in call.path:
            content = str(call.body.get("content") or "")
            self.answers.shown(content, new_message=call.method == "POST")

    def _post(self, channel: str, body: Any) -> tuple[int, Any, list[tuple[str, dict[str, Any]]]]:
        status, message, events = super()._post(channel, body)
        if status == 200:
            self.thread_messages.setdefault(channel, []).append(message["id"])
        return status, message, events

    async def _identify(self, socket: Any, data: dict[str, Any]) -> None:
        await super()._identify(socket, data)
        shard = data.get("shard") or [0, 1]
        self.shard_sockets[int(shard[0])] = socket

    async def send_to(self, shard: int, event: str, data: dict[str, Any]) -> None:
        """One gateway event to one shard's connection (Discord's routing of a guild)."""
        payload = {"op": 0, "t": event, "s": next(self._seq), "d": data}
        await self.shard_sockets[shard].send_json(payload)

    async def retire(self, thread: str) -> None:
        """Archive a finished conversation's thread and forget its messages."""
        if thread in self.threads:
            await self.dispatch("THREAD_UPDATE", self.archive_thread(thread))
            del self.threads[thread]
        for message_id in self.thread_messages.pop(thread, []):
            self.messages.pop(message_id, None)


class DiscordLoad:
    """Sends the questions as gateway MESSAGE_CREATE; archives a finished conversation."""

    name = "discord"

    def __init__(self, fake: CountingDiscord, shards: int = 0, *, forum: bool = False) -> None:
        self.fake = fake
        self.shards = shards
        self.forum = forum
        """Conversations start as forum posts, not mentions."""
        """Bot processes the conversations are spread over (0: the bot is in this one)."""
        self.processes: list[dict[str, Any]] = []
        """Each bot process's own figures, once it has stopped."""
        self._threads: dict[int, str] = {}

    async def ask(self, c: int, k: int, text: str) -> None:
        author = str(800_000_000_000_000_000 + c)
        if k == 0 and self.forum:
            post, message = self.fake.open_post(f"Question from user{c}", text, author=author)
            self._threads[c] = message["id"]
            await self._send(c, "THREAD_CREATE", post)
        elif k == 0:
            message = user_message(text, author=author, name=f"user{c}")
            self._threads[c] = message["id"]
        else:
            thread = self._threads[c]
            message = user_message(text, channel=thread, author=author, mention_bot=False)
        await self._send(c, "MESSAGE_CREATE", message)

    async def _send(self, c: int, event: str, data: dict[str, Any]) -> None:
        if self.shards:
            await self.fake.send_to(c % self.shards, event, data)
        else:
            await self.fake.dispatch(event, data)

    async def forget(self, c: int) -> None:
        await self.fake.retire(self._threads.pop(c))

    def figures(self) -> dict[str, Any]:
        figures: dict[str, Any] = {"rest_writes": self.fake.answers.writes}
        if self.forum:
            figures["forum_tag_changes"] = self.fake.tag_changes
        if self.processes:
            figures["bot_processes"] = self.processes
        return figures


@asynccontextmanager
async def discord_platform(
    tmp: Path,
    store: Store,
    model: TimedModel,
    answers: Answers,
    edit_interval: float,
    *,
    forum: bool = False,
) -> AsyncIterator[DiscordLoad]:
    """The fake Discord and the bot in this process, until the block ends."""
    fake = CountingDiscord()
    fake.answers = answers
    async with running_bot(
        tmp,
        store,
        model,
        fake=fake,
        real_time=True,
        edit_interval=edit_interval,
        forum_channels=(FORUM_ID,) if forum else (),
    ):
        yield DiscordLoad(fake, forum=forum)


@asynccontextmanager
async def discord_processes(
    count: int,
    store_url: str,
    model: TimedModel,
    answers: Answers,
    edit_interval: float,
    options: list[str],
) -> AsyncIterator[tuple[DiscordLoad, Probe]]:
    """The fake Discord here, the bot in `count` processes (shards) of its own.

    Yields the load and the memory probe of the first bot process (read over HTTP), so
    memory figures are the bot's alone, without the fake Discord.
    """
    fake = CountingDiscord()
    fake.answers = answers
    await fake.start()
    timing = ["--ttft", str(model.ttft), "--chunks", str(model.chunks)]
    timing += ["--chunk-gap", str(model.gap), "--edit-interval", str(edit_interval)]
    bots = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--shard",
            f"{index}/{count}",
            "--serve",
            store_url,
            fake.api_url,
            fake.gateway_url,
            *timing,
            *options,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for index in range(count)
    ]
    try:
        started = []
        for bot in bots:
            assert bot.stdout is not None
            line = await asyncio.wait_for(bot.stdout.readline(), 60)
            if not line.startswith(b"{"):
                raise RuntimeError(f"a bot process did not start (said {line!r})")
            started.append(json.loads(line))
        load = DiscordLoad(fake, shards=count, forum="--forum" in options)
        async with aiohttp.ClientSession() as session:
            yield load, remote(session, started[0]["memory_url"])
        for bot in bots:
            assert bot.stdin is not None
            bot.stdin.close()  # the bot process's signal to finish its work and stop
        for bot in bots:
            out, _ = await asyncio.wait_for(bot.communicate(), 60)
            if bot.returncode != 0:
                raise RuntimeError(f"a bot process exited with {bot.returncode}")
            load.processes.append(json.loads(out.decode().strip().splitlines()[-1]))
    finally:
        for bot in bots:
            if bot.returncode is None:
                bot.kill()
                await bot.wait()
        await fake.close()


@dataclass
class _RemoteDiscord:
    """The driver's fake Discord as a bot process sees it: addresses, nothing to run."""

    api_url: str
    gateway_url: str

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass


async def serve(args: argparse.Namespace) -> None:
    """A bot process: one shard of the bot on the store, serving until stdin closes."""
    probe = MemoryProbe(not args.no_tracemalloc, args.top)
    index, count = (int(part) for part in args.shard.split("/"))
    store_url, api_url, gateway_url = args.serve
    store = open_store(store_url)
    await store.open()
    model = TimedModel(args.ttft, args.chunks, args.chunk_gap)
    remote: Any = _RemoteDiscord(api_url, gateway_url)
    try:
        with tempfile.TemporaryDirectory() as folder:
            async with (
                running_bot(
                    Path(folder),
                    store,
                    model,
                    fake=remote,
                    real_time=True,
                    edit_interval=args.edit_interval,
                    shard_count=count,
                    shard_ids=[index],
                    forum_channels=(FORUM_ID,) if args.forum else (),
                ),
                memory_served(probe) as memory_url,
            ):
                print(json.dumps({"memory_url": memory_url}), flush=True)
                await asyncio.to_thread(sys.stdin.read)
    finally:
        await store.close()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    figures = {
        "shard": index,
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),  # shows each did its share
    }
    print(json.dumps(figures), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="a bot process of benchmarks/load.py")
    parser.add_argument("--shard", required=True, metavar="I/N")
    parser.add_argument("--serve", nargs=3, metavar=("STORE_URL", "API_URL", "GATEWAY_URL"))
    parser.add_argument("--ttft", type=float, required=True)
    parser.add_argument("--chunks", type=int, required=True)
    parser.add_argument("--chunk-gap", type=float, required=True)
    parser.add_argument("--edit-interval", type=float, default=1.0)
    parser.add_argument("--no-tracemalloc", action="store_true")
    parser.add_argument("--top", type=int, default=0)
    parser.add_argument("--forum", action="store_true", help="answer the fake's forum")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
