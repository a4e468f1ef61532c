"""Streaming a reply into Discord by message edits, throttled per channel, honouring 429s.

Discord allows about 5 message writes per 5 seconds in a channel. discord.py already waits
out a 429's `retry_after` and retries (up to its `max_ratelimit_timeout`); what it cannot know
is that most edits of a streamed answer are worth skipping. So while the model writes, at
most one write per `interval` per channel goes out and the rest are dropped (the next write
carries all the text); the final text always goes out, waiting for the channel's turn with
the injected `sleep`. A `RateLimited` error (a wait longer than discord.py will sleep) pushes
the channel's next write back by `retry_after`; so does a 429 discord.py did not retry
(`ratelimits`), once: a second one raises for the adapter, which tells the user.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import discord

from bots.adapters.discord import formatting as fmt
from bots.adapters.discord import ratelimits

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
DEFAULT_INTERVAL = 1.0
"""Seconds between writes in one channel while streaming (Discord: ~5 per 5 s)."""
NO_PINGS = discord.AllowedMentions.none()
FORGET_ABOVE = 1000
"""Channels remembered before those whose turn has already come are forgotten."""


class ChannelThrottle:
    """When each channel may be written to next."""

    def __init__(
        self, clock: Clock, sleep: Sleep = asyncio.sleep, interval: float = DEFAULT_INTERVAL
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._interval = interval
        self._next: dict[int, float] = {}

    def ready(self, channel: int) -> bool:
        return self._clock() >= self._next.get(channel, 0.0)

    async def wait(self, channel: int) -> None:
        delay = self._next.get(channel, 0.0) - self._clock()
        if delay > 0:
            await self._sleep(delay)

    def wrote(self, channel: int) -> None:
        now = self._clock()
        self._next[channel] = max(self._next.get(channel, 0.0), now + self._interval)
        if len(self._next) > FORGET_ABOVE:
            # A channel whose turn has come needs no entry: without this the map holds every
            # thread the bot ever wrote in (the load soak showed it growing).
            self._next = {c: t for c, t in self._next.items() if t > now}

    def __len__(self) -> int:
        """Channels still waiting for their turn (or not yet forgotten)."""
        return len(self._next)

    def back_off(self, channel: int, retry_after: float) -> None:
        self._next[channel] = max(self._next.get(channel, 0.0), self._clock() + retry_after)


@dataclass
class _Shown:
    message: discord.Message
    content: str


class StreamedReply:
    """One answer in one channel: posted at the first text, edited as it grows, split at 2,000."""

    def __init__(
        self,
        channel: discord.abc.Messageable,
        channel_id: int,
        throttle: ChannelThrottle,
        started: Callable[[str], Awaitable[None]] | None = None,
    ):
        """`started` hears the first message's id as soon as it is posted (the engine
        remembers it, so a restart after a crash can mark the half-streamed message)."""
        self._channel = channel
        self._started = started
        self._channel_id = channel_id
        self._throttle = throttle
        self._text = ""
        self._shown: list[_Shown] = []

    @property
    def started(self) -> bool:
        return bool(self._shown)

    @property
    def messages(self) -> list[discord.Message]:
        return [shown.message for shown in self._shown]

    async def add(self, piece: str) -> None:
        """More text from the model: shown now if the channel's turn has come, else later."""
        self._text += piece
        if not self._text.strip():
            return
        pieces = fmt.split_message(fmt.safe_text(self._text))
        for index, content in enumerate(pieces):
            if not self._throttle.ready(self._channel_id):
                return
            if not await self._write(index, content, None, final=False):
                return

    async def finish(self, pieces: Sequence[str], view: discord.ui.View | None) -> None:
        """The authoritative reply: every piece written; extra streamed messages removed."""
        for index, content in enumerate(pieces):
            last = index == len(pieces) - 1
            await self._write(index, content, view if last else None, final=True)
        for stale in self._shown[len(pieces) :]:
            await _quietly(stale.message.delete(), "delete a streamed piece")
        del self._shown[len(pieces) :]

    async def discard(self) -> None:
        """The turn ended without a reply (a person took over): remove what was streamed."""
        for shown in self._shown:
            await _quietly(shown.message.delete(), "delete a streamed piece")
        self._shown.clear()

    async def _write(
        self, index: int, content: str, view: discord.ui.View | None, *, final: bool
    ) -> bool:
        shown = self._shown[index] if index < len(self._shown) else None
        if shown is not None and shown.content == content and view is None:
            return True
        retried_429 = False
        for _attempt in range(3 if final else 1):
            if final:
                await self._throttle.wait(self._channel_id)
            try:
                if shown is None:
                    message = await self._post(content, view)
                    self._shown.append(_Shown(message, content))
                    if index == 0 and not final and self._started is not None:
                        await self._started(str(message.id))
                else:
                    await self._edit(shown.message, content, view)
                    shown.content = content
            except discord.RateLimited as exc:
                self._throttle.back_off(self._channel_id, exc.retry_after)
                continue
            except discord.HTTPException as exc:
                # A 429 discord.py did not retry (`ratelimits`): once, after its wait; an
                # interim edit is skipped meanwhile, as for any other rate limit.
                if retried_429 or not ratelimits.is_rate_limit(exc):
                    raise
                seconds = ratelimits.wait_asked(exc)
                where = f"a reply in channel {self._channel_id}"
                if not ratelimits.note_unretried(exc, seconds, where):
                    raise
                retried_429 = True
                self._throttle.back_off(self._channel_id, seconds)
                if not final:
                    return False
                continue
            finally:
                self._throttle.wrote(self._channel_id)
            return True
        log.warning(
            "discord kept rate limiting channel %s: a reply piece was dropped", self._channel_id
        )
        return False

    @staticmethod
    async def _edit(message: discord.Message, content: str, view: discord.ui.View | None) -> None:
        if view is not None:
            await message.edit(content=content, allowed_mentions=NO_PINGS, view=view)
        else:
            await message.edit(content=content, allowed_mentions=NO_PINGS)

    async def _post(self, content: str, view: discord.ui.View | None) -> discord.Message:
        if view is not None:
            return await self._channel.send(content, allowed_mentions=NO_PINGS, view=view)
        return await self._channel.send(content, allowed_mentions=NO_PINGS)


async def _quietly(call: Awaitable[object], what: str) -> None:
    try:
        await call
    except discord.HTTPException as exc:
        log.info("discord could not %s: %s", what, exc.status)
