"""The desks' webhooks as the bot receives them: signature first, then which ticket changed.

`DeskWebhooks.handle(path, headers, body)` answers one POST on `/desks/zendesk` or
`/desks/chatwoot` with a status and a small JSON body; the HTTP server around it (the ops port,
bots/ops/server.py) only carries bytes. A request without a valid, fresh signature gets 401
and one WARNING line that names the desk, never the body or the headers (anyone can send
one). A signed one gets 200 at once and the ticket is synced in the background
(`DeskRelay.nudge`): the desks time out slow receivers and redeliver.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from bots.desks.relay import DeskRelay
from bots.desks.signatures import chatwoot_signed, zendesk_signed
from bots.secret import Secret

log = logging.getLogger(__name__)

PATHS = {"/desks/zendesk": "zendesk", "/desks/chatwoot": "chatwoot"}
_CHECKS = {"zendesk": zendesk_signed, "chatwoot": chatwoot_signed}

Answer = tuple[int, bytes]


class DeskWebhooks:
    """Verifies and routes desk webhooks; `secrets` names each desk's signing secret."""

    def __init__(
        self,
        relay: DeskRelay,
        secrets: Mapping[str, Secret],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._relay = relay
        self._secrets = dict(secrets)
        self._clock = clock

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(path for path, desk in PATHS.items() if desk in self._secrets)

    def handle(self, path: str, headers: Mapping[str, str], body: bytes) -> Answer:
        """Call on the bot's event loop; never raises on what was sent."""
        desk = PATHS.get(path)
        if desk is None or desk not in self._secrets:
            return 404, b'{"error":"not found"}'
        if not _CHECKS[desk](self._secrets[desk].reveal(), headers, body, now=self._clock()):
            log.warning("refused a %s webhook without a valid signature (401)", desk)
            return 401, b'{"error":"invalid signature"}'
        try:
            data = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            data = None
        ticket_id = _ticket_of(desk, data)
        if ticket_id is None:
            log.warning("a signed %s webhook named no ticket; answered 400", desk)
            return 400, b'{"error":"no ticket id in the body"}'
        self._relay.nudge(desk, ticket_id)
        return 200, b'{"ok":true}'


def _ticket_of(desk: str, data: Any) -> str | None:
    if not isinstance(data, dict):
        return None
    if desk == "zendesk":
        # The trigger's body docs/handoff.md gives ({"ticket_id": "{{ticket.id}}"}), or a
        # Zendesk event subscription's ({"type": "zen:event-type:ticket...", "detail": {...}}).
        detail = data.get("detail")
        found = data.get("ticket_id") or (detail.get("id") if isinstance(detail, dict) else None)
    else:
        # message_* events carry their conversation; conversation_* events are one.
        conversation = data.get("conversation")
        event = str(data.get("event") or "")
        found = (
            conversation.get("id")
            if isinstance(conversation, dict)
            else (data.get("id") if event.startswith("conversation_") else None)
        )
    text = str(found).strip() if found is not None else ""
    return text if text.isdigit() else None
