"""A local fake of Slack: a real aiohttp server on 127.0.0.1 for the Web API and Socket Mode.

Point a `slack_sdk` client at `base_url`. Every call is kept in `calls` as (method, params);
`wait_for` lets a test await the call it expects instead of sleeping. It keeps the messages
it was sent per channel (for `conversations.history`), can refuse a method with any Slack
error (`fail`, e.g. `ratelimited` as HTTP 429 with `Retry-After`, or an HTTP 5xx page), or
fail a seeded random share of calls (`fail_share`, a fault benchmark), can say the streaming
methods are unavailable (`streaming_error`), and serves a Socket Mode websocket
(`apps.connections.open` answers its ws:// URL; `send_envelope` pushes an envelope and
`acks` records the envelope ids the app acknowledged) and slash-command `response_url`s.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

TEAM_ID = "T0TEAM"
BOT_USER_ID = "UBOT0001"
BOT_ID = "BBOT0001"


@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, Any]
    answer: dict[str, Any]
    at: float = 0.0
    """`time.perf_counter()` when the call arrived (benchmarks measure latency with it)."""


@dataclass
class _Failure:
    error: str
    times: int
    retry_after: int | None
    channel: str | None
    status: int | None = None


@dataclass
class _Share:
    methods: frozenset[str]
    error: str
    share: float
    random: random.Random
    retry_after: int | None
    statuses: tuple[int, ...]


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._changed = asyncio.Condition()
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.root = ""
        self.refuse_token = False  # auth.test answers invalid_auth, as for a wrong token
        self.streaming_error: str | None = None  # e.g. "unknown_method": no chat.*Stream
        self._failures: dict[str, list[_Failure]] = {}
        self._share: _Share | None = None
        self._just_failed: set[tuple[str, str, str]] = set()
        self.injected = 0
        """How many calls `fail_share` failed."""
        self.messages: dict[str, list[dict[str, Any]]] = {}
        """What each channel shows: every message posted or streamed, as updated since."""
        self.acks: list[dict[str, Any]] = []
        self.responses: list[dict[str, Any]] = []
        self._sockets: list[web.WebSocketResponse] = []
        self.file_token = ""
        """The bot token file downloads must carry as `Authorization: Bearer` (set by tests)."""
        self.files: dict[str, tuple[bytes, str]] = {}
        self.downloads: list[tuple[str, str]] = []
        """Each file request as (path, its Authorization header)."""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle)
        app.router.add_get("/link", self._socket)
        app.router.add_post("/respond/{id}", self._respond)
        app.router.add_get("/files-pri/{id}/{name}", self._file)
        app.router.add_get("/redirect/{id}/{name}", self._file_redirect)
        app.router.add_get("/away/{id}/{name}", self._away)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.root = f"127.0.0.1:{port}"
        self.base_url = f"http://{self.root}/api/"

    async def close(self) -> None:
        for socket in list(self._sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def fail(
        self,
        method: str,
        error: str,
        *,
        times: int = 1,
        retry_after: int | None = None,
        channel: str | None = None,
        status: int | None = None,
    ) -> None:
        """The next `times` calls of `method` (to `channel`) answer `error` (ratelimited: 429;
        with `status`, that HTTP status and an HTML page instead of Slack's JSON)."""
        failure = _Failure(error, times, retry_after, channel, status)
        self._failures.setdefault(method, []).append(failure)

    def fail_share(
        self,
        methods: set[str],
        error: str,
        share: float,
        *,
        seed: int = 7,
        retry_after: int | None = None,
        statuses: tuple[int, ...] = (),
    ) -> None:
        """From now on a seeded random `share` of the calls of `methods` fail with `error`
        (`ratelimited`: 429 with `Retry-After`; with `statuses`, one of those HTTP codes and
        an HTML page, as a proxy in front of Slack answers). A call made again for the same
        message right after a failure goes through: the limit was waited out, the outage was
        brief (that is what Slack's `Retry-After` promises)."""
        rng = random.Random(seed)
        self._share = _Share(frozenset(methods), error, share, rng, retry_after, statuses)

    def _shared_failure(self, method: str, params: dict[str, Any]) -> _Failure | None:
        share = self._share
        if share is None or method not in share.methods:
            return None
        where = (
            method,
            str(params.get("channel", "")),
            str(params.get("ts") or params.get("thread_ts") or ""),
        )
        if where in self._just_failed:
            self._just_failed.discard(where)
            return None
        if share.random.random() >= share.share:
            return None
        self._just_failed.add(where)
        self.injected += 1
        status = share.random.choice(share.statuses) if share.statuses else None
        return _Failure(share.error, 1, share.retry_after, None, status)

    def response_url(self, name: str = "1") -> str:
        return f"http://{self.root}/respond/{name}"

    def made(self, method: str) -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == method]

    def posts(self, channel: str | None = None) -> list[dict[str, Any]]:
        return [p for p in self.made("chat.postMessage") if channel in (None, p.get("channel"))]

    def shown(self, channel: str, thread: str | None = None) -> list[dict[str, Any]]:
        """The messages a channel (or one thread of it) shows now, oldest first."""
        kept = self.messages.get(channel, [])
        return [m for m in kept if thread is None or m.get("thread_ts") == thread]

    def failed(self, method: str) -> list[str]:
        """The errors Slack answered to calls of `method`, in order."""
        return [
            str(c.answer.get("error"))
            for c in self.calls
            if c.method == method and not c.answer.get("ok")
        ]

    async def wait_for(
        self,
        method: str,
        where: Callable[[dict[str, Any]], bool] = lambda params: True,
        count: int = 1,
        seconds: float = 5.0,
    ) -> list[dict[str, Any]]:
        """The matching calls, once at least `count` of them arrived."""

        def matching() -> list[dict[str, Any]]:
            return [p for p in self.made(method) if where(p)]

        async def arrived() -> list[dict[str, Any]]:
            async with self._changed:
                await self._changed.wait_for(lambda: len(matching()) >= count)
            return matching()

        return await asyncio.wait_for(arrived(), seconds)

    async def wait_until(self, check: Callable[[], bool], seconds: float = 5.0) -> None:
        async def arrived() -> None:
            async with self._changed:
                await self._changed.wait_for(check)

        await asyncio.wait_for(arrived(), seconds)

    # -- socket mode ---------------------------------------------------------------------

    async def send_envelope(self, envelope: dict[str, Any]) -> None:
        """Push one Socket Mode envelope to every connected app."""
        await self.wait_until(lambda: bool(self._sockets))
        for socket in self._sockets:
            await socket.send_str(json.dumps(envelope))

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_str(json.dumps({"type": "hello", "num_connections": 1}))
        async with self._changed:
            self._sockets.append(socket)
            self._changed.notify_all()
        try:
            async for frame in socket:
                if frame.type == WSMsgType.TEXT:
                    async with self._changed:
                        self.acks.append(json.loads(frame.data))
                        self._changed.notify_all()
        finally:
            self._sockets.remove(socket)
        return socket

    async def _respond(self, request: web.Request) -> web.Response:
        if request.match_info.get("id", "").startswith("expired"):
            # What Slack answers on a response_url used too late (30 minutes) or too often.
            return web.Response(text="expired_url", status=404)
        body = await request.json()
        async with self._changed:
            self.responses.append(dict(body))
            self._changed.notify_all()
        return web.Response(text="ok")

    # -- files -----------------------------------------------------------------------------

    def add_file(
        self, name: str, content: bytes, mimetype: str, *, via: str = "files-pri"
    ) -> dict[str, Any]:
        """A file shared in Slack, as the `files` items of a `file_share` message event show it
        (https://docs.slack.dev/reference/objects/file-object). `via` "redirect" serves its
        download URL as a 302 to the file, "away" as a 302 to a host that is not Slack's."""
        file_id = f"F0{len(self.files) + 1:07d}"
        self.files[file_id] = (content, mimetype)
        base = f"http://{self.root}"
        return {
            "id": file_id,
            "created": 1700000000,
            "timestamp": 1700000000,
            "name": name,
            "title": name,
            "mimetype": mimetype,
            "filetype": name.rsplit(".", 1)[-1],
            "pretty_type": mimetype,
            "user": "U0ALICE",
            "mode": "hosted",
            "editable": False,
            "is_external": False,
            "external_type": "",
            "is_public": True,
            "public_url_shared": False,
            "display_as_bot": False,
            "size": len(content),
            "url_private": f"{base}/files-pri/{file_id}/{name}",
            "url_private_download": f"{base}/{via}/{file_id}/{name}",
            "permalink": f"https://fake.slack.com/files/U0ALICE/{file_id}/{name}",
        }

    async def _file(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        async with self._changed:
            self.downloads.append((request.path, auth))
            self._changed.notify_all()
        found = self.files.get(request.match_info["id"])
        if not self.file_token or auth != f"Bearer {self.file_token}" or found is None:
            # What Slack serves a download without a valid token with files:read: its sign-in
            # page, with status 200.
            page = "<!DOCTYPE html><html><body>Sign in to Slack</body></html>"
            return web.Response(text=page, content_type="text/html")
        content, mimetype = found
        return web.Response(body=content, content_type=mimetype)

    async def _file_redirect(self, request: web.Request) -> web.Response:
        file_id, name = request.match_info["id"], request.match_info["name"]
        raise web.HTTPFound(f"/files-pri/{file_id}/{name}")

    async def _away(self, request: web.Request) -> web.Response:
        async with self._changed:
            self.downloads.append((request.path, request.headers.get("Authorization", "")))
        raise web.HTTPFound("http://files.example.net/steal")

    # -- web api -------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _params(request)
        failure = self._take_failure(method, str(params.get("channel", "")))
        failure = failure or self._shared_failure(method, params)
        if failure is not None and failure.status is not None:
            answer: dict[str, Any] = {"ok": False, "error": f"http_{failure.status}"}
            page = f"<html><body>{failure.status} {failure.error}</body></html>"
            response = web.Response(text=page, status=failure.status, content_type="text/html")
        elif failure is not None:
            answer = {"ok": False, "error": failure.error}
            status, headers = 200, {}
            if failure.error == "ratelimited":
                status, headers = 429, {"Retry-After": str(failure.retry_after or 1)}
            response = web.json_response(answer, status=status, headers=headers)
        else:
            answer = self._answer(method, params)
            response = web.json_response(answer)
        if method == "chat.postMessage" and answer.get("ok"):
            params["posted_ts"] = answer["ts"]  # the ts Slack gave the new message
        async with self._changed:
            self.calls.append(Call(method, params, answer, time.perf_counter()))
            self._changed.notify_all()
        return response

    def _take_failure(self, method: str, channel: str) -> _Failure | None:
        queue = self._failures.get(method) or []
        failure = next((f for f in queue if f.channel in (None, channel)), None)
        if failure is None:
            return None
        failure.times -= 1
        if failure.times <= 0:
            queue.remove(failure)
        return failure

    def _new_message(self, channel: str, params: dict[str, Any], text: str) -> dict[str, Any]:
        ts = f"1700000{next(self._ts):03d}.000100"
        message: dict[str, Any] = {"type": "message", "text": text, "ts": ts, "bot_id": BOT_ID}
        for name in ("thread_ts", "blocks", "metadata"):
            if params.get(name):
                message[name] = params[name]
        self.messages.setdefault(channel, []).append(message)
        return message

    def _find(self, channel: str, ts: str) -> dict[str, Any] | None:
        return next((m for m in self.messages.get(channel, []) if m["ts"] == ts), None)

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        if method == "auth.test" and self.refuse_token:
            return {"ok": False, "error": "invalid_auth"}
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://fake.slack.com/",
                "team": "Fake",
                "user": "bot",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        if method == "apps.connections.open":
            return {"ok": True, "url": f"ws://{self.root}/link"}
        if method == "chat.postMessage":
            message = self._new_message(channel, params, str(params.get("text", "")))
            return {"ok": True, "channel": channel, "ts": message["ts"], "message": message}
        if method.endswith("Stream"):
            return self._stream(method, channel, params)
        if method == "chat.update":
            message = self._find(channel, str(params.get("ts")))
            if message is None:
                return {"ok": False, "error": "message_not_found"}
            message |= {k: params[k] for k in ("text", "blocks") if k in params}
            return {"ok": True, "channel": channel, "ts": params.get("ts")}
        if method == "chat.delete":
            kept = self.messages.get(channel, [])
            self.messages[channel] = [m for m in kept if m["ts"] != params.get("ts")]
            return {"ok": True, "channel": channel, "ts": params.get("ts")}
        if method == "conversations.history":
            return self._history(channel, params)
        if method == "chat.getPermalink":
            ts = str(params.get("message_ts", ""))
            link = f"https://fake.slack.com/archives/{channel}/p{ts.replace('.', '')}"
            return {"ok": True, "channel": channel, "permalink": link}
        return {"ok": True}

    def _stream(self, method: str, channel: str, params: dict[str, Any]) -> dict[str, Any]:
        if self.streaming_error:
            return {"ok": False, "error": self.streaming_error}
        text = str(params.get("markdown_text") or "")
        text += "".join(str(c.get("text", "")) for c in params.get("chunks") or [])
        if method == "chat.startStream":
            message = self._new_message(channel, params, text)
            message["streaming"] = True
            return {"ok": True, "channel": channel, "ts": message["ts"]}
        message = self._find(channel, str(params.get("ts")))
        if message is None or not message.get("streaming"):
            return {"ok": False, "error": "message_not_in_streaming_state"}
        message["text"] += text
        if method == "chat.stopStream":
            message["streaming"] = False
            if params.get("blocks"):
                message["blocks"] = params["blocks"]
        return {"ok": True, "channel": channel, "ts": message["ts"]}

    def _history(self, channel: str, params: dict[str, Any]) -> dict[str, Any]:
        if channel not in self.messages:
            return {"ok": False, "error": "channel_not_found"}
        oldest = float(params.get("oldest") or 0)
        top = [m for m in self.messages[channel] if m.get("thread_ts") in (None, m["ts"])]
        found = sorted(
            (m for m in top if float(m["ts"]) > oldest), key=lambda m: m["ts"], reverse=True
        )
        start = int(params.get("cursor") or 0)
        limit = int(params.get("limit") or 100)
        page = found[start : start + limit]
        if params.get("include_all_metadata") not in (True, "true", "1", 1):
            page = [{k: v for k, v in m.items() if k != "metadata"} for m in page]
        more = start + limit < len(found)
        return {
            "ok": True,
            "messages": page,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }


async def _params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        body = await request.json()
        params |= dict(body) if isinstance(body, dict) else {}
    elif request.method == "POST":
        params |= {k: str(v) for k, v in (await request.post()).items()}
    for name in ("blocks", "attachments", "chunks", "metadata"):
        value = params.get(name)
        if isinstance(value, str) and value.startswith(("[", "{")):
            params[name] = json.loads(value)
    return params
