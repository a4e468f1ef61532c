"""The command line: reads the settings once, then runs the chosen command (see wiring.py)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from bots.app import discord_commands as discord_cli
from bots.app import eval_commands as eval_cli
from bots.app import forget_commands as forget_cli
from bots.app import knowledge_import_commands as knowledge_import_cli
from bots.app import knowledge_review_commands as knowledge_review_cli
from bots.app import report_commands as report_cli
from bots.app import slack_commands as slack_cli
from bots.app import studio_command as studio_cli
from bots.app.logsetup import configure_logging
from bots.app.wiring import build_app, existing_folder
from bots.config import Settings
from bots.errors import BotsError
from bots.store import open_store


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env(os.environ)
        configure_logging(settings.log_level, settings.log_format, path=_log_path(settings, args))
        return int(asyncio.run(args.run(settings, args)))
    except BotsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _log_path(settings: Settings, args: argparse.Namespace) -> Path | None:
    """The log file, if any: in the terminal the answers own the screen, so the console
    commands log to a file when stderr is that terminal (BOTS_LOG_FILE, else the data folder)."""
    if getattr(args, "console", False) and sys.stderr.isatty():
        return settings.console_log_file
    return settings.log_file


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bots", description="Support bots for Discord and Slack.")
    commands = parser.add_subparsers(dest="command", required=True)

    chat = commands.add_parser("chat", help="chat with a persona in the terminal")
    chat.add_argument("--persona", help="persona name (default: restaurant or $BOTS_PERSONA)")
    chat.add_argument("--resume", action="store_true", help="continue the last conversation")
    chat.set_defaults(run=_chat, console=True)

    ask = commands.add_parser("ask", help="ask one question and print the answer")
    ask.add_argument("question")
    ask.add_argument("--persona", help="persona name (default: restaurant or $BOTS_PERSONA)")
    ask.set_defaults(run=_ask, console=True)

    eval_cli.add_parser(commands)

    run = commands.add_parser("run", help="run the bot on a chat platform")
    platforms = run.add_subparsers(dest="platform", required=True)
    slack_cli.add_commands(platforms)
    discord_cli.add_commands(platforms, commands)

    database = commands.add_parser("db", help="manage the conversation database")
    database_commands = database.add_subparsers(dest="db_command", required=True)
    upgrade = database_commands.add_parser(
        "upgrade", help="apply schema migrations to DATABASE_URL (SQLite or PostgreSQL)"
    )
    upgrade.set_defaults(run=_db_upgrade)
    forget_cli.add_parser(commands)
    knowledge = commands.add_parser(
        "knowledge",
        help="knowledge files: import and sync docs, list and approve suggested entries",
    )
    knowledge_commands = knowledge.add_subparsers(dest="knowledge_command", required=True)
    knowledge_import_cli.add_commands(knowledge_commands)
    knowledge_review_cli.add_commands(knowledge_commands)
    report_cli.add_parser(commands)
    studio_cli.add_parser(commands)

    check = commands.add_parser(
        "check", help="check persona and knowledge files and list every problem"
    )
    check.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="files or folders (default: the personas and knowledge folders)",
    )
    check.add_argument(
        "--tests", action="store_true", help="also run each persona's <name>.tests.yaml"
    )
    check.set_defaults(run=_check)

    persona = commands.add_parser("persona", help="persona file tools")
    persona_tools = persona.add_subparsers(dest="persona_command", required=True)
    schema = persona_tools.add_parser(
        "schema", help="print the JSON Schema of persona files (for editors)"
    )
    schema.set_defaults(run=_persona_schema)
    return parser


async def _chat(settings: Settings, args: argparse.Namespace) -> int:
    from bots.adapters import console

    user = _local_user()
    async with build_app(settings, args.persona, bursts=False) as app:
        key = console.new_thread_key(user, app.persona.name)
        resumed = False
        if args.resume:
            latest = await app.store.latest_conversation(console.PLATFORM, user, app.persona.name)
            if latest is not None:
                key, resumed = latest.key, True
            else:
                print("(no earlier conversation to resume; starting a new one)")
        if settings.api_key is None:
            print("(no OPENAI_API_KEY set: answering from the knowledge base only)")
        if sys.stderr.isatty():
            print(f"(log lines go to {settings.console_log_file})")
        stop_watching = asyncio.Event()
        watcher = asyncio.create_task(app.library.watch(stop_watching))
        try:
            await console.chat(
                app.engine,
                app.persona,
                key,
                user,
                _read_line,
                sys.stdout,
                resumed=resumed,
                current_persona=lambda: app.library[app.persona.name].persona,
                faq=app.faq,
            )
        finally:
            stop_watching.set()
            await watcher
    return 0


async def _ask(settings: Settings, args: argparse.Namespace) -> int:
    from bots.adapters import console

    if not args.question.strip():
        raise BotsError('nothing to ask: give the question in quotes, e.g. bots ask "parking?"')
    async with build_app(settings, args.persona, bursts=False) as app:
        await console.ask(app.engine, app.persona, _local_user(), args.question, sys.stdout)
    return 0


async def _check(settings: Settings, args: argparse.Namespace) -> int:
    """Exit 0 when no file has an error (warnings are fine) and every persona test passes."""
    from bots.app.check import check_paths, run_persona_test_files

    knowledge_root = existing_folder(settings.knowledge_dir)
    paths = args.paths or [existing_folder(settings.personas_dir), knowledge_root]
    report = check_paths([_shown(path) for path in paths], _shown(knowledge_root))
    print(report.render())
    passed = report.ok
    if args.tests:
        tables, tests_passed = run_persona_test_files(report, _shown(knowledge_root))
        print(f"\n{tables}" if tables else "\n(no personas to test)")
        passed = passed and tests_passed
    return 0 if passed else 1


def _shown(path: Path) -> Path:
    """Paths below the current folder are shown relative to it, as people type them."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


async def _persona_schema(settings: Settings, args: argparse.Namespace) -> int:
    import json

    from bots.knowledge.persona import persona_json_schema

    print(json.dumps(persona_json_schema(), indent=2, ensure_ascii=False))
    return 0


async def _db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    store = open_store(settings.database_url)
    await store.open()  # opening applies the migrations this database lacks
    try:
        version = await store.schema_version()
    finally:
        await store.close()
    print(f"database is at schema version {version}")
    return 0


async def _read_line(prompt: str) -> str | None:
    """input() on a daemon thread: Ctrl-C ends the program without waiting for Enter."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str | None] = loop.create_future()

    def read() -> None:
        try:
            line: str | None = input(prompt)
        except (EOFError, OSError, ValueError):
            line = None
        loop.call_soon_threadsafe(_settle, answer, line)

    threading.Thread(target=read, name="stdin", daemon=True).start()
    return await answer


def _settle(future: asyncio.Future[str | None], value: str | None) -> None:
    if not future.done():
        future.set_result(value)


def _local_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "local"
