"""Checking the desks' webhook signatures: Zendesk's and Chatwoot's, each as its docs say.

Zendesk (developer.zendesk.com, "Verifying webhook authenticity"): the headers
`X-Zendesk-Webhook-Signature` and `X-Zendesk-Webhook-Signature-Timestamp`; the signature is
base64(HMAC-SHA256(secret, timestamp + body)), timestamp and raw body joined with nothing.

Chatwoot (its webhook `secret`, in releases that sign): the headers `X-Chatwoot-Signature`
and `X-Chatwoot-Timestamp` (Unix seconds); the signature is `sha256=` and the hex
HMAC-SHA256 of `{timestamp}.{raw body}`, which is exactly the scheme of the bot's own
hand-off webhook, so its checker is reused.

Both refuse a timestamp more than five minutes from now (a captured request cannot be
replayed later), and never raise on what was sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime

from bots.handoff.webhook import verify_signature

TOLERANCE_SECONDS = 300
ZENDESK_SIGNATURE = "X-Zendesk-Webhook-Signature"
ZENDESK_TIMESTAMP = "X-Zendesk-Webhook-Signature-Timestamp"
CHATWOOT_SIGNATURE = "X-Chatwoot-Signature"
CHATWOOT_TIMESTAMP = "X-Chatwoot-Timestamp"


def zendesk_signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def zendesk_signed(secret: str, headers: Mapping[str, str], body: bytes, *, now: float) -> bool:
    timestamp = _header(headers, ZENDESK_TIMESTAMP)
    signature = _header(headers, ZENDESK_SIGNATURE)
    when = _seconds(timestamp)
    if when is None or not signature or abs(now - when) > TOLERANCE_SECONDS:
        return False
    expected = zendesk_signature(secret, timestamp, body).encode("ascii")
    return hmac.compare_digest(expected, signature.encode("utf-8", "replace"))


def chatwoot_signed(secret: str, headers: Mapping[str, str], body: bytes, *, now: float) -> bool:
    timestamp = _header(headers, CHATWOOT_TIMESTAMP)
    signature = _header(headers, CHATWOOT_SIGNATURE)
    if not timestamp or not signature:
        return False
    return verify_signature(
        secret, timestamp, body, signature, now=now, tolerance=TOLERANCE_SECONDS
    )


def _header(headers: Mapping[str, str], name: str) -> str:
    """Header names are case-insensitive; WSGI and test clients spell them differently."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value.strip()
    return ""


def _seconds(timestamp: str) -> float | None:
    """Zendesk's timestamp (ISO 8601, e.g. `2026-12-02T17:30:00Z`; Unix seconds accepted)."""
    if timestamp.isdigit() and len(timestamp) <= 12:
        return float(timestamp)
    try:
        moment = datetime.fromisoformat(timestamp)
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo is not None else None
