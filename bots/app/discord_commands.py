"""The `bots run discord` and `bots discord invite-url` commands (cli.py only registers them).

discord.py is imported only when one of these commands runs (in wiring.py, which builds the
bot), so the rest of the CLI works without the Discord extra installed.
"""

from __future__ import annotations

import argparse
from typing import Any

from bots.app import wiring
from bots.config import Settings


def add_commands(platforms: Any, commands: Any) -> None:
    """Register `run discord` under `platforms` and the `discord` tools under `commands`."""
    run = platforms.add_parser("discord", help="run on Discord (gateway connection)")
    run.add_argument("--persona", help="default persona (default: restaurant or $BOTS_PERSONA)")
    run.set_defaults(run=run_discord)
    tools = commands.add_parser("discord", help="Discord setup tools")
    tool_commands = tools.add_subparsers(dest="discord_command", required=True)
    invite = tool_commands.add_parser(
        "invite-url", help="print the link that adds the bot to a server, with its permissions"
    )
    invite.add_argument(
        "--application-id", help="the Application ID (default: $DISCORD_APPLICATION_ID)"
    )
    invite.set_defaults(run=print_invite_url)


async def print_invite_url(settings: Settings, args: argparse.Namespace) -> int:
    print(wiring.discord_invite_url(settings, args.application_id))
    return 0


async def run_discord(settings: Settings, args: argparse.Namespace) -> int:
    async with wiring.discord_bot(settings, args.persona) as run:
        await run.bot.login(run.token.reveal())
        print("logged in to Discord; connecting to the gateway", flush=True)
        async with wiring.background_work(settings, run.app.library, run.bot):
            await run.bot.connect()
    return 0
