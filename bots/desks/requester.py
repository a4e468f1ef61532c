"""Who a ticket is for: the chat user's name (and e-mail, when allowed), found at hand-off time.

The platform adapters know how to ask their platform about a user (Slack `users.info`,
Discord's member); the connector asks through `RequesterLookup` when it queues the ticket, so
the name is the one the platform shows then. `requester_for` never fails a hand-off: a lookup
that breaks leaves the user's id only, with a WARNING naming the platform (never the person).

The seam for more sources: an intake form's answers (an e-mail the user typed) are laid over
the lookup's answer with `Requester.with_email`, before the ticket is queued.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bots.models import HandoffRecord, Requester

log = logging.getLogger(__name__)

RequesterLookup = Callable[[HandoffRecord], Awaitable[Requester]]
"""The hand-off's user as their platform describes them."""

IntakeEmail = Callable[[HandoffRecord], Awaitable[str]]
"""An e-mail the user gave the bot themselves (an intake form), or ""."""


async def requester_for(
    record: HandoffRecord,
    lookup: RequesterLookup | None,
    intake_email: IntakeEmail | None = None,
) -> Requester:
    """The requester of `record`'s ticket: the platform's profile, then an intake e-mail."""
    person = Requester(record.user_id)
    if lookup is not None:
        try:
            found = await lookup(record)
        except Exception as error:
            log.warning(
                "could not read the %s user's profile for the desk ticket (%s); using their id",
                record.key.platform,
                type(error).__name__,
            )
        else:
            if found.user_id == record.user_id:
                person = found
    if intake_email is not None:
        person = person.with_email(await intake_email(record))
    return person
