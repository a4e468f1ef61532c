"""benchmarks/load.py with several bot processes: each a shard of its own on one database.

The load driver keeps the fake Discord (and its counting) in its own process; each bot
process runs the real discord.py client, engine and store against it, identified as shard
`i` of `n` (`DISCORD_SHARD_COUNT`/`DISCORD_SHARD_IDS` in a deployment). Discord sends a
guild's events to one shard; the fake has a single guild, so the driver sends each
conversation's messages to one process (conversation number modulo `n`) instead: each
process gets a share of the conversations, as each would get a share of the guilds. Their
replies all reach the one fake, which counts replies, duplicates and lost answers as in a
single-process run.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bots.llm import ChatModel
from bots.store import Store, open_store
from tests.discord_rig import running_bot
from tests.fakes.fake_discord import FakeDiscord

SCRIPT = Path(__file__).resolve().parent / "load.py"


class ShardedDiscord(FakeDiscord):
    """Remembers which gateway connection identified as which shard, to send to one."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.shard_sockets: dict[int, Any] = {}

    async def _identify(self, socket: Any, data: dict[str, Any]) -> None:
        await super()._identify(socket, data)
        shard = data.get("shard") or [0, 1]
        self.shard_sockets[int(shard[0])] = socket

    async def send_to(self, shard: int, event: str, data: dict[str, Any]) -> None:
        """One gateway event to one shard's connection (Discord's routing of a guild)."""
        payload = {"op": 0, "t": event, "s": next(self._seq), "d": data}
        await self.shard_sockets[shard].send_json(payload)


@dataclass
class RemoteDiscord:
    """The driver's fake Discord as a bot process sees it: addresses, nothing to run."""

    api_url: str
    gateway_url: str

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass


@dataclass
class BotProcesses:
    children: list[asyncio.subprocess.Process]

    async def stop(self) -> list[dict[str, Any]]:
        """Tell each process to close; their reports (peak RSS), once all have exited."""
        reports = []
        for child in self.children:
            assert child.stdin is not None
            child.stdin.write(b"stop\n")
            await child.stdin.drain()
        for child in self.children:
            out, _ = await asyncio.wait_for(child.communicate(), 60)
            if child.returncode != 0:
                raise RuntimeError(f"a bot process exited with {child.returncode}")
            reports.append(json.loads(out.decode().strip().splitlines()[-1]))
        return reports

    async def kill(self) -> None:
        """End processes still running (a run that failed before `stop`)."""
        for child in self.children:
            if child.returncode is None:
                child.kill()
                await child.wait()


async def start_bot_processes(
    count: int, fake: FakeDiscord, database_url: str, model_arguments: list[str]
) -> BotProcesses:
    """`count` bot processes (shards 0..count-1) on `database_url`, once all are connected."""
    children = []
    for index in range(count):
        children.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                str(SCRIPT),
                "--bot-process",
                f"{index}/{count}",
                "--database-url",
                database_url,
                "--fake-discord",
                f"{fake.api_url} {fake.gateway_url}",
                *model_arguments,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
        )
    processes = BotProcesses(children)
    for child in children:
        assert child.stdout is not None
        line = await asyncio.wait_for(child.stdout.readline(), 60)
        if line.strip() != b"ready":
            raise RuntimeError(f"a bot process did not start (said {line!r})")
    return processes


async def bot_process(
    shard: str, database_url: str, fake_discord: str, model: ChatModel, edit_interval: float
) -> None:
    """One bot process (the hidden `--bot-process i/n` of load.py): serve until told to stop."""
    index, count = (int(part) for part in shard.split("/"))
    api_url, gateway_url = fake_discord.split()
    store = open_store(database_url)
    await store.open()
    try:
        remote: Any = RemoteDiscord(api_url, gateway_url)
        with tempfile.TemporaryDirectory() as folder:
            await serve(Path(folder), store, remote, model, edit_interval, index, count)
    finally:
        await store.close()
    used = resource.getrusage(resource.RUSAGE_SELF)
    report = {
        "shard": index,
        "peak_rss_mib": round(used.ru_maxrss / 1024, 1),
        "cpu_seconds": round(used.ru_utime + used.ru_stime, 1),  # shows each did its share
    }
    print(json.dumps(report), flush=True)


async def serve(
    folder: Path,
    store: Store,
    remote: Any,
    model: ChatModel,
    edit_interval: float,
    index: int,
    count: int,
) -> None:
    async with running_bot(
        folder,
        store,
        model,
        fake=remote,
        real_time=True,
        edit_interval=edit_interval,
        shard_count=count,
        shard_ids=[index],
    ):
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
