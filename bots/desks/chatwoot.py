"""Chatwoot over its Application API: a conversation in an API inbox, agents' replies back.

The calls (developers.chatwoot.com, Application API, header `api_access_token`):
`POST /api/v1/accounts/{account}/contacts` makes the chat user a contact of the inbox (its
answer carries the contact inbox's `source_id`), `POST .../conversations` opens the
conversation, `POST .../conversations/{id}/messages` adds a message, `GET
.../conversations/{id}` reads its status and `GET .../conversations/{id}/messages` its
messages. Written by hand over httpx for the same reason as bots/desks/zendesk.py: there is
no maintained async Python client.

The transcript goes in as messages: the user's as `incoming` (from the contact), the bot's
and the summary as private notes. Only public `outgoing` messages are relayed back to the
chat, and the bot never writes one, so nothing it wrote comes back.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx

from bots.desks.calls import call
from bots.desks.protocol import AgentReply, DeskRefused, Opened, TicketRequest, TicketState
from bots.desks.transcript import describe, line_text
from bots.secret import Secret

OUTGOING = (1, "outgoing")
"""Chatwoot's message_type of an agent's message: a number in the API, a word in webhooks."""


class ChatwootDesk:
    """One Chatwoot account's API inbox at `url` (self-hosted or app.chatwoot.com)."""

    name = "chatwoot"
    label = "Chatwoot"

    def __init__(
        self,
        url: str,
        account_id: str,
        inbox_id: str,
        token: Secret,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 15.0,
    ) -> None:
        self._url = url.rstrip("/")
        self._account = account_id
        self._inbox = inbox_id
        self._http = httpx.AsyncClient(
            base_url=f"{self._url}/api/v1/accounts/{account_id}",
            headers={"api_access_token": token.reveal(), "User-Agent": "bots-desk"},
            transport=transport,
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    def ticket_link(self, ticket_id: str) -> str:
        return f"{self._url}/app/accounts/{self._account}/conversations/{ticket_id}"

    async def create_ticket(
        self, request: TicketRequest, *, key: str, existing: str | None, opened: Opened
    ) -> str:
        """The contact and the conversation (reported to `opened` at once), then the
        transcript, message by message; a later try adds only the messages still missing."""
        ticket_id = existing or await self._open(request, key)
        if existing is None:
            await opened(ticket_id)
        wanted = self._transcript(request)
        listed = await call(self._http, "GET", f"/conversations/{ticket_id}/messages")
        posted = [
            str(m.get("content") or "")
            for m in (listed.get("payload") if isinstance(listed, dict) else None) or []
            if isinstance(m, dict)
        ]
        done = 0
        while done < len(wanted) and done < len(posted) and posted[done] == wanted[done][0]:
            done += 1
        for content, private, incoming in wanted[done:]:
            await self._message(ticket_id, content, private, incoming=incoming)
        if request.tags:
            await call(
                self._http,
                "POST",
                f"/conversations/{ticket_id}/labels",
                body={"labels": list(request.tags)},
            )
        return ticket_id

    async def _open(self, request: TicketRequest, key: str) -> str:
        person = request.requester
        contact: dict[str, Any] = {
            "inbox_id": int(self._inbox) if self._inbox.isdigit() else self._inbox,
            "name": person.name or f"Chat user {person.user_id}",
        }
        if person.email:
            contact["email"] = person.email
        made = await call(self._http, "POST", "/contacts", body=contact)
        payload = made.get("payload") if isinstance(made, dict) else None
        contact_id = _dig(payload, "contact", "id")
        source_id = _dig(payload, "contact_inbox", "source_id")
        if contact_id is None or source_id is None:
            raise DeskRefused("Chatwoot answered without a contact")
        opened = await call(
            self._http,
            "POST",
            "/conversations",
            body={
                "source_id": source_id,
                "inbox_id": contact["inbox_id"],
                "contact_id": contact_id,
                "status": "open",
                "additional_attributes": {"subject": request.subject},
                "custom_attributes": {"bots_conversation": request.conversation_id},
            },
        )
        conversation = _dig(opened, "id")
        if conversation is None:
            raise DeskRefused("Chatwoot answered without a conversation id")
        return str(conversation)

    @staticmethod
    def _transcript(request: TicketRequest) -> list[tuple[str, bool, bool]]:
        """(content, private, incoming) of each message the ticket starts with."""
        head = describe(replace(request, transcript=()))
        messages = [(head.removesuffix("Transcript:\n").strip(), True, False)]
        for line in request.transcript:
            if line.who == "user":
                messages.append((line.text, False, True))
            else:
                messages.append((line_text(line), True, False))
        return messages

    async def add_comment(self, ticket_id: str, who: str, text: str) -> None:
        if who == "user":
            await self._message(ticket_id, text, private=False, incoming=True)
        else:
            await self._message(ticket_id, f"Support team (chat): {text}", private=True)

    async def ticket_state(self, ticket_id: str) -> TicketState:
        shown = await call(self._http, "GET", f"/conversations/{ticket_id}")
        status = str(_dig(shown, "status") or "")
        listed = await call(self._http, "GET", f"/conversations/{ticket_id}/messages")
        messages = listed.get("payload") if isinstance(listed, dict) else None
        replies = tuple(
            AgentReply(
                reply_id=str(message.get("id")),
                author_name=str(_dig(message, "sender", "name") or "Support"),
                text=str(message.get("content") or ""),
            )
            for message in messages or []
            if isinstance(message, dict)
            and message.get("message_type") in OUTGOING
            and not message.get("private")
            and str(message.get("content") or "").strip()
        )
        solved_by = replies[-1].author_name if replies else ""
        return TicketState(replies, status == "resolved", solved_by)

    async def delete_ticket(self, ticket_id: str) -> None:
        await call(self._http, "DELETE", f"/conversations/{ticket_id}")

    async def _message(
        self, ticket_id: str, content: str, private: bool, *, incoming: bool = False
    ) -> None:
        await call(
            self._http,
            "POST",
            f"/conversations/{ticket_id}/messages",
            body={
                "content": content,
                "message_type": "incoming" if incoming else "outgoing",
                "private": private,
            },
        )


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data
