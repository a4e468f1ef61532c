"""One desk API call over httpx, its failures sorted into "try again later" and "refused"."""

from __future__ import annotations

import json
from typing import Any

import httpx

from bots.desks.protocol import DeskRefused, DeskUnavailable
from bots.llm.client import parse_retry_after


async def call(
    http: httpx.AsyncClient,
    method: str,
    path: str,
    *,
    body: dict[str, Any] | None = None,
    params: dict[str, str] | None = None,
) -> Any:
    """The decoded JSON answer (None for an empty one).

    Connection errors, timeouts, 429 and 5xx raise `DeskUnavailable` (with the `Retry-After`
    of a 429/503); any other non-2xx raises `DeskRefused`. Neither carries the answer's body
    or the request's URL: they go to logs, and desks echo what was sent.
    """
    try:
        answer = await http.request(method, path, json=body, params=params)
    except httpx.HTTPError as exc:
        raise DeskUnavailable(type(exc).__name__) from None
    status = answer.status_code
    if status == 429 or status >= 500:
        hint = answer.headers.get("retry-after") if status in (429, 503) else None
        raise DeskUnavailable(f"HTTP {status}", parse_retry_after(hint))
    if not 200 <= status < 300:
        raise DeskRefused(f"HTTP {status} on {method} {_shape(path)}")
    if not answer.content:
        return None
    try:
        return answer.json()
    except json.JSONDecodeError:
        raise DeskRefused(f"HTTP {status} with a body that is not JSON") from None


def _shape(path: str) -> str:
    """The path with its ids blanked, so logs say which call without naming a ticket."""
    return "/".join("…" if part.split(".")[0].isdigit() else part for part in path.split("/"))
