"""A local fake of the Slack Web API: a real aiohttp server on 127.0.0.1 that records calls.

Point a `slack_sdk` client at `base_url`. Every call is kept in `calls` as (method, params);
`wait_for` lets a test await the call it expects instead of sleeping.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

TEAM_ID = "T0TEAM"
BOT_USER_ID = "UBOT0001"
BOT_ID = "BBOT0001"


@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, Any]


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._changed = asyncio.Condition()
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.refuse_token = False  # auth.test answers invalid_auth, as for a wrong token

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}/api/"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def made(self, method: str) -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == method]

    def posts(self, channel: str | None = None) -> list[dict[str, Any]]:
        return [p for p in self.made("chat.postMessage") if channel in (None, p.get("channel"))]

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

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _params(request)
        answer = self._answer(method, params)
        if method == "chat.postMessage":
            params["posted_ts"] = answer["ts"]  # the ts Slack gave the new message
        async with self._changed:
            self.calls.append(Call(method, params))
            self._changed.notify_all()
        return web.json_response(answer)

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
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
        if method == "chat.postMessage":
            ts = f"1700000{next(self._ts):03d}.000100"
            message = {"text": params.get("text", ""), "ts": ts, "bot_id": BOT_ID}
            return {"ok": True, "channel": params.get("channel"), "ts": ts, "message": message}
        if method == "chat.update":
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}
        if method == "chat.getPermalink":
            channel, ts = params.get("channel"), str(params.get("message_ts", ""))
            link = f"https://fake.slack.com/archives/{channel}/p{ts.replace('.', '')}"
            return {"ok": True, "channel": channel, "permalink": link}
        return {"ok": True}


async def _params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        body = await request.json()
        params |= dict(body) if isinstance(body, dict) else {}
    elif request.method == "POST":
        params |= {k: str(v) for k, v in (await request.post()).items()}
    for name in ("blocks", "attachments"):
        value = params.get(name)
        if isinstance(value, str) and value.startswith("["):
            params[name] = json.loads(value)
    return params
