"""A fake Zendesk Support account, from its public API docs (developer.zendesk.com).

The Ticketing API calls the bot makes: `POST /api/v2/tickets.json` (201, `{"ticket":
{...}}`), `GET /api/v2/tickets.json?external_id=`, `PUT /api/v2/tickets/{id}.json` with
`{"ticket": {"comment": {...}}}`, `GET /api/v2/tickets/{id}.json`, `GET
/api/v2/tickets/{id}/comments.json?include=users` (comments with `id`, `author_id`, `body`,
`plain_body`, `public`; sideloaded `users`), `DELETE
/api/v2/tickets/{id}.json` (204). Basic auth as `{email}/token:{api_token}`, else 401. A
ticket created without a `requester` is requested by the caller (the API user), as in
Zendesk. Webhooks are signed as Zendesk signs them: base64(HMAC-SHA256(timestamp + body)) in
`X-Zendesk-Webhook-Signature`, the timestamp in `X-Zendesk-Webhook-Signature-Timestamp`.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.fakes.fake_desk_http import FakeDeskServer

EMAIL = "bot@example.com"
TOKEN = "zendesk-api-token"
API_USER = 1


@dataclass
class Ticket:
    id: int
    subject: str
    requester_id: int
    tags: list[str]
    priority: str
    external_id: str
    status: str = "new"
    comments: list[dict[str, Any]] = field(default_factory=list)


class FakeZendesk(FakeDeskServer):
    def __init__(self) -> None:
        super().__init__()
        self.tickets: dict[int, Ticket] = {}
        self.users: dict[int, dict[str, Any]] = {API_USER: {"id": API_USER, "name": "Bot API"}}
        self._next = 100

    def _id(self) -> int:
        self._next += 1
        return self._next

    # -- what agents do in the desk ------------------------------------------------------

    def agent(self, name: str) -> int:
        with self.lock:
            user_id = self._id()
            self.users[user_id] = {"id": user_id, "name": name, "role": "agent"}
            return user_id

    def reply(self, ticket_id: str, agent_id: int, text: str, *, public: bool = True) -> None:
        with self.lock:
            ticket = self.tickets[int(ticket_id)]
            ticket.comments.append(self._comment(agent_id, text, public))
            ticket.status = "open"

    def solve(self, ticket_id: str) -> None:
        with self.lock:
            self.tickets[int(ticket_id)].status = "solved"

    def webhook(
        self, ticket_id: str, secret: str, *, at: datetime | None = None
    ) -> tuple[dict[str, str], bytes]:
        """A trigger's webhook as docs/handoff.md configures it, signed (headers, body)."""
        ticket = self.tickets[int(ticket_id)]
        body = json.dumps({"ticket_id": str(ticket.id), "status": ticket.status}).encode()
        timestamp = (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
        from bots.desks.signatures import zendesk_signature

        return {
            "Content-Type": "application/json",
            "X-Zendesk-Webhook-Signature": zendesk_signature(secret, timestamp, body),
            "X-Zendesk-Webhook-Signature-Timestamp": timestamp,
        }, body

    # -- the API -----------------------------------------------------------------------

    def _comment(self, author: int, body: str, public: bool) -> dict[str, Any]:
        return {
            "id": self._id(),
            "type": "Comment",
            "author_id": author,
            "body": body,
            "plain_body": body,
            "public": public,
            "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    def route(
        self, method: str, path: str, query: dict[str, str], body: Any, headers: dict[str, str]
    ) -> tuple[int, Any]:
        expected = "Basic " + base64.b64encode(f"{EMAIL}/token:{TOKEN}".encode()).decode()
        if headers.get("authorization") != expected:
            return 401, {"error": "Couldn't authenticate you"}
        parts = path.strip("/").split("/")
        if method == "POST" and path == "/api/v2/tickets.json":
            return self._create(body["ticket"])
        if method == "GET" and path == "/api/v2/tickets.json":  # ?external_id= lists by it
            wanted = query.get("external_id")
            listed = [t for t in self.tickets.values() if wanted in (None, t.external_id)]
            return 200, {"tickets": [self._shown(t) for t in listed], "next_page": None}
        if parts[:3] != ["api", "v2", "tickets"] or len(parts) < 4:
            return 404, {"error": "InvalidEndpoint"}
        ticket = self.tickets.get(int(parts[3].removesuffix(".json")))
        if ticket is None:
            return 404, {"error": "RecordNotFound", "description": "Not found"}
        if len(parts) == 5 and parts[4] == "comments.json" and method == "GET":
            authors = {c["author_id"] for c in ticket.comments}
            users = [self.users[a] for a in sorted(authors) if a in self.users]
            return 200, {"comments": ticket.comments, "users": users, "next_page": None}
        if method == "GET":
            return 200, {"ticket": self._shown(ticket)}
        if method == "PUT":
            comment = body["ticket"].get("comment")
            if comment:
                author = int(comment.get("author_id") or API_USER)
                public = bool(comment.get("public", True))
                ticket.comments.append(self._comment(author, comment["body"], public))
            return 200, {"ticket": self._shown(ticket)}
        if method == "DELETE":
            del self.tickets[ticket.id]
            return 204, None
        return 404, {"error": "InvalidEndpoint"}

    def _create(self, data: dict[str, Any]) -> tuple[int, Any]:
        requester = API_USER
        if "requester" in data:
            requester = self._id()
            self.users[requester] = {"id": requester, **data["requester"]}
        ticket = Ticket(
            id=self._id(),
            subject=data.get("subject", ""),
            requester_id=requester,
            tags=list(data.get("tags", [])),
            priority=data.get("priority") or "normal",
            external_id=data.get("external_id") or "",
        )
        comment = data["comment"]
        ticket.comments.append(
            self._comment(API_USER, comment["body"], bool(comment.get("public", True)))
        )
        self.tickets[ticket.id] = ticket
        return 201, {"ticket": self._shown(ticket)}

    @staticmethod
    def _shown(ticket: Ticket) -> dict[str, Any]:
        return {
            "id": ticket.id,
            "subject": ticket.subject,
            "status": ticket.status,
            "requester_id": ticket.requester_id,
            "tags": ticket.tags,
            "priority": ticket.priority,
            "external_id": ticket.external_id,
        }
