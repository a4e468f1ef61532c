"""Gateway events discord.py cannot read: logged by type and skipped, never the end of the bot.

discord.py turns each gateway event into objects in a `parse_<event>` method of its
connection state, called straight from the websocket's read loop. An exception there (an
INTERACTION_CREATE without a field the library expects, after a change on Discord's side)
is none of the errors `Client.connect` reconnects on: it escapes `connect()` and ends
`bots run discord`. The library offers no hook for it (`on_error` covers event handlers,
not parsing), so each parser in `client._connection.parsers` (the very dict the websocket
looks events up in) is wrapped here: an event that fails to parse is logged by its type
and dropped, and the connection carries on with the next one.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import discord

log = logging.getLogger(__name__)

WRAPPED = "_bots_skips_unreadable"
"""Set on a wrapped parser, so wrapping twice is harmless."""

Parser = Callable[[Any], None]


def skip_unreadable_events(client: discord.Client) -> None:
    """Make every gateway event parser of `client` log and skip an event it cannot read."""
    parsers: dict[str, Parser] = client._connection.parsers
    for event, parser in list(parsers.items()):
        if not getattr(parser, WRAPPED, False):
            parsers[event] = _skipping(event, parser)


def _skipping(event: str, parser: Parser) -> Parser:
    @functools.wraps(parser)
    def parse(data: Any) -> None:
        try:
            parser(data)
        except Exception as exc:
            # The type of event and of error only: the payload holds what people wrote.
            log.warning(
                "discord sent a %s event this discord.py version cannot read (%s): skipped",
                event,
                type(exc).__name__,
            )
            log.debug("unreadable %s event", event, exc_info=True)

    setattr(parse, WRAPPED, True)
    return parse
