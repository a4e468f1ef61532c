"""The `bots run slack` command (cli.py only registers it); the bot is built in wiring.py."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bots.app import wiring
from bots.config import Settings


def add_commands(platforms: Any) -> None:
    """Register `run slack` under `platforms`."""
    slack = platforms.add_parser("slack", help="run on Slack (Socket Mode, or --http)")
    slack.add_argument("--http", action="store_true", help="serve the Events API over HTTP")
    slack.add_argument("--port", type=int, default=3000, help="HTTP port (with --http)")
    slack.add_argument("--persona", help="default persona (default: restaurant or $BOTS_PERSONA)")
    slack.set_defaults(run=run_slack)


async def run_slack(settings: Settings, args: argparse.Namespace) -> int:
    async with wiring.slack_bot(settings, args.persona, http=args.http) as run:
        app, bot = run.app, run.bot
        if app.ops_port is not None:
            print(f"metrics on http://{settings.host}:{app.ops_port}/metrics", flush=True)
        async with wiring.background_work(settings, app.library, bot):
            if run.app_token is None:
                health = wiring.health_check(settings, app.store)

                async def healthy() -> bool:
                    return (await health.check()).ok

                async with bot.serve_http(settings.host, args.port, healthy) as port:
                    print(f"listening on http://{settings.host}:{port}/slack/events", flush=True)
                    await asyncio.Event().wait()
            else:
                await bot.run_socket_mode(run.app_token.reveal(), ready=_say_connected)
    return 0


def _say_connected() -> None:
    print("connected to Slack over Socket Mode", flush=True)
