"""The optional signed webhook: each hand-off, and what follows it, to an external help desk."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

import httpx
import tenacity

from bots.errors import ConfigError
from bots.handoff.updates import MESSAGE, HandoffUpdate
from bots.llm.client import parse_retry_after
from bots.models import HandoffRecord
from bots.secret import Secret
from bots.text import neutralise_mentions

log = logging.getLogger(__name__)

EVENT_TYPE = "handoff.requested"
FORMAT_VERSION = 1
"""The payloads' `version`: a field added keeps it; a field changed or removed raises it."""
TIMESTAMP_HEADER = "X-Bots-Timestamp"
SIGNATURE_HEADER = "X-Bots-Signature"
DELIVERY_HEADER = "X-Bots-Delivery"
MAX_WAIT = 60.0
"""No single wait between attempts, `Retry-After` included, is longer than this (seconds)."""
_INITIAL_WAIT = 1.0
_JITTER = 1.0
_TIMESTAMP = re.compile(r"[0-9]{1,15}")


class _Retryable(Exception):
    """A failure worth another attempt; `str()` is the status or exception type, nothing else."""

    def __init__(self, what: str, retry_after: float | None = None) -> None:
        super().__init__(what)
        self.retry_after = retry_after


class _Refused(Exception):
    """The receiver rejected the delivery (a 3xx or 4xx other than 429): retrying cannot help."""


class HandoffWebhook:
    """POSTs each hand-off record as signed JSON to one URL, retrying transient failures.

    Each call to `deliver` is one delivery with its own id (body field `id` and header
    `X-Bots-Delivery`), kept across its retries so receivers can drop duplicates. Every
    attempt carries a fresh `X-Bots-Timestamp` and `X-Bots-Signature` (see `sign` and
    `verify_signature`). Connection errors, timeouts, 429 and 5xx are retried with
    exponential back-off and jitter, or after the `Retry-After` of a 429/503, each wait capped
    at `MAX_WAIT`; other answers are final. With the defaults a delivery can take a few
    minutes, so callers should run it as a background task rather than in the reply path.
    """

    def __init__(
        self,
        url: str,
        secret: Secret,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
        attempts: int = 5,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        parsed = urlsplit(url.strip())
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            # The URL itself is not echoed: help-desk hook URLs often embed a token.
            raise ConfigError("BOTS_HANDOFF_WEBHOOK_URL must be an http:// or https:// address")
        if not secret.reveal():
            raise ConfigError("BOTS_HANDOFF_WEBHOOK_SECRET must not be empty")
        if attempts < 1:
            raise ConfigError(f"webhook attempts must be at least 1, got {attempts}")
        self._url = url.strip()
        self._secret = secret
        self._attempts = attempts
        self._sleep = sleep
        self._clock = clock
        self._http = httpx.AsyncClient(
            transport=transport, timeout=httpx.Timeout(timeout), follow_redirects=False
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def deliver(self, record: HandoffRecord, *, link: str | None = None) -> bool:
        """Send `record`; True once the receiver answered 2xx, False when it never did.

        HTTP and network failures are logged (status or exception type only) and never raised.
        """
        delivery_id = str(uuid.uuid4())
        return await self._send(payload(record, link, delivery_id=delivery_id), delivery_id)

    async def update(self, update: HandoffUpdate) -> None:
        """Send `handoff.claimed`, `handoff.message` or `handoff.resolved` (`update_payload`)."""
        delivery_id = str(uuid.uuid4())
        await self._send(update_payload(update, delivery_id=delivery_id), delivery_id)

    async def _send(self, data: dict[str, object], delivery_id: str) -> bool:
        body = encode(data)
        tried = 0
        try:
            async for attempt in self._retrying():
                with attempt:
                    tried = attempt.retry_state.attempt_number
                    await self._post(body, delivery_id)
        except (_Retryable, _Refused) as exc:
            log.warning(
                "hand-off webhook delivery %s failed after %d attempt(s) (%s)",
                delivery_id,
                tried,
                exc,
            )
            return False
        log.debug("hand-off webhook delivery %s delivered", delivery_id)
        return True

    def _retrying(self) -> tenacity.AsyncRetrying:
        backoff = tenacity.wait_exponential(
            multiplier=_INITIAL_WAIT, max=MAX_WAIT
        ) + tenacity.wait_random(0, _JITTER)

        def wait(state: tenacity.RetryCallState) -> float:
            failure = state.outcome.exception() if state.outcome is not None else None
            hint = failure.retry_after if isinstance(failure, _Retryable) else None
            return min(hint if hint is not None else float(backoff(state)), MAX_WAIT)

        return tenacity.AsyncRetrying(
            sleep=self._sleep,
            stop=tenacity.stop_after_attempt(self._attempts),
            wait=wait,
            retry=tenacity.retry_if_exception_type(_Retryable),
            before_sleep=_log_retry,
            reraise=True,
        )

    async def _post(self, body: bytes, delivery_id: str) -> None:
        timestamp = str(int(self._clock()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "bots-handoff-webhook",
            DELIVERY_HEADER: delivery_id,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self._secret.reveal(), timestamp, body),
        }
        try:
            # Streamed and never read: the receiver's body is of no use and is not logged.
            async with self._http.stream("POST", self._url, content=body, headers=headers) as r:
                status, retry_after = r.status_code, r.headers.get("retry-after")
        except httpx.HTTPError as exc:
            raise _Retryable(type(exc).__name__) from None
        if 200 <= status < 300:
            return
        if status == 429 or status >= 500:
            hint = parse_retry_after(retry_after) if status in (429, 503) else None
            raise _Retryable(f"HTTP {status}", hint)
        raise _Refused(f"HTTP {status}")


def _log_retry(state: tenacity.RetryCallState) -> None:
    wait = state.next_action.sleep if state.next_action else 0.0
    failure = state.outcome.exception() if state.outcome is not None else None
    log.debug(
        "hand-off webhook attempt %d failed (%s); retrying in %.2fs",
        state.attempt_number,
        failure,
        wait,
    )


def payload(
    record: HandoffRecord, link: str | None = None, *, delivery_id: str | None = None
) -> dict[str, object]:
    """The JSON object a receiver gets; `delivery_id` defaults to a fresh uuid4."""
    return {
        "type": EVENT_TYPE,
        "version": FORMAT_VERSION,
        "id": delivery_id or str(uuid.uuid4()),
        "conversation_id": record.conversation_id,
        "platform": record.key.platform,
        "workspace": record.key.workspace,
        "channel": record.key.channel,
        "thread": record.key.thread,
        "persona": record.persona,
        "user_id": record.user_id,
        "reason": record.reason.value,
        "detail": record.detail,
        "summary": list(record.summary),
        "last_messages": [{"from": who, "text": text} for who, text in record.last_messages],
        "requested_at": _utc_iso(record.requested_at),
        "out_of_hours": record.out_of_hours,
        "link": link,
    }


def update_payload(update: HandoffUpdate, *, delivery_id: str | None = None) -> dict[str, object]:
    """The JSON of a later step: `handoff.claimed` / `handoff.resolved` (`by`: who) and
    `handoff.message` (`from`: "user" or "staff", `text`; `origin`: "chat" or the desk)."""
    key = update.conversation.key
    data: dict[str, object] = {
        "type": update.type,
        "version": FORMAT_VERSION,
        "id": delivery_id or str(uuid.uuid4()),
        "conversation_id": update.conversation.id,
        "platform": key.platform,
        "workspace": key.workspace,
        "channel": key.channel,
        "thread": key.thread,
        "persona": update.conversation.persona,
        "at": _utc_iso(update.at),
        "by": update.by or None,
        "origin": update.origin,
    }
    if update.type == MESSAGE:
        data["from"] = update.sender
        data["text"] = neutralise_mentions(update.text)
    return data


def encode(data: dict[str, object]) -> bytes:
    """The exact body bytes that are sent and signed (compact UTF-8 JSON)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The `X-Bots-Signature` value: `sha256=` + hex HMAC-SHA256 of `b"{timestamp}." + body`."""
    message = timestamp.encode("ascii") + b"." + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    now: float,
    tolerance: float = 300,
) -> bool:
    """Check a delivery on the receiving side; True only when it is authentic and fresh.

    Pass the `X-Bots-Timestamp` and `X-Bots-Signature` headers, the raw request body bytes
    exactly as received (not re-serialised JSON), and the current Unix time. Deliveries whose
    timestamp is more than `tolerance` seconds away from `now` are refused, so a captured
    request cannot be replayed later; receivers that must also stop replays within the window
    should remember the `X-Bots-Delivery` ids they have handled. For example::

        ok = verify_signature(
            secret, headers["X-Bots-Timestamp"], raw_body, headers["X-Bots-Signature"],
            now=time.time(),
        )
    """
    timestamp = timestamp.strip()
    if not _TIMESTAMP.fullmatch(timestamp):
        return False
    fresh = abs(now - int(timestamp)) <= tolerance
    expected = sign(secret, timestamp, body).encode("ascii")
    matches = hmac.compare_digest(expected, signature.strip().encode("utf-8", "replace"))
    return fresh and matches


def _utc_iso(when: datetime) -> str:
    """ISO-8601 in UTC with a `Z`; a naive datetime is taken to be UTC already."""
    aware = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return aware.isoformat().replace("+00:00", "Z")
