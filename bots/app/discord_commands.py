"""The `bots run discord` and `bots discord invite-url` commands (cli.py only registers them).

discord.py is imported only when one of these commands runs, so the rest of the CLI works
without the Discord extra installed.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bots.config import Settings
from bots.errors import BotsError, ConfigError

_NOT_INSTALLED = 'Discord support is not installed: pip install -e ".[discord]"'


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
    try:
        from bots.adapters.discord.adapter import invite_url
    except ImportError:
        raise BotsError(_NOT_INSTALLED) from None
    raw = (args.application_id or settings.discord.application_id or "").strip()
    if not raw:
        raise ConfigError(
            "DISCORD_APPLICATION_ID is not set (Developer Portal > General Information > "
            "Application ID); or pass --application-id"
        )
    if not raw.isdigit():
        raise ConfigError(f"the application id is a number, got {raw!r}")
    print(invite_url(int(raw)))
    return 0


async def run_discord(settings: Settings, args: argparse.Namespace) -> int:
    try:
        from bots.adapters.discord.adapter import DiscordBot, point_at
        from bots.adapters.discord.formatting import thread_link
    except ImportError:
        raise BotsError(_NOT_INSTALLED) from None
    from bots.app.cli import answer_interrupted_forever, build_app, resume_after

    config = settings.discord
    if config.bot_token is None:
        raise ConfigError("DISCORD_BOT_TOKEN is not set (Developer Portal > Bot > Reset Token)")
    point_at(config.api_url, config.gateway_url)
    async with build_app(settings, args.persona, link_for=thread_link) as app:
        bot = DiscordBot(
            app.engine,
            app.library,
            default_persona=app.persona.name,
            store=app.store,
            channel_personas=config.channel_personas,
            guild_personas=config.guild_personas,
            message_content=config.message_content,
            ignore_other_bots=config.ignore_other_bots,
            shard_count=config.shard_count,
            shard_ids=list(config.shard_ids) if config.shard_ids is not None else None,
        )
        stop = asyncio.Event()
        background: list[asyncio.Task[None]] = []
        try:
            await bot.login(config.bot_token.reveal())
            print("logged in to Discord; connecting to the gateway", flush=True)
            background += [
                asyncio.create_task(app.library.watch(stop)),
                asyncio.create_task(bot.tick_forever(60)),
                asyncio.create_task(
                    answer_interrupted_forever(bot.answer_interrupted, resume_after(settings))
                ),
            ]
            await bot.connect()
        finally:
            stop.set()
            for task in background[1:]:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await bot.close()
    return 0
