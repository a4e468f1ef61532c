"""A local fake of Discord: REST API and gateway websocket on 127.0.0.1 that a real client uses.

The REST side records every call as (method, path, json body) and answers like Discord for the
routes the bot uses; `rate_limit_next` makes the next matching call answer 429 with
`retry_after`. The gateway speaks the real protocol as JSON text frames: HELLO, IDENTIFY ->
READY, GUILD_CREATE, heartbeat ACKs, RESUME; `dispatch` pushes any event (MESSAGE_CREATE,
INTERACTION_CREATE, THREAD_DELETE...) to the connected clients. Like Discord it echoes the
bot's own messages as MESSAGE_CREATE and announces threads it creates with THREAD_CREATE.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

GUILD_ID = "900000000000000001"
GENERAL_ID = "900000000000000010"
SUPPORT_ID = "900000000000000020"
ROLE_ID = "900000000000000030"
BOT_ID = "900000000000000100"
APP_ID = "900000000000000101"
USER_ID = "900000000000000200"
STAFF_ID = "900000000000000201"
OTHER_BOT_ID = "900000000000000300"
FORUM_ID = "900000000000000040"
"""A forum channel (type 15) with the default stage tags and two of its own."""
STRICT_FORUM_ID = "900000000000000050"
"""A forum that requires a tag on every post (flag REQUIRE_TAG): 40067 when a change removes all."""
REQUIRE_TAG = 1 << 4
TAG_UNSOLVED, TAG_WAITING, TAG_SOLVED, TAG_BILLING = (f"90000000000000060{n}" for n in range(4))
TOKEN = "fake-bot-token"
MESSAGE_CONTENT = 1 << 15

_ids = itertools.count(1)


def snowflake() -> str:
    """A fresh id, increasing like Discord's."""
    return str(1_300_000_000_000_000_000 + next(_ids))


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: Any
    status: int


@dataclass
class _RateLimit:
    method: str
    pattern: re.Pattern[str]
    retry_after: float
    times: int
    via: bool = True
    header: bool = False


@dataclass
class FakeDiscord:
    heartbeat_ms: int = 45_000
    calls: list[Call] = field(default_factory=list)
    refuse_token: bool = False
    refuse_message_content: bool = False
    """Close the gateway with 4014 when IDENTIFY asks for the Message Content intent."""
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    threads: dict[str, dict[str, Any]] = field(default_factory=dict)
    identified: list[dict[str, Any]] = field(default_factory=list)
    heartbeats: int = 0

    def __post_init__(self) -> None:
        self._changed = asyncio.Condition()
        self._sockets: list[web.WebSocketResponse] = []
        self._seq = itertools.count(1)
        self._limits: list[_RateLimit] = []
        self._runner: web.AppRunner | None = None
        self.api_url = ""
        self.gateway_url = ""
        self.cdn_url = ""
        self.cdn: dict[str, tuple[bytes, str]] = {}
        self.cdn_requests: list[str] = []

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{path:.*}", self._rest)
        app.router.add_get("/attachments/{channel}/{id}/{name}", self._attachment)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.api_url = f"http://127.0.0.1:{port}/api/v10"
        self.cdn_url = f"http://127.0.0.1:{port}/attachments"
        self.gateway_url = f"ws://127.0.0.1:{port}/gateway"

    def attachment(
        self, name: str, content: bytes, content_type: str | None, *, channel: str = GENERAL_ID
    ) -> dict[str, Any]:
        """An attachment object as MESSAGE_CREATE carries it (Discord's `Attachment`: id,
        filename, size, url, proxy_url, content_type; width and height for images), served
        from the fake's CDN path (the real one is cdn.discordapp.com, signed with ex/is/hm)."""
        attachment_id = snowflake()
        self.cdn[attachment_id] = (content, content_type or "application/octet-stream")
        url = f"{self.cdn_url}/{channel}/{attachment_id}/{name}?ex=1&is=1&hm=abc"
        data: dict[str, Any] = {
            "id": attachment_id,
            "filename": name,
            "size": len(content),
            "url": url,
            "proxy_url": url,
        }
        if content_type is not None:
            data["content_type"] = content_type
        if content_type and content_type.startswith("image/"):
            data |= {"width": 800, "height": 600}
        return data

    async def _attachment(self, request: web.Request) -> web.Response:
        async with self._changed:
            self.cdn_requests.append(request.path)
            self._changed.notify_all()
        found = self.cdn.get(request.match_info["id"])
        if found is None:
            return web.Response(status=404, text="Not Found")
        content, content_type = found
        return web.Response(body=content, content_type=content_type)

    async def close(self) -> None:
        for socket in list(self._sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- what tests ask --------------------------------------------------------------------

    def made(self, method: str, pattern: str) -> list[Call]:
        regex = re.compile(pattern)
        return [c for c in self.calls if c.method == method and regex.fullmatch(c.path)]

    def posts(self, channel: str) -> list[dict[str, Any]]:
        """Message bodies posted to `channel` that Discord accepted, in order."""
        return [
            c.body for c in self.made("POST", f"/channels/{channel}/messages") if c.status == 200
        ]

    def edits(self, channel: str) -> list[Call]:
        return self.made("PATCH", f"/channels/{channel}/messages/\\d+")

    async def wait_for(
        self,
        method: str,
        pattern: str,
        where: Callable[[Call], bool] = lambda call: True,
        count: int = 1,
        seconds: float = 5.0,
    ) -> list[Call]:
        """The matching calls, once at least `count` of them arrived."""

        def matching() -> list[Call]:
            return [c for c in self.made(method, pattern) if where(c)]

        async def arrived() -> list[Call]:
            async with self._changed:
                await self._changed.wait_for(lambda: len(matching()) >= count)
            return matching()

        return await asyncio.wait_for(arrived(), seconds)

    async def wait_connected(self, seconds: float = 5.0) -> None:
        """Until a client has identified and holds a gateway connection."""

        async def connected() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: bool(self._sockets))

        await asyncio.wait_for(connected(), seconds)

    async def wait_heartbeats(self, count: int, seconds: float = 5.0) -> None:
        async def beaten() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: self.heartbeats >= count)

        await asyncio.wait_for(beaten(), seconds)

    def rate_limit_next(
        self,
        method: str,
        pattern: str,
        retry_after: float = 0.001,
        times: int = 1,
        *,
        via: bool = True,
        header: bool = False,
    ) -> None:
        """The next `times` matching calls answer 429 asking to wait `retry_after` seconds.

        `via=False` leaves out the `Via` header Discord's proxies add: discord.py takes such a
        429 for a Cloudflare ban and does not retry it. `header` also sends `Retry-After`."""
        limit = _RateLimit(method, re.compile(pattern), retry_after, times, via, header)
        self._limits.append(limit)

    # -- gateway ---------------------------------------------------------------------------

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        for socket in list(self._sockets):
            payload = {"op": 0, "t": event, "s": next(self._seq), "d": data}
            await socket.send_json(payload)

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_json({"op": 10, "d": {"heartbeat_interval": self.heartbeat_ms}})
        async for frame in socket:
            if frame.type is not WSMsgType.TEXT:
                continue
            payload = frame.json()
            op = payload.get("op")
            if op == 1:
                await socket.send_json({"op": 11})
                async with self._changed:
                    self.heartbeats += 1
                    self._changed.notify_all()
            elif op == 2:
                await self._identify(socket, payload["d"])
            elif op == 6:
                self._sockets.append(socket)
                await socket.send_json({"op": 0, "t": "RESUMED", "s": next(self._seq), "d": {}})
        if socket in self._sockets:
            self._sockets.remove(socket)
        return socket

    async def _identify(self, socket: web.WebSocketResponse, data: dict[str, Any]) -> None:
        self.identified.append({k: v for k, v in data.items() if k != "token"})
        if self.refuse_message_content and int(data.get("intents", 0)) & MESSAGE_CONTENT:
            await socket.close(code=4014, message=b"Disallowed intent(s).")
            return
        ready = {
            "v": 10,
            "user": bot_user(),
            "guilds": [{"id": GUILD_ID, "unavailable": True}],
            "session_id": "fake-session",
            "resume_gateway_url": self.gateway_url,
            "shard": data.get("shard", [0, 1]),
            "application": {"id": APP_ID, "flags": 0},
        }
        await socket.send_json({"op": 0, "t": "READY", "s": next(self._seq), "d": ready})
        guild = guild_payload(list(self.threads.values()))
        await socket.send_json({"op": 0, "t": "GUILD_CREATE", "s": next(self._seq), "d": guild})
        async with self._changed:
            self._sockets.append(socket)
            self._changed.notify_all()

    # -- REST ------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["path"]
        body: Any = None
        if request.can_read_body and request.content_type == "application/json":
            body = await request.json()
        limit = self._take_limit(request.method, path)
        if limit is not None:
            await self._record(Call(request.method, path, body, 429))
            payload = {"message": "You are being rate limited.", "retry_after": limit.retry_after}
            payload["global"] = False
            headers = {"Via": "1.1 google"} if limit.via else {}
            if limit.header:
                headers["Retry-After"] = f"{limit.retry_after:g}"
            return _json(payload, 429, headers)
        status, answer, events = self._answer(request.method, path, body)
        await self._record(Call(request.method, path, body, status))
        for event, data in events:
            await self.dispatch(event, data)
        if answer is None:
            return web.Response(status=204)
        return _json(answer, status)

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    def _take_limit(self, method: str, path: str) -> _RateLimit | None:
        for limit in self._limits:
            if limit.method == method and limit.pattern.fullmatch(path) and limit.times > 0:
                limit.times -= 1
                return limit
        return None

    def _answer(
        self, method: str, path: str, body: Any
    ) -> tuple[int, Any, list[tuple[str, dict[str, Any]]]]:
        if self.refuse_token and path == "/users/@me":
            return 401, {"message": "401: Unauthorized", "code": 0}, []
        if path == "/users/@me":
            return 200, bot_user(), []
        if path == "/oauth2/applications/@me":
            return 200, application(), []
        if path == "/gateway/bot":
            limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
            return 200, {"url": self.gateway_url, "shards": 1, "session_start_limit": limit}, []
        if match := re.fullmatch(r"/applications/\d+(?:/guilds/\d+)?/commands", path):
            # Discord answers "description": "" for message and user commands (type 3, 2).
            commands = [
                {
                    "description": "",
                    **c,
                    "id": snowflake(),
                    "application_id": APP_ID,
                    "version": "1",
                }
                for c in body or []
            ]
            return 200, commands, []
        if match := re.fullmatch(r"/channels/(\d+)/typing", path):
            return 204, None, []
        if match := re.fullmatch(r"/channels/(\d+)/messages/(\d+)/threads", path):
            return self._start_thread(match.group(1), match.group(2), body)
        if match := re.fullmatch(r"/channels/(\d+)/messages", path):
            return self._post(match.group(1), body)
        if (match := re.fullmatch(r"/channels/(\d+)/messages/(\d+)", path)) and method == "DELETE":
            self.messages.pop(match.group(2), None)
            return 204, None, []
        if match := re.fullmatch(r"/channels/(\d+)/messages/(\d+)", path):
            return self._edit(match.group(1), match.group(2), body)
        if (match := re.fullmatch(r"/channels/(\d+)", path)) and method == "PATCH":
            return self._edit_thread(match.group(1), body or {})
        if (match := re.fullmatch(r"/channels/(\d+)", path)) and method == "GET":
            if match.group(1) in self.threads:
                return 200, self.threads[match.group(1)], []
            return 404, {"message": "Unknown Channel", "code": 10003}, []
        if match := re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", path):
            return self._interaction_callback(match.group(1), body)
        if match := re.fullmatch(r"/webhooks/(\d+)/([^/]+)(?:/messages/@original)?", path):
            message = message_payload(snowflake(), "0", body or {}, bot_user())
            return 200, message, []
        return 404, {"message": "404: Not Found", "code": 0}, []

    def _start_thread(
        self, channel: str, message: str, body: Any
    ) -> tuple[int, Any, list[tuple[str, dict[str, Any]]]]:
        if message in self.threads:
            error = {
                "message": "A thread has already been created for this message",
                "code": 160004,
            }
            return 400, error, []
        thread = thread_payload(message, channel, str(body.get("name", "")))
        self.threads[message] = thread
        return 201, thread, [("THREAD_CREATE", {**thread, "newly_created": True})]

    def _post(self, channel: str, body: Any) -> tuple[int, Any, list[tuple[str, dict[str, Any]]]]:
        if channel in self.threads and self.threads[channel].get("deleted"):
            return 404, {"message": "Unknown Channel", "code": 10003}, []
        if channel in self.threads and self.threads[channel]["thread_metadata"]["locked"]:
            return 400, {"message": "Thread is locked", "code": 50083}, []
        message = message_payload(snowflake(), channel, body or {}, bot_user())
        self.messages[message["id"]] = message
        return 200, message, [("MESSAGE_CREATE", {**message, "guild_id": GUILD_ID})]

    def _edit(
        self, channel: str, message_id: str, body: Any
    ) -> tuple[int, Any, list[tuple[str, dict[str, Any]]]]:
        if channel in self.threads and self.threads[channel].get("deleted"):
            return 404, {"message": "Unknown Channel", "code": 10003}, []
        old = self.messages.get(message_id)
        if old is None:
            return 404, {"message": "Unknown Message", "code": 10008}, []
        updated = {**old, **(body or {}), "edited_timestamp": "2026-01-01T00:00:01+00:00"}
        updated.pop("allowed_mentions", None)
        self.messages[message_id] = updated
        return 200, updated, []

    def _interaction_callback(
        self, interaction: str, body: Any
    ) -> tuple[int, Any, list[tuple[str, dict[str, Any]]]]:
        kind = int((body or {}).get("type", 4))
        data = (body or {}).get("data") or {}
        answer = {
            "interaction": {
                "id": interaction,
                "type": 2,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(int(data.get("flags", 0)) & 64),
            },
            "resource": {"type": kind},
        }
        return 200, answer, []

    def _edit_thread(
        self, thread_id: str, body: dict[str, Any]
    ) -> tuple[int, Any, list[tuple[str, dict[str, Any]]]]:
        """PATCH /channels/{thread}: `applied_tags` (<= 5 of the forum's; a REQUIRE_TAG forum
        refuses none with 40067), `archived`, `locked`; announced with THREAD_UPDATE."""
        thread = self.threads.get(thread_id)
        if thread is None or thread.get("deleted"):
            return 404, {"message": "Unknown Channel", "code": 10003}, []
        if "applied_tags" in body:
            tags = [str(t) for t in body["applied_tags"]]
            forum = FORUMS.get(str(thread["parent_id"]))
            if forum is not None and int(forum["flags"]) & REQUIRE_TAG and not tags:
                error = {"message": "A tag is required to create a forum post in this channel"}
                return 400, {**error, "code": 40067}, []
            known = {t["id"] for t in (forum or {}).get("available_tags", [])}
            if len(tags) > 5 or not set(tags) <= known:
                return 400, {"message": "Invalid Form Body", "code": 50035}, []
            thread["applied_tags"] = tags
        for flag in ("archived", "locked"):
            if flag in body:
                thread["thread_metadata"][flag] = bool(body[flag])
        return 200, dict(thread), [("THREAD_UPDATE", dict(thread))]

    def open_post(
        self,
        title: str,
        text: str,
        *,
        forum: str = FORUM_ID,
        author: str = USER_ID,
        name: str = "alice",
        tags: list[str] | None = None,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """A member's new forum post: THREAD_CREATE's data and the starter MESSAGE_CREATE's.

        The post is a public thread (type 11) in the forum whose id is its starter message's
        id; its owner is the member who posted it."""
        post_id = snowflake()
        thread = thread_payload(post_id, forum, title)
        thread |= {"owner_id": author, "applied_tags": list(tags or []), "message_count": 1}
        self.threads[post_id] = thread
        starter = user_message(text, channel=post_id, author=author, name=name, mention_bot=False)
        starter["id"] = post_id
        return {**thread, "newly_created": True}, starter

    def archive_thread(self, thread_id: str) -> dict[str, Any]:
        """Archive and lock the thread (later posts get 400) and return THREAD_UPDATE's data."""
        thread = self.threads[thread_id]
        thread["thread_metadata"] |= {"archived": True, "locked": True}
        return dict(thread)

    def delete_thread(self, thread_id: str) -> dict[str, Any]:
        """Mark the thread deleted (later posts get 404) and return THREAD_DELETE's data."""
        thread = self.threads[thread_id]
        thread["deleted"] = True
        return {
            "id": thread_id,
            "guild_id": GUILD_ID,
            "parent_id": thread["parent_id"],
            "type": 11,
        }


def _json(data: Any, status: int, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py parses a body as JSON only for exactly "application/json" (no charset).
    headers = {"Content-Type": "application/json", **(headers or {})}
    return web.Response(body=json.dumps(data).encode(), status=status, headers=headers)


# -- payloads ------------------------------------------------------------------------------


def bot_user() -> dict[str, Any]:
    return user(BOT_ID, "SupportBot", bot=True)


def user(user_id: str, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": user_id,
        "username": name,
        "discriminator": "0",
        "global_name": name,
        "avatar": None,
        "bot": bot,
    }


def member(user_id: str, name: str, roles: list[str], *, bot: bool = False) -> dict[str, Any]:
    return {
        "user": user(user_id, name, bot=bot),
        "roles": roles,
        "joined_at": "2025-01-01T00:00:00+00:00",
        "deaf": False,
        "mute": False,
        "flags": 0,
    }


def application() -> dict[str, Any]:
    return {
        "id": APP_ID,
        "name": "SupportBot",
        "icon": None,
        "description": "",
        "bot_public": True,
        "bot_require_code_grant": False,
        "owner": user("900000000000000900", "owner"),
        "verify_key": "0" * 64,
        "flags": 0,
    }


def guild_payload(threads: list[dict[str, Any]]) -> dict[str, Any]:
    def text_channel(channel_id: str, name: str, position: int) -> dict[str, Any]:
        return {
            "id": channel_id,
            "type": 0,
            "name": name,
            "position": position,
            "permission_overwrites": [],
            "guild_id": GUILD_ID,
            "nsfw": False,
            "parent_id": None,
        }

    role = {
        "id": ROLE_ID,
        "name": "support",
        "permissions": "0",
        "position": 1,
        "color": 0,
        "hoist": False,
        "managed": False,
        "mentionable": True,
        "flags": 0,
    }
    everyone = {**role, "id": GUILD_ID, "name": "@everyone", "position": 0}
    return {
        "id": GUILD_ID,
        "name": "Fake Guild",
        "unavailable": False,
        "owner_id": "900000000000000900",
        "member_count": 3,
        "large": False,
        "features": [],
        "emojis": [],
        "stickers": [],
        "roles": [everyone, role],
        "channels": [
            text_channel(GENERAL_ID, "general", 0),
            text_channel(SUPPORT_ID, "support", 1),
            *FORUMS.values(),
        ],
        "threads": [t for t in threads if not t.get("deleted")],
        "members": [],
        "voice_states": [],
        "presences": [],
        "premium_tier": 0,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "system_channel_flags": 0,
        "preferred_locale": "en-US",
    }


def forum_channel(
    channel_id: str, name: str, tags: list[tuple[str, str]], *, flags: int = 0
) -> dict[str, Any]:
    """A GUILD_FORUM channel (type 15) with its `available_tags` (id, name) and `flags`."""
    return {
        "id": channel_id,
        "type": 15,
        "name": name,
        "position": 5,
        "permission_overwrites": [],
        "guild_id": GUILD_ID,
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "flags": flags,
        "rate_limit_per_user": 0,
        "default_auto_archive_duration": 1440,
        "default_thread_rate_limit_per_user": 0,
        "default_reaction_emoji": None,
        "default_sort_order": None,
        "default_forum_layout": 0,
        "available_tags": [
            {"id": tag, "name": label, "moderated": False, "emoji_id": None, "emoji_name": None}
            for tag, label in tags
        ],
    }


FORUMS: dict[str, dict[str, Any]] = {
    FORUM_ID: forum_channel(
        FORUM_ID,
        "help",
        [
            (TAG_UNSOLVED, "Unsolved"),
            (TAG_WAITING, "Waiting for staff"),
            (TAG_SOLVED, "Solved"),
            (TAG_BILLING, "billing"),
        ],
    ),
    STRICT_FORUM_ID: forum_channel(
        STRICT_FORUM_ID, "questions", [("900000000000000700", "question")], flags=REQUIRE_TAG
    ),
}


def thread_payload(thread_id: str, parent: str, name: str) -> dict[str, Any]:
    return {
        "id": thread_id,
        "type": 11,
        "guild_id": GUILD_ID,
        "parent_id": parent,
        "name": name,
        "owner_id": BOT_ID,
        "message_count": 0,
        "member_count": 1,
        "rate_limit_per_user": 0,
        "flags": 0,
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": 1440,
            "archive_timestamp": "2026-01-01T00:00:00+00:00",
            "locked": False,
        },
    }


def message_payload(
    message_id: str, channel: str, body: dict[str, Any], author: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": message_id,
        "channel_id": channel,
        "author": author,
        "content": body.get("content") or "",
        "timestamp": "2026-01-01T00:00:00+00:00",
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": body.get("embeds") or [],
        "components": body.get("components") or [],
        "pinned": False,
        "type": 0,
        "flags": int(body.get("flags") or 0),
    }


def user_message(
    text: str,
    *,
    channel: str = GENERAL_ID,
    author: str = USER_ID,
    name: str = "alice",
    roles: list[str] | None = None,
    mention_bot: bool = True,
    bot: bool = False,
    message_id: str | None = None,
    guild: bool = True,
) -> dict[str, Any]:
    """A MESSAGE_CREATE payload from a person (or another bot) in the fake guild or a DM."""
    content = f"<@{BOT_ID}> {text}" if mention_bot else text
    data = message_payload(message_id or snowflake(), channel, {"content": content}, {})
    data["author"] = user(author, name, bot=bot)
    if mention_bot:
        data["mentions"] = [bot_user()]
    if guild:
        data["guild_id"] = GUILD_ID
        data["member"] = {k: v for k, v in member(author, name, roles or []).items() if k != "user"}
    return data


def interaction(
    kind: int,
    data: dict[str, Any],
    *,
    channel: str,
    author: str = USER_ID,
    roles: list[str] | None = None,
    message: dict[str, Any] | None = None,
    channel_type: int = 11,
) -> dict[str, Any]:
    """An INTERACTION_CREATE payload: 2 a slash command, 3 a button click."""
    payload: dict[str, Any] = {
        "id": snowflake(),
        "application_id": APP_ID,
        "type": kind,
        "token": f"token-{snowflake()}",
        "version": 1,
        "data": data,
        "guild_id": GUILD_ID,
        "channel_id": channel,
        "channel": {"id": channel, "type": channel_type, "guild_id": GUILD_ID, "name": "x"},
        "member": {**member(author, "someone", roles or []), "permissions": "0"},
        "app_permissions": "0",
        "locale": "en-US",
        "guild_locale": "en-US",
        "attachment_size_limit": 8_000_000,
        "entitlements": [],
        "authorizing_integration_owners": {},
        "context": 0,
    }
    if message is not None:
        payload["message"] = message
    return payload


def button_click(
    custom_id: str,
    message: dict[str, Any],
    *,
    author: str = USER_ID,
    roles: list[str] | None = None,
) -> dict[str, Any]:
    data = {"custom_id": custom_id, "component_type": 2}
    return interaction(
        3,
        data,
        channel=message["channel_id"],
        author=author,
        roles=roles,
        message=message,
        channel_type=0,
    )


def slash(
    sub: str,
    *,
    channel: str,
    author: str = USER_ID,
    roles: list[str] | None = None,
    options: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """`/support <sub>` typed in `channel` (a thread)."""
    data = {
        "id": snowflake(),
        "name": "support",
        "type": 1,
        "options": [{"type": 1, "name": sub, "options": options or []}],
    }
    return interaction(2, data, channel=channel, author=author, roles=roles)


def ask_command(
    question: str, *, channel: str = GENERAL_ID, author: str = USER_ID, channel_type: int = 0
) -> dict[str, Any]:
    """`/ask question:<question>` typed in `channel` (a chat input command, type 1)."""
    data = {
        "id": snowflake(),
        "name": "ask",
        "type": 1,
        "options": [{"type": 3, "name": "question", "value": question}],
    }
    return interaction(2, data, channel=channel, author=author, channel_type=channel_type)


def message_command(
    name: str,
    target: dict[str, Any],
    *,
    author: str = USER_ID,
    roles: list[str] | None = None,
    channel_type: int = 0,
) -> dict[str, Any]:
    """A message context-menu command (interaction type 2, command type 3) on `target`, a
    message payload: `target_id` and the message under `resolved.messages`."""
    data = {
        "id": snowflake(),
        "name": name,
        "type": 3,
        "target_id": target["id"],
        "resolved": {"messages": {target["id"]: target}},
    }
    return interaction(
        2, data, channel=target["channel_id"], author=author, roles=roles, channel_type=channel_type
    )


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [
        component["custom_id"]
        for row in message.get("components") or []
        for component in row.get("components") or []
    ]
