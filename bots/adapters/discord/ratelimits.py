"""The 429s discord.py does not retry: told apart, named in the log, waited out once.

discord.py waits out a 429 and retries only when the response has a `Via` header and a JSON
body; without them it takes the answer for a Cloudflare ban and raises `HTTPException` at
once. A proxy in front of Discord, or Discord itself on a bad day, can send exactly that
shape for an ordinary rate limit, and the reply was dropped with a log line blaming a
deleted thread. Here such a 429 is named for what it is and the call is tried once more
after the wait the response asks for (its `Retry-After` header, else the `retry_after` of
its JSON body). A wait longer than discord.py itself would sit out is not waited: it is a
ban, and the caller tells the user if anything can still reach them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import discord

log = logging.getLogger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]

MAX_WAIT = 30.0
"""Seconds: the longest wait retried (discord.py's own `max_ratelimit_timeout` here)."""
DEFAULT_WAIT = 1.0
"""Seconds to wait when the 429 names no wait at all."""


def is_rate_limit(exc: BaseException) -> bool:
    """A 429 discord.py gave up on (it retries the others itself)."""
    return isinstance(exc, discord.HTTPException) and exc.status == 429


def wait_asked(exc: discord.HTTPException) -> float:
    """The seconds a 429 asks for: its Retry-After header, else its JSON `retry_after`."""
    response = exc.response
    header = response.headers.get("Retry-After", "") if response is not None else ""
    try:
        return max(0.0, float(header))
    except ValueError:
        pass  # absent, or an HTTP date (Discord sends seconds): try the body
    # discord.py read the body and keeps only its "message"; aiohttp keeps the bytes, but
    # its `read()` refuses once the response is released, so they are taken as kept.
    kept = getattr(response, "_body", None)
    if not isinstance(kept, bytes | str):
        return DEFAULT_WAIT
    try:
        return max(0.0, float(json.loads(kept)["retry_after"]))
    except (TypeError, ValueError, KeyError):
        return DEFAULT_WAIT


async def retry_unretried_429(call: Callable[[], Awaitable[T]], sleep: Sleep, where: str) -> T:
    """`call()`; after a 429 discord.py did not retry, wait as asked and call once more.

    A second failure, or a wait over `MAX_WAIT`, raises the `HTTPException` for the caller.
    """
    try:
        return await call()
    except discord.HTTPException as exc:
        if not is_rate_limit(exc):
            raise
        seconds = wait_asked(exc)
        if not note_unretried(exc, seconds, where):
            raise
    await sleep(seconds)
    return await call()


def note_unretried(exc: discord.HTTPException, seconds: float, where: str) -> bool:
    """Log the real cause of a 429 discord.py did not retry; whether to try again."""
    via = "" if exc.response is None else exc.response.headers.get("Via", "")
    shape = "a body that is not JSON" if via else "no Via header"
    if seconds > MAX_WAIT:
        log.warning(
            "discord answered 429 with %s for %s and asks to wait %.0f s: not retried "
            "(a Cloudflare ban looks like this: is this IP making too many invalid requests?)",
            shape,
            where,
            seconds,
        )
        return False
    log.warning(
        "discord answered 429 with %s for %s, which discord.py takes for a Cloudflare ban "
        "and does not retry: trying once more in %.1f s",
        shape,
        where,
        seconds,
    )
    return True
