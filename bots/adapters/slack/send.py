"""Sending to Slack: posting and updating messages, re-split when Slack says `msg_too_long`.

Replies are already split within Slack's documented limits (`slack_format.split_text`);
`msg_too_long` can still come back (Slack counts some characters differently than Python
does), so the message is cut in smaller pieces and sent again instead of being lost.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bots.adapters.slack import formatting as fmt
from bots.adapters.slack.api import Outcome, attempt, is_harmless, report
from bots.telemetry import NO_TELEMETRY, Telemetry

_SKIPPED_BEAT = frozenset({"ratelimited", "server_error"})
"""What a quick call (not retried) may meet without a warning: the next one carries its text."""
SMALLEST_PIECE = 500
"""Below this a `msg_too_long` is not the length's fault: the message is given up."""


class Sender:
    """Web API calls that log failures in plain words. `client` retries rate limits;
    `quick` does not, for interim updates that rather skip a beat than wait."""

    def __init__(
        self, client: AsyncWebClient, quick: AsyncWebClient, telemetry: Telemetry = NO_TELEMETRY
    ) -> None:
        self.client = client
        self.quick = quick
        self._telemetry = telemetry

    async def call(self, method: str, *, quick: bool = False, **kwargs: Any) -> Outcome:
        outcome = await attempt(self.quick if quick else self.client, method, **kwargs)
        if not (quick and outcome.error in _SKIPPED_BEAT):
            self._report(method.replace("_", "."), outcome, kwargs.get("channel"))
        return outcome

    def _report(self, method: str, outcome: Outcome, channel: str | None) -> None:
        report(method, outcome, channel)
        if outcome.error is not None and not is_harmless(outcome.error):
            self._telemetry.error("platform", "slack_" + outcome.error.replace(" ", "_"))

    async def post(
        self,
        channel: str,
        text: str,
        blocks: list[fmt.Block] | None = None,
        *,
        thread_ts: str | None = None,
        **extra: Any,
    ) -> Outcome:
        """Post one message; the first Outcome that was posted (or the failure)."""
        outcome = await attempt(
            self.client,
            "chat_postMessage",
            channel=channel,
            thread_ts=thread_ts,
            text=text,
            blocks=blocks,
            unfurl_links=False,
            unfurl_media=False,
            **extra,
        )
        if outcome.error == "msg_too_long" and len(text) > SMALLEST_PIECE:
            first: Outcome | None = None
            for piece, piece_blocks in smaller(text, blocks):
                posted = await self.post(channel, piece, piece_blocks, thread_ts=thread_ts, **extra)
                first = first or posted
            return first or outcome
        self._report("chat.postMessage", outcome, channel)
        return outcome

    async def update(
        self,
        channel: str,
        ts: str,
        text: str,
        blocks: list[fmt.Block] | None,
        *,
        thread_ts: str | None,
        quick: bool = False,
    ) -> Outcome:
        """Replace a message; if Slack finds it too long, the rest goes in follow-ups."""
        client = self.quick if quick else self.client
        outcome = await attempt(
            client, "chat_update", channel=channel, ts=ts, text=text, blocks=blocks
        )
        if outcome.error == "msg_too_long" and not quick and len(text) > SMALLEST_PIECE:
            (head, head_blocks), *rest = smaller(text, blocks)
            outcome = await self.update(channel, ts, head, head_blocks, thread_ts=thread_ts)
            for piece, piece_blocks in rest:
                await self.post(channel, piece, piece_blocks, thread_ts=thread_ts)
            return outcome
        if not (quick and outcome.error in _SKIPPED_BEAT):
            self._report("chat.update", outcome, channel)
        return outcome


def smaller(text: str, blocks: list[fmt.Block] | None) -> list[tuple[str, list[fmt.Block] | None]]:
    """`text` in pieces of about half its length; blocks other than its sections go last."""
    pieces = fmt.split_text(text, max(len(text) // 2, SMALLEST_PIECE // 2))
    if blocks is None:
        return [(piece, None) for piece in pieces]
    tail = [b for b in blocks if b.get("type") != "section"]
    out: list[tuple[str, list[fmt.Block] | None]] = [
        (piece, [{"type": "section", "text": {"type": "mrkdwn", "text": piece}}])
        for piece in pieces
    ]
    last_blocks = out[-1][1]
    assert last_blocks is not None
    last_blocks.extend(tail)
    return out
