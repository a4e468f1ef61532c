"""One answer streaming into a Slack thread, and its final form with sources and buttons.

Where the workspace has them, Slack's streaming methods carry the text
(`chat.startStream` / `appendStream` / `stopStream`, standard Markdown); otherwise the first
words are posted and that message is updated with `chat.update` (Tier 3, ~50 a minute).
Either way pieces are coalesced: one call per message per `interval` at most, and a
`ratelimited` answer pushes the next call back by its `Retry-After`. The first text goes
out at once: that is what the person waits for.

We drive the three streaming methods ourselves rather than through slack_sdk's
`chat_stream` helper: the helper buffers by size (nothing shows until 256 characters have
arrived) while we want the first words at once and later pieces coalesced by time.

A short answer is one `chat.postMessage` (issue 22): the first words wait `first_hold`
seconds for the rest, and an answer complete by then is posted whole (with its sources and
buttons) by the adapter, instead of `chat.startStream` + `chat.stopStream`. A longer one
starts streaming when the hold is over, with everything that arrived meanwhile.

The live message shows at most one message's worth (`PREVIEW_LIMIT`); the final reply is
authoritative (`FinalReply`): the live message becomes its first piece, the other pieces
follow as new messages, and the last carries the sources and the 👍/👎 buttons.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bots.adapters.slack import formatting as fmt
from bots.adapters.slack.api import attempt, report
from bots.adapters.slack.send import Sender
from bots.models import FinalReply, ThreadKey

log = logging.getLogger(__name__)

PREVIEW_LIMIT = fmt.SECTION_LIMIT
"""How much of a growing answer the live message shows; the rest comes with the final."""
STREAM_UNAVAILABLE = frozenset(
    {
        "unknown_method",
        "not_allowed",
        "not_allowed_token_type",
        "method_deprecated",
        "feature_not_enabled",
        "team_not_allowed",
        "not_supported",
    }
)
"""`chat.startStream` errors that mean "not in this workspace": stop trying for the process."""


@dataclass
class StreamSupport:
    """Whether this workspace streams with `chat.startStream`; learnt from its first refusal."""

    available: bool = True


@dataclass
class StreamTiming:
    interval: float = 1.0
    """Seconds between two calls for one message (coalescing what arrived meanwhile)."""
    clock: Callable[[], float] = field(default=time.monotonic)
    first_hold: float = 0.8
    """Seconds the first words wait for the whole answer (0: they go out at once). A model
    writing 30 tokens a second or more finishes a short answer within it; one call then
    carries the answer instead of two or three (measured in benchmarks/floor.py)."""
    working_after: float = 1.5
    """Seconds into a turn before the 👀 reaction shows, if nothing else does (0: at once)."""


class ReplyStream:
    """Text deltas of one reply in, Slack calls out. `finish` or `abandon` ends it."""

    def __init__(
        self,
        sender: Sender,
        key: ThreadKey,
        *,
        recipient: str,
        support: StreamSupport,
        timing: StreamTiming,
        started: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        """`started` hears the live message's ts as soon as Slack gives it (the engine
        remembers it, so a restart after a crash can mark the half-streamed message)."""
        self._send = sender
        self._started = started
        self._key = key
        self._recipient = recipient
        self._support = support
        self._timing = timing
        self._text = ""  # everything that arrived
        self._shown = ""  # what the live message shows (streaming: what was sent)
        self._ts: str | None = None
        self._streaming = False
        self._next_at = 0.0
        self._frozen = False
        self._opener: asyncio.Task[None] | None = None
        self._opening = False

    @property
    def started(self) -> bool:
        return self._ts is not None

    @property
    def under_way(self) -> bool:
        """Whether the answer shows, or its first words are held and will show by the hold's
        end: either way the person needs no 👀 to know the bot is working."""
        return self._ts is not None or self._opener is not None

    async def add(self, delta: str) -> None:
        self._text += delta
        if not self._text.strip():
            return
        if self._ts is None:
            if self._timing.first_hold <= 0 or (self._opener and self._opener.done()):
                await self._open()
            elif self._opener is None:
                self._opener = asyncio.create_task(self._open_after_hold())
            # else: the hold is running; what arrives meanwhile goes out with the first call
        elif not self._frozen and self._timing.clock() >= self._next_at:
            await self._push()

    async def _open_after_hold(self) -> None:
        await asyncio.sleep(self._timing.first_hold)
        self._opening = True
        await self._open()

    async def opened(self) -> bool:
        """Whether a live message shows (waiting for one being opened); a hold still running
        is called off: the caller posts the answer whole."""
        opener = self._opener
        if opener is not None:
            if not self._opening:
                opener.cancel()
            await asyncio.wait([opener])  # `wait`: the opener's cancellation is not ours
            if not opener.cancelled() and opener.exception() is not None:
                problem = type(opener.exception()).__name__
                log.warning("the live Slack message could not be opened (%s)", problem)
        return self.started

    def call_off(self) -> None:
        """The turn is over: a hold still running never opens a message."""
        if self._opener is not None and not self._opening:
            self._opener.cancel()

    async def _open(self) -> None:
        key = self._key
        self._next_at = self._timing.clock() + self._timing.interval
        # Captured before the call: with a hold, more text may arrive while it is made.
        text = self._text
        if self._support.available:
            started = await attempt(
                self._send.client,
                "chat_startStream",
                channel=key.channel,
                thread_ts=key.thread,
                markdown_text=text[:PREVIEW_LIMIT],
                recipient_user_id=self._recipient or None,
                recipient_team_id=key.workspace or None,
            )
            if started.ok and started.data is not None and started.data.get("ts"):
                self._ts, self._streaming = str(started.data["ts"]), True
                self._shown = text[:PREVIEW_LIMIT]
                self._frozen = len(text) > PREVIEW_LIMIT
                await self._tell_started()
                return
            if started.error in STREAM_UNAVAILABLE:
                self._support.available = False
                log.info(
                    "Slack has no chat.startStream here (%s): answers are posted and updated",
                    started.error,
                )
            else:
                report("chat.startStream", started, key.channel)
        text = self._text
        preview, _ = self._preview()
        posted = await self._send.post(
            key.channel, preview, _section(preview), thread_ts=key.thread
        )
        if posted.ok and posted.data is not None:
            self._ts, self._shown = str(posted.data.get("ts")), text
            await self._tell_started()

    async def _tell_started(self) -> None:
        if self._started is not None and self._ts is not None:
            await self._started(self._ts)

    async def _push(self) -> None:
        key, ts = self._key, self._ts
        assert ts is not None
        now = self._timing.clock()
        if self._streaming:
            if len(self._text) > PREVIEW_LIMIT:
                self._frozen = True  # the rest comes with the final reply
                return
            outcome = await self._send.call(
                "chat_appendStream",
                quick=True,
                channel=key.channel,
                ts=ts,
                markdown_text=self._text[len(self._shown) :],
            )
        else:
            # Comparing lengths instead would freeze on a trailing space the preview drops.
            preview, self._frozen = self._preview()
            outcome = await self._send.update(
                key.channel, ts, preview, _section(preview), thread_ts=key.thread, quick=True
            )
        if outcome.ok:
            self._shown = self._text
            self._next_at = now + self._timing.interval
        elif outcome.error == "ratelimited":
            self._frozen = False
            self._next_at = now + max(outcome.retry_after or 1.0, self._timing.interval)

    def _preview(self) -> tuple[str, bool]:
        """What the live message shows, and whether that is cut short of the text so far."""
        pieces = fmt.split_text(fmt.to_mrkdwn(self._text), PREVIEW_LIMIT - 2)
        if not pieces:
            return "…", False
        cut = len(pieces) > 1
        return pieces[0] + (" …" if cut else ""), cut

    async def finish(self, reply: FinalReply, feedback_value: str | None) -> bool:
        """Make the live message the final reply; False if nothing was shown yet."""
        if self._ts is None:
            return False
        key, ts = self._key, self._ts
        messages = fmt.reply_messages(reply.text, reply.citations, feedback_value)
        if self._streaming:
            rest = self._text[len(self._shown) :]
            whole = len(messages) == 1 and self._text.strip() == reply.text.strip()
            extra = messages[0][1][1:] if whole else None
            stopped = await self._send.call(
                "chat_stopStream",
                channel=key.channel,
                ts=ts,
                markdown_text=rest if whole and rest else None,
                blocks=extra or None,
            )
            if whole and stopped.ok:
                return True
        text, blocks = messages[0]
        await self._send.update(key.channel, ts, text, blocks, thread_ts=key.thread)
        for text, blocks in messages[1:]:
            await self._send.post(key.channel, text, blocks, thread_ts=key.thread)
        return True

    async def abandon(self) -> None:
        """No reply after all (a hand-off, or people took the thread): remove the partial one."""
        if not await self.opened():
            return
        if self._streaming:
            await self._send.call("chat_stopStream", channel=self._key.channel, ts=self._ts)
        await self._send.call("chat_delete", channel=self._key.channel, ts=self._ts)
        self._ts = None


async def mark_stale(sender: Sender, key: ThreadKey, ts: str, text: str) -> None:
    """A reply a dead process left half-streamed: stop its stream (if Slack still holds it
    open) and replace its text with `text`, the persona's note that it was cut short."""
    stopped = await attempt(sender.client, "chat_stopStream", channel=key.channel, ts=ts)
    if not stopped.ok:
        # Usually the stream had already ended (Slack closes idle ones): nothing to worry.
        log.info("the stale reply's stream could not be stopped (%s)", stopped.error)
    shown = fmt.to_mrkdwn(text)
    await sender.update(key.channel, ts, shown, _section(shown), thread_ts=key.thread)


def _section(text: str) -> list[fmt.Block]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
