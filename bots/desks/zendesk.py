"""Zendesk Support over its REST API (API token auth): tickets, comments, agents' replies.

The calls (developer.zendesk.com, Ticketing API): `POST /api/v2/tickets.json` opens the
ticket, `PUT /api/v2/tickets/{id}.json` with a `comment` adds one, `GET
/api/v2/tickets.json?external_id=` finds one an earlier try made, `GET
/api/v2/tickets/{id}.json` reads its status and requester, `GET
/api/v2/tickets/{id}/comments.json?include=users` its comments with their authors, and
`DELETE /api/v2/tickets/{id}.json` deletes it. Auth is HTTP Basic with `{email}/token` and
the API token. No Zendesk client library is used: the official ones are for other languages,
and the Python ones on PyPI (zenpy) are synchronous; five JSON calls over the project's httpx
are less than an extra thread pool.

What the bot writes is private (internal notes: the transcript, the user's later messages),
so the requester gets no e-mail of their own words and only agents' public comments are
relayed back to the chat: a public comment by anyone but the requester.
"""

from __future__ import annotations

from typing import Any

import httpx

from bots.desks.calls import call
from bots.desks.protocol import AgentReply, DeskRefused, Opened, TicketRequest, TicketState
from bots.desks.transcript import describe
from bots.secret import Secret

SOLVED = ("solved", "closed")
_WHO = {"user": "The user wrote in the chat", "staff": "The support team wrote in the chat"}


class ZendeskDesk:
    """A Zendesk Support account at `url` (`https://{subdomain}.zendesk.com`)."""

    name = "zendesk"
    label = "Zendesk"

    def __init__(
        self,
        url: str,
        email: str,
        token: Secret,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 15.0,
    ) -> None:
        self._url = url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self._url,
            auth=httpx.BasicAuth(f"{email}/token", token.reveal()),
            transport=transport,
            timeout=httpx.Timeout(timeout),
            headers={"User-Agent": "bots-desk"},
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    def ticket_link(self, ticket_id: str) -> str:
        return f"{self._url}/agent/tickets/{ticket_id}"

    async def create_ticket(
        self, request: TicketRequest, *, key: str, existing: str | None, opened: Opened
    ) -> str:
        """One call makes the ticket with its transcript. Its `external_id` is `key`: a try
        whose answer was lost (a timeout after Zendesk made it) is found by it on the next."""
        if existing is not None:
            return existing
        found = await call(self._http, "GET", "/api/v2/tickets.json", params={"external_id": key})
        for ticket_found in _list(found, "tickets"):
            if ticket_found.get("id") is not None:
                await opened(str(ticket_found["id"]))
                return str(ticket_found["id"])
        ticket: dict[str, Any] = {
            "subject": request.subject,
            "comment": {"body": describe(request), "public": False},
            "tags": list(request.tags),
            "priority": request.priority,
            "external_id": key,
        }
        person = request.requester
        if person.email:
            # Zendesk finds the user by e-mail, or creates them with this name.
            ticket["requester"] = {"name": person.name or person.email, "email": person.email}
        created = await call(self._http, "POST", "/api/v2/tickets.json", body={"ticket": ticket})
        ticket_id = _dig(created, "ticket", "id")
        if ticket_id is None:
            raise DeskRefused("Zendesk answered without a ticket id")
        await opened(str(ticket_id))
        return str(ticket_id)

    async def add_comment(self, ticket_id: str, who: str, text: str) -> None:
        comment = {"body": f"{_WHO.get(who, who)}:\n\n{text}", "public": False}
        await call(
            self._http,
            "PUT",
            f"/api/v2/tickets/{ticket_id}.json",
            body={"ticket": {"comment": comment}},
        )

    async def ticket_state(self, ticket_id: str) -> TicketState:
        shown = await call(self._http, "GET", f"/api/v2/tickets/{ticket_id}.json")
        status = str(_dig(shown, "ticket", "status") or "")
        requester = _dig(shown, "ticket", "requester_id")
        listed = await call(
            self._http,
            "GET",
            f"/api/v2/tickets/{ticket_id}/comments.json",
            params={"include": "users", "sort_order": "asc"},
        )
        names = {u.get("id"): str(u.get("name") or "") for u in _list(listed, "users")}
        replies = tuple(
            AgentReply(
                reply_id=str(comment.get("id")),
                author_name=names.get(comment.get("author_id")) or "Support",
                text=str(comment.get("plain_body") or comment.get("body") or ""),
            )
            for comment in _list(listed, "comments")
            if comment.get("public") is True
            and comment.get("author_id") != requester
            and str(comment.get("plain_body") or comment.get("body") or "").strip()
        )
        solved_by = replies[-1].author_name if replies else ""
        return TicketState(replies, status in SOLVED, solved_by)

    async def delete_ticket(self, ticket_id: str) -> None:
        await call(self._http, "DELETE", f"/api/v2/tickets/{ticket_id}.json")


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _list(data: Any, key: str) -> list[dict[str, Any]]:
    found = data.get(key) if isinstance(data, dict) else None
    return [item for item in found or [] if isinstance(item, dict)]
