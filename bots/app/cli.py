"""The composition root: reads settings once, builds the objects, runs the chosen command."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bots.app import discord_commands as discord_cli
from bots.app import eval_commands as eval_cli
from bots.app import forget_commands as forget_cli
from bots.app import report_commands as report_cli
from bots.app.fit_wiring import server_fit
from bots.app.folders import existing_folder, persona_path
from bots.app.limits_wiring import guarded_llm, limits_and_retention
from bots.app.logsetup import configure_logging
from bots.app.ops_wiring import health_check, ops_endpoint, telemetry_for
from bots.config import Settings
from bots.errors import BotsError, ConfigError
from bots.handoff.webhook import HandoffWebhook
from bots.knowledge.persona import Persona
from bots.llm.client import ChatModel, OpenAIChatClient, RetryPolicy
from bots.models import ThreadKey
from bots.ops.periodic import repeat, run_logged
from bots.retrieval.setup import RetrievalSetup, retrieval_setup
from bots.store import Store, open_store
from bots.telemetry import Telemetry
from bots.turn.engine import Engine
from bots.turn.library import PersonaLibrary


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env(os.environ)
        configure_logging(settings.log_level, settings.log_format)
        return int(asyncio.run(args.run(settings, args)))
    except BotsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bots", description="Support bots for Discord and Slack.")
    commands = parser.add_subparsers(dest="command", required=True)

    chat = commands.add_parser("chat", help="chat with a persona in the terminal")
    chat.add_argument("--persona", help="persona name (default: restaurant or $BOTS_PERSONA)")
    chat.add_argument("--resume", action="store_true", help="continue the last conversation")
    chat.set_defaults(run=_chat)

    ask = commands.add_parser("ask", help="ask one question and print the answer")
    ask.add_argument("question")
    ask.add_argument("--persona", help="persona name (default: restaurant or $BOTS_PERSONA)")
    ask.set_defaults(run=_ask)

    eval_cli.add_parser(commands)

    run = commands.add_parser("run", help="run the bot on a chat platform")
    platforms = run.add_subparsers(dest="platform", required=True)
    slack = platforms.add_parser("slack", help="run on Slack (Socket Mode, or --http)")
    slack.add_argument("--http", action="store_true", help="serve the Events API over HTTP")
    slack.add_argument("--port", type=int, default=3000, help="HTTP port (with --http)")
    slack.add_argument("--persona", help="default persona (default: restaurant or $BOTS_PERSONA)")
    slack.set_defaults(run=_run_slack)
    discord_cli.add_commands(platforms, commands)

    database = commands.add_parser("db", help="manage the conversation database")
    database_commands = database.add_subparsers(dest="db_command", required=True)
    upgrade = database_commands.add_parser(
        "upgrade", help="apply schema migrations to DATABASE_URL (SQLite or PostgreSQL)"
    )
    upgrade.set_defaults(run=_db_upgrade)
    forget_cli.add_parser(commands)
    report_cli.add_parser(commands)

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


@dataclass(frozen=True)
class App:
    engine: Engine
    persona: Persona
    store: Store
    library: PersonaLibrary
    telemetry: Telemetry
    ops_port: int | None = None


def _retrieval_setup(settings: Settings) -> RetrievalSetup:
    return retrieval_setup(settings.semantic_retrieval, settings.cache_dir)


@asynccontextmanager
async def build_app(
    settings: Settings,
    persona_name: str | None,
    link_for: Callable[[ThreadKey], str | None] | None = None,
) -> AsyncIterator[App]:
    """Everything the bot needs, opened and closed together; `persona_name` is the default.

    `link_for` is the platform's web link to a thread, for hand-off records (webhooks)."""
    name = persona_name or settings.default_persona
    path = persona_path(settings, name)
    library = PersonaLibrary(
        path.parent,
        existing_folder(settings.knowledge_dir),
        model_override=settings.model_override,
        required=name,
        retrieval=_retrieval_setup(settings),
    )
    library.load()
    store = open_store(settings.database_url)
    await store.open()
    telemetry = telemetry_for(settings)
    llm = _llm_client(settings, telemetry)
    fit = await server_fit(settings, library[name].model)
    webhook = _webhook(settings)
    limits, retention = limits_and_retention(settings, store)
    engine = Engine(
        store=store,
        personas=library,
        default_persona=name,
        llm=guarded_llm(llm, settings.privacy),
        handoff_sinks=[webhook] if webhook else [],
        telemetry=telemetry,
        link_for=link_for or _no_link,
        limits=limits,
        retention=retention,
        fit=fit,
    )
    try:
        async with ops_endpoint(settings, telemetry, store) as ops_port:
            persona = library[name].persona
            yield App(engine, persona, store, library, telemetry, ops_port)
    finally:
        await engine.aclose()
        if webhook is not None:
            await webhook.aclose()
        if isinstance(llm, OpenAIChatClient):
            await llm.aclose()
        await store.close()


def _no_link(key: ThreadKey) -> str | None:
    return None


def _webhook(settings: Settings) -> HandoffWebhook | None:
    if settings.handoff_webhook_url is None or settings.handoff_webhook_secret is None:
        return None
    return HandoffWebhook(settings.handoff_webhook_url, settings.handoff_webhook_secret)


def _llm_client(settings: Settings, telemetry: Telemetry) -> ChatModel | None:
    if settings.api_key is None:
        return None
    return OpenAIChatClient(
        settings.base_url,
        settings.api_key,
        timeout=settings.llm_timeout_seconds,
        retry=RetryPolicy(max_attempts=settings.llm_max_attempts),
        telemetry=telemetry,
    )


async def _chat(settings: Settings, args: argparse.Namespace) -> int:
    from bots.adapters import console

    user = _local_user()
    async with build_app(settings, args.persona) as app:
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
            )
        finally:
            stop_watching.set()
            await watcher
    return 0


async def _ask(settings: Settings, args: argparse.Namespace) -> int:
    from bots.adapters import console

    if not args.question.strip():
        raise BotsError('nothing to ask: give the question in quotes, e.g. bots ask "parking?"')
    async with build_app(settings, args.persona) as app:
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


async def _run_slack(settings: Settings, args: argparse.Namespace) -> int:
    try:
        from bots.adapters.slack.adapter import SlackBot
    except ImportError:
        raise BotsError('Slack support is not installed: pip install -e ".[slack]"') from None
    slack = settings.slack
    if slack.bot_token is None:
        raise ConfigError("SLACK_BOT_TOKEN is not set (the Bot User OAuth Token, xoxb-...)")
    if args.http and slack.signing_secret is None:
        raise ConfigError("SLACK_SIGNING_SECRET is not set (Basic Information > Signing Secret)")
    if not args.http and slack.app_token is None:
        raise ConfigError(
            "SLACK_APP_TOKEN is not set (an app-level token with connections:write, xapp-...); "
            "or run with --http"
        )
    async with build_app(settings, args.persona) as app:
        staff = slack.staff_users

        async def is_staff(user_id: str) -> bool:
            return user_id in staff

        bot = SlackBot(
            app.engine,
            app.library,
            bot_token=slack.bot_token.reveal(),
            signing_secret=slack.signing_secret.reveal() if slack.signing_secret else "",
            default_persona=app.persona.name,
            api_url=slack.api_url,
            channel_personas=slack.channel_personas,
            is_staff=is_staff if staff else None,
            telemetry=app.telemetry,
        )
        if app.ops_port is not None:
            print(f"metrics on http://0.0.0.0:{app.ops_port}/metrics", flush=True)
        try:
            await bot.check_token()
        except BaseException:
            await bot.aclose()
            raise
        stop = asyncio.Event()
        background = [
            asyncio.create_task(app.library.watch(stop)),
            asyncio.create_task(bot.tick_forever(60)),
            asyncio.create_task(
                answer_interrupted_forever(bot.answer_interrupted, resume_after(settings))
            ),
        ]
        try:
            if args.http:
                health = health_check(settings, app.store)

                async def healthy() -> bool:
                    return (await health.check()).ok

                async with bot.serve_http("0.0.0.0", args.port, healthy) as port:
                    print(f"listening on http://0.0.0.0:{port}/slack/events", flush=True)
                    await asyncio.Event().wait()
            else:
                token = slack.app_token.reveal() if slack.app_token else ""
                await bot.run_socket_mode(token, ready=_say_connected)
        finally:
            stop.set()
            background[1].cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await bot.aclose()
    return 0


def _say_connected() -> None:
    print("connected to Slack over Socket Mode", flush=True)


async def answer_interrupted_forever(
    answer: Callable[..., Awaitable[int]], min_age: timedelta
) -> None:
    """At start, and every minute when other processes may share the store (their
    questions count only once older than `min_age`), answer what a stopped run left."""

    async def job() -> None:
        await answer(min_age=min_age)

    what = "answering what the last run left"
    if min_age:
        await repeat(job, 60, what, at_once=True)
    else:
        await run_logged(job, what)


def resume_after(settings: Settings) -> timedelta:
    """How old an unanswered message must be before this process answers it after a start.

    Alone on a SQLite file, any unanswered message is one a previous run died in. Sharing
    PostgreSQL, a younger one may still be in another process's hands (a turn's model calls
    give up after `llm_timeout_seconds` per attempt).
    """
    if settings.database_url.startswith("sqlite"):
        return timedelta(0)
    return timedelta(seconds=settings.llm_timeout_seconds * settings.llm_max_attempts + 60)


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
