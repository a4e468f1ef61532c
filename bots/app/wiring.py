"""The one composition root: from the settings, everything the console, Slack and Discord run on.

Command modules parse their arguments and call in here; nothing else builds the engine, the
store, the model client or a platform bot. The chat SDKs are imported only inside the
function that builds their bot, so `bots chat` and `bots ask` work without them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from bots.app.desk_wiring import DeskRun, desk_run
from bots.app.fit_wiring import server_fit
from bots.app.handoff_wiring import handoff_detector
from bots.app.help_channel_wiring import help_channels_for
from bots.app.knowledge_sync_wiring import sync_knowledge_forever
from bots.config import Settings
from bots.desks.requester import RequesterLookup
from bots.errors import BotsError, ConfigError
from bots.handoff.webhook import HandoffWebhook
from bots.knowledge.persona import Persona, persona_files
from bots.language.identify import LanguageIdentifier
from bots.llm.client import ChatModel, OpenAIChatClient, RetryPolicy
from bots.llm.outages import ServerFailures
from bots.models import EngineEvent, ThreadKey, thread_of
from bots.ops.health import (
    HealthCheck,
    LLMProbe,
    Probe,
    failures_probe,
    offline_probe,
    store_probe,
)
from bots.ops.periodic import repeat, run_logged
from bots.retrieval.embeddings import Embedder
from bots.retrieval.setup import RetrievalSetup, retrieval_setup
from bots.secret import Secret
from bots.store import Store, open_store
from bots.store.privacy import PrivacySettings, Retention
from bots.telemetry import NO_TELEMETRY, Telemetry
from bots.turn.downloads import Downloads
from bots.turn.engine import DUE_GRACE, Engine, utc_now
from bots.turn.library import PersonaLibrary
from bots.turn.limits import Limits

if TYPE_CHECKING:
    from bots.adapters.discord.adapter import DiscordBot
    from bots.adapters.slack.adapter import SlackBot
    from bots.ops.server import Route
    from bots.turn.faq_suggestions import FaqSuggestions

# A checkout run from elsewhere still finds its own personas/ and knowledge/ folders
# (this file is bots/app/wiring.py: three levels below the checkout).
PROJECT_ROOT = Path(__file__).resolve().parents[2]

# --- folders ---------------------------------------------------------------------------------


def persona_path(settings: Settings, name: str) -> Path:
    """The file of the persona called `name`, or an error listing the personas there are."""
    directory = existing_folder(settings.personas_dir)
    path = directory / f"{name}.yaml"
    if not path.is_file():
        known = [p.stem for p in persona_files(directory)]
        raise BotsError(
            f"no persona named {name!r} in {directory}; available: {', '.join(known) or 'none'}"
        )
    return path


def existing_folder(directory: Path) -> Path:
    """A relative folder is looked up in the current directory, then in the project checkout."""
    if directory.is_absolute() or directory.is_dir():
        return directory
    fallback = PROJECT_ROOT / directory
    return fallback if fallback.is_dir() else directory


# --- the core: engine, store, model client ---------------------------------------------------


@dataclass(frozen=True)
class App:
    engine: Engine
    persona: Persona
    store: Store
    library: PersonaLibrary
    telemetry: Telemetry
    ops_port: int | None = None
    desks: DeskRun | None = None
    """The help desk (BOTS_DESK), when one is set up."""
    embedder: Embedder | None = None
    """The retriever's sentence embedder, which other detectors share (one copy a process)."""
    faq: FaqSuggestions | None = None
    """"Save as FAQ" and approving its pending entries (bots.turn.faq_suggestions)."""


def retrieval_for(settings: Settings) -> RetrievalSetup:
    """How every persona's retriever is built: lexical, or fused with local embeddings."""
    return retrieval_setup(
        settings.semantic_retrieval, settings.cache_dir, model=settings.embedding_model
    )


@asynccontextmanager
async def build_app(
    settings: Settings,
    persona_name: str | None,
    link_for: Callable[[ThreadKey], str | None] | None = None,
    *,
    bursts: bool = True,
) -> AsyncIterator[App]:
    """Everything the bot needs, opened and closed together; `persona_name` is the default.

    `link_for` is the platform's web link to a thread, for hand-off records (webhooks).
    `bursts`: wait `burst_seconds` for a user's next quick message (chat platforms; a
    terminal sends one line and waits for its answer)."""
    name = persona_name or settings.default_persona
    path = persona_path(settings, name)
    retrieval = retrieval_for(settings)
    library = PersonaLibrary(
        path.parent,
        existing_folder(settings.knowledge_dir),
        model_override=settings.model_override,
        required=name,
        retrieval=retrieval,
        link_hosts=settings.link_hosts,
    )
    library.load()
    store = open_store(settings.database_url)
    await store.open()
    telemetry = telemetry_for(settings)
    llm = _llm_client(settings, telemetry)
    from bots.app.faq_wiring import faq_suggestions  # its file edits load only when used

    faq = faq_suggestions(settings, store, library, name, guarded_llm(llm, settings.privacy))
    fit = await server_fit(settings, library[name].model)
    webhook = _webhook(settings)
    limits, retention = limits_and_retention(settings, store)
    failures = ServerFailures()  # the engine counts them, /healthz shows them
    desks = desk_run(settings, store, library, utc_now)  # bots/app/desk_wiring.py
    sinks = [sink for sink in (webhook, desks.connector if desks else None) if sink]
    wants_person = handoff_detector(settings, shared=retrieval.embedder)
    engine = Engine(
        store=store,
        personas=library,
        default_persona=name,
        llm=guarded_llm(llm, settings.privacy),
        handoff_sinks=sinks,
        telemetry=telemetry,
        link_for=link_for or _no_link,
        limits=limits,
        retention=retention,
        turn_timeout=settings.turn_timeout_seconds,
        failures=failures,
        llm_server=settings.base_url,
        language_of=LanguageIdentifier().identify,
        wants_person=wants_person,
        burst_window=timedelta(seconds=settings.burst_seconds if bursts else 0.0),
        fit=fit,
    )
    if desks is not None:
        desks.start(engine)
    routes = desks.routes() if desks is not None else {}
    try:
        async with ops_endpoint(settings, telemetry, store, failures, routes) as ops_port:
            persona = library[name].persona
            yield App(
                engine, persona, store, library, telemetry, ops_port, desks, retrieval.embedder, faq
            )
    finally:
        await engine.aclose()
        await asyncio.to_thread(wants_person.stop)  # never exit inside its model's native code
        if desks is not None:
            await desks.aclose()
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


# --- limits, retention and redaction ---------------------------------------------------------


def guarded_llm(llm: ChatModel | None, privacy: PrivacySettings) -> ChatModel | None:
    """The model client, wrapped so that it never sees what `BOTS_REDACT` names."""
    if llm is None or not privacy.redact:
        return llm
    from bots.turn.redact import RedactingChatModel, Redactor  # phonenumbers only when asked

    return RedactingChatModel(llm, Redactor(privacy.redact, privacy.phone_region))


def limits_and_retention(settings: Settings, store: Store) -> tuple[Limits, Retention | None]:
    """The Engine's `limits` and `retention` arguments."""
    days = settings.privacy.retention_days
    return Limits(settings.limits, store, utc_now), Retention(store, days) if days else None


# --- operations: telemetry, health, the ops port ---------------------------------------------


def telemetry_for(settings: Settings) -> Telemetry:
    """Prometheus telemetry when `BOTS_METRICS_PORT` is set; otherwise nothing is recorded."""
    if settings.metrics_port is None:
        return NO_TELEMETRY
    from bots.ops.metrics import PrometheusTelemetry  # prometheus_client only when asked for

    return PrometheusTelemetry(settings.prices)


def health_check(
    settings: Settings, store: Store, failures: ServerFailures | None = None
) -> HealthCheck:
    """The store, the LLM API, and (given the engine's `failures`) the turns' model failures."""
    llm: Probe = offline_probe
    if settings.api_key is not None:
        llm = LLMProbe(settings.base_url, settings.api_key)
    probes = {"store": store_probe(store.schema_version), "llm": llm}
    if failures is not None and settings.api_key is not None:
        probes["llm_failures"] = failures_probe(failures)
    return HealthCheck(probes)


@asynccontextmanager
async def ops_endpoint(
    settings: Settings,
    telemetry: Telemetry,
    store: Store,
    failures: ServerFailures | None = None,
    routes: Mapping[str, Route] | None = None,
) -> AsyncIterator[int | None]:
    """Serve `/metrics`, `/healthz` (and the desks' webhook `routes`) while inside; yields
    the port (None when off)."""
    if settings.metrics_port is None:
        yield None
        return
    from bots.ops.metrics import PrometheusTelemetry
    from bots.ops.server import serve_ops

    if not isinstance(telemetry, PrometheusTelemetry):
        yield None
        return
    health = health_check(settings, store, failures)
    loop = asyncio.get_running_loop()
    with serve_ops(
        settings.host, settings.metrics_port, telemetry.registry, health, loop, routes
    ) as port:
        yield port


# --- the platform bots -----------------------------------------------------------------------

_SLACK_NOT_INSTALLED = 'Slack support is not installed: pip install -e ".[slack]"'
_DISCORD_NOT_INSTALLED = 'Discord support is not installed: pip install -e ".[discord]"'


@dataclass(frozen=True)
class SlackRun:
    """A Slack bot ready to connect, on its app; `app_token` is set for Socket Mode."""

    app: App
    bot: SlackBot
    app_token: Secret | None


@asynccontextmanager
async def slack_bot(
    settings: Settings, persona: str | None, *, http: bool
) -> AsyncIterator[SlackRun]:
    """The Slack bot on a built app, its token checked against Slack; closed on the way out."""
    try:
        from bots.adapters.slack.adapter import SlackBot
        from bots.adapters.slack.files import SlackFiles
    except ImportError:
        raise BotsError(_SLACK_NOT_INSTALLED) from None
    slack = settings.slack
    if slack.bot_token is None:
        raise ConfigError("SLACK_BOT_TOKEN is not set (the Bot User OAuth Token, xoxb-...)")
    if http and slack.signing_secret is None:
        raise ConfigError("SLACK_SIGNING_SECRET is not set (Basic Information > Signing Secret)")
    if not http and slack.app_token is None:
        raise ConfigError(
            "SLACK_APP_TOKEN is not set (an app-level token with connections:write, xapp-...); "
            "or run with --http"
        )
    from bots.adapters.slack.formatting import thread_link

    async with build_app(settings, persona, link_for=thread_link) as app:
        staff = slack.staff_users

        async def is_staff(user_id: str) -> bool:
            return user_id in staff

        helped, help_personas = help_channels_for(
            settings, slack.help_channels, app.library, app.embedder
        )
        bot = SlackBot(
            app.engine,
            app.library,
            bot_token=slack.bot_token.reveal(),
            signing_secret=slack.signing_secret.reveal() if slack.signing_secret else "",
            default_persona=app.persona.name,
            api_url=slack.api_url,
            channel_personas={**help_personas, **slack.channel_personas},
            help_channels=helped,
            is_staff=is_staff if staff else None,
            telemetry=app.telemetry,
            files=SlackFiles(
                downloads := Downloads(settings.attachments), slack.bot_token.reveal()
            ),
            faq=app.faq,
        )
        from bots.adapters.slack.people import SlackPeople

        people = SlackPeople(bot.client, share_email=settings.desks.share_slack_email)
        attach_desk(app, bot.render, people.requester)
        try:
            await bot.check_token()
            yield SlackRun(app, bot, None if http else slack.app_token)
        finally:
            await bot.aclose()
            await downloads.aclose()


@dataclass(frozen=True)
class DiscordRun:
    """A Discord bot ready to log in with `token`, on its app."""

    app: App
    bot: DiscordBot
    token: Secret


@asynccontextmanager
async def discord_bot(settings: Settings, persona: str | None) -> AsyncIterator[DiscordRun]:
    """The Discord bot on a built app (hand-off records link to its threads); closed after."""
    try:
        from bots.adapters.discord.adapter import DiscordBot, point_at
        from bots.adapters.discord.files import DiscordFiles
        from bots.adapters.discord.formatting import thread_link
    except ImportError:
        raise BotsError(_DISCORD_NOT_INSTALLED) from None
    config = settings.discord
    if config.bot_token is None:
        raise ConfigError("DISCORD_BOT_TOKEN is not set (Developer Portal > Bot > Reset Token)")
    point_at(config.api_url, config.gateway_url)
    async with build_app(settings, persona, link_for=thread_link) as app:
        helped, help_personas = help_channels_for(
            settings, config.help_channels, app.library, app.embedder
        )
        bot = DiscordBot(
            app.engine,
            app.library,
            default_persona=app.persona.name,
            store=app.store,
            channel_personas={**help_personas, **config.channel_personas},
            help_channels=helped,
            guild_personas=config.guild_personas,
            message_content=config.message_content,
            ignore_other_bots=config.ignore_other_bots,
            forum_channels=config.forum_channels,
            shard_count=config.shard_count,
            shard_ids=list(config.shard_ids) if config.shard_ids is not None else None,
            files=DiscordFiles(downloads := Downloads(settings.attachments)),
            faq=app.faq,
        )
        from bots.adapters.discord.people import DiscordPeople

        attach_desk(app, bot.render, DiscordPeople(bot.client).requester)
        try:
            yield DiscordRun(app, bot, config.bot_token)
        finally:
            await bot.close()
            await downloads.aclose()


def attach_desk(
    app: App,
    render: Callable[[EngineEvent, ThreadKey], Awaitable[None]],
    requester: RequesterLookup | None = None,
) -> None:
    """Agents' replies from the help desk are shown by the platform bot, in their thread;
    `requester` names the platform's users on their tickets."""
    if app.desks is None:
        return

    async def show(event: EngineEvent) -> None:
        key = thread_of(event)
        if key is not None:
            await render(event, key)

    served = app.ops_port is not None and bool(app.desks.routes())
    app.desks.attach(show, webhooks_served=served, requester=requester)


def discord_invite_url(settings: Settings, application_id: str | None) -> str:
    """The link that adds the bot to a server; the id from the argument or the settings."""
    try:
        from bots.adapters.discord.adapter import invite_url
    except ImportError:
        raise BotsError(_DISCORD_NOT_INSTALLED) from None
    raw = (application_id or settings.discord.application_id or "").strip()
    if not raw:
        raise ConfigError(
            "DISCORD_APPLICATION_ID is not set (Developer Portal > General Information > "
            "Application ID); or pass --application-id"
        )
    if not raw.isdigit():
        raise ConfigError(f"the application id is a number, got {raw!r}")
    return invite_url(int(raw))


# --- background work beside a connected bot ---------------------------------------------------


class PlatformBot(Protocol):
    async def tick_forever(self, seconds: float = 60.0) -> None: ...

    async def answer_interrupted(self, *, min_age: timedelta = ...) -> int: ...


class WatchedPersonas(Protocol):
    async def watch(self, stop: asyncio.Event) -> None: ...


@asynccontextmanager
async def background_work(
    settings: Settings, personas: WatchedPersonas, bot: PlatformBot
) -> AsyncIterator[None]:
    """While inside: reload changed personas, run the bot's minute tick (reminders, quiet
    threads), re-sync imported knowledge on schedule, and answer what a stopped run left.
    All of it stops on the way out."""
    stop = asyncio.Event()
    watcher = asyncio.create_task(personas.watch(stop))
    endless = [
        asyncio.create_task(bot.tick_forever(60)),
        asyncio.create_task(
            answer_interrupted_forever(bot.answer_interrupted, resume_after(settings))
        ),
        asyncio.create_task(sync_knowledge_forever(personas)),  # knowledge.sync_every
    ]
    try:
        yield
    finally:
        stop.set()
        for task in endless:  # these repeat until cancelled (on PostgreSQL, both do)
            task.cancel()
        await asyncio.gather(watcher, *endless, return_exceptions=True)


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
    PostgreSQL, a younger one may still be in another process's hands until its deadline:
    the store keeps each message's (`Turn.answer_due`), and this age covers messages that
    an older version recorded without one.
    """
    if settings.database_url.startswith("sqlite"):
        return timedelta(0)
    return timedelta(seconds=settings.turn_timeout_seconds) + DUE_GRACE
