"""A fake Chatwoot account with an API inbox, from its public docs (developers.chatwoot.com).

The Application API calls the bot makes, under `/api/v1/accounts/{account_id}` with the
`api_access_token` header (else 401): `POST /contacts` (`{"payload": {"contact": {...},
"contact_inbox": {"source_id": ...}}}`), `POST /conversations` (the conversation, with `id`),
`POST /conversations/{id}/messages` (`content`, `message_type` incoming|outgoing, `private`),
`POST /conversations/{id}/labels`, `GET /conversations/{id}` (with `status`), `GET
/conversations/{id}/messages` (`{"payload": [...]}`, `message_type` as a number: 0 incoming, 1
outgoing), `DELETE /conversations/{id}`. Webhooks are signed as Chatwoot signs them:
`X-Chatwoot-Signature: sha256=<hex HMAC-SHA256 of "{timestamp}.{body}">`,
`X-Chatwoot-Timestamp`, `X-Chatwoot-Delivery`.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from bots.handoff.webhook import sign
from tests.fakes.fake_desk_http import FakeDeskServer

ACCOUNT = "7"
INBOX = "3"
TOKEN = "chatwoot-access-token"
API_USER = {"id": 1, "name": "Bot API", "type": "user"}
_TYPES = {"incoming": 0, "outgoing": 1}


@dataclass
class Conversation:
    id: int
    contact_id: int
    status: str = "open"
    messages: list[dict[str, Any]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)


class FakeChatwoot(FakeDeskServer):
    def __init__(self) -> None:
        super().__init__()
        self.contacts: dict[int, dict[str, Any]] = {}
        self.conversations: dict[int, Conversation] = {}
        self._next = 500

    def _id(self) -> int:
        self._next += 1
        return self._next

    # -- what agents do in the desk ------------------------------------------------------

    def reply(self, conversation_id: str, agent: str, text: str, *, private: bool = False) -> None:
        with self.lock:
            conversation = self.conversations[int(conversation_id)]
            sender = {"id": 9, "name": agent, "type": "user"}
            conversation.messages.append(self._message(text, 1, private, sender))

    def resolve(self, conversation_id: str) -> None:
        with self.lock:
            self.conversations[int(conversation_id)].status = "resolved"

    def webhook(
        self, conversation_id: str, secret: str, *, event: str = "message_created"
    ) -> tuple[dict[str, str], bytes]:
        """The webhook for the conversation's newest change, signed (headers, body)."""
        conversation = self.conversations[int(conversation_id)]
        if event == "message_created":
            newest = conversation.messages[-1]
            data = {
                "event": event,
                **{**newest, "message_type": "outgoing" if newest["message_type"] else "incoming"},
                "conversation": {"id": conversation.id, "status": conversation.status},
                "account": {"id": int(ACCOUNT)},
            }
        else:
            data = {"event": event, "id": conversation.id, "status": conversation.status}
        body = json.dumps(data).encode()
        timestamp = str(int(time.time()))
        return {
            "Content-Type": "application/json",
            "X-Chatwoot-Signature": sign(secret, timestamp, body),
            "X-Chatwoot-Timestamp": timestamp,
            "X-Chatwoot-Delivery": str(uuid.uuid4()),
        }, body

    # -- the API -----------------------------------------------------------------------

    def _message(
        self, content: str, kind: int, private: bool, sender: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "id": self._id(),
            "content": content,
            "message_type": kind,
            "private": private,
            "sender": sender,
            "created_at": int(time.time()),
        }

    def route(
        self, method: str, path: str, query: dict[str, str], body: Any, headers: dict[str, str]
    ) -> tuple[int, Any]:
        if headers.get("api_access_token") != TOKEN:
            return 401, {"error": "You need to sign in or sign up before continuing."}
        prefix = f"/api/v1/accounts/{ACCOUNT}/"
        if not path.startswith(prefix):
            return 404, {"error": "not found"}
        parts = path.removeprefix(prefix).split("/")
        if parts == ["contacts"] and method == "POST":
            if str(body.get("inbox_id")) != INBOX:
                return 422, {"message": "Inbox not found"}
            contact_id = self._id()
            self.contacts[contact_id] = {"id": contact_id, **body}
            source = str(uuid.uuid4())
            return 200, {
                "payload": {
                    "contact": self.contacts[contact_id],
                    "contact_inbox": {"inbox": {"id": int(INBOX)}, "source_id": source},
                }
            }
        if parts == ["conversations"] and method == "POST":
            if int(body["contact_id"]) not in self.contacts or not body.get("source_id"):
                return 422, {"message": "Contact not found"}
            conversation = Conversation(self._id(), int(body["contact_id"]))
            conversation.status = body.get("status") or "open"
            conversation.attributes = dict(body.get("custom_attributes") or {})
            self.conversations[conversation.id] = conversation
            return 200, {"id": conversation.id, "status": conversation.status}
        if parts[0] != "conversations" or len(parts) < 2 or not parts[1].isdigit():
            return 404, {"error": "not found"}
        conversation = self.conversations.get(int(parts[1]))
        if conversation is None:
            return 404, {"error": "Resource could not be found"}
        if len(parts) == 2 and method == "GET":
            return 200, {"id": conversation.id, "status": conversation.status}
        if len(parts) == 2 and method == "DELETE":
            del self.conversations[conversation.id]
            return 200, None
        if parts[2:] == ["messages"] and method == "GET":
            return 200, {"meta": {}, "payload": conversation.messages}
        if parts[2:] == ["messages"] and method == "POST":
            kind = _TYPES.get(body.get("message_type") or "outgoing", 1)
            contact = {"id": conversation.contact_id, "type": "contact"}
            sender = contact if kind == 0 else API_USER
            message = self._message(body["content"], kind, bool(body.get("private")), sender)
            conversation.messages.append(message)
            return 200, message
        if parts[2:] == ["labels"] and method == "POST":
            conversation.labels = list(body["labels"])
            return 200, {"payload": conversation.labels}
        return 404, {"error": "not found"}
