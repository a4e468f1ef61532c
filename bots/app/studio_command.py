"""`bots studio [--port 8600] [--host 127.0.0.1]`: the persona studio, wired to the bot's parts."""

from __future__ import annotations

import argparse
import secrets
import sys
from typing import TYPE_CHECKING

from bots.config import Settings

if TYPE_CHECKING:
    from bots.studio.web import StudioTools

DEFAULT_PORT = 8600
DEFAULT_HOST = "127.0.0.1"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    studio = commands.add_parser(
        "studio", help="edit, test and preview personas and knowledge in a web browser"
    )
    studio.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default 8600)")
    studio.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help="address to listen on (default 127.0.0.1; any other needs BOTS_STUDIO_PASSWORD)",
    )
    studio.set_defaults(run=run_studio)


def studio_tools() -> StudioTools:
    """`bots check`'s own functions, so the studio's messages are the same, word for word."""
    from bots.app.check import check_knowledge_set, check_persona
    from bots.app.persona_tests import run_persona_tests
    from bots.studio.web import StudioTools

    return StudioTools(
        check_persona=check_persona,
        check_knowledge_set=check_knowledge_set,
        run_tests=run_persona_tests,
    )


async def run_studio(settings: Settings, args: argparse.Namespace) -> int:
    # Imported here: the web framework loads only for `bots studio`, not for every command.
    from bots.app.wiring import existing_folder, guarded_llm, retrieval_for
    from bots.llm.client import OpenAIChatClient, RetryPolicy
    from bots.store import open_store
    from bots.studio.access import AccessRules, is_loopback
    from bots.studio.conversations import ConversationReader
    from bots.studio.preview import Preview
    from bots.studio.serve import serve
    from bots.studio.web import StudioSettings, build_studio

    tools = studio_tools()

    access = AccessRules(settings.studio_password, settings.studio_viewer_password)
    access.refuse_unsafe_binding(args.host)
    llm = (
        OpenAIChatClient(
            settings.base_url,
            settings.api_key,
            timeout=settings.llm_timeout_seconds,
            retry=RetryPolicy(max_attempts=settings.llm_max_attempts),
        )
        if settings.api_key is not None
        else None
    )
    knowledge_dir = existing_folder(settings.knowledge_dir)
    preview = Preview(
        knowledge_dir,
        guarded_llm(llm, settings.privacy),  # the bot's own redaction before the model
        retrieval=retrieval_for(settings),
        model_override=settings.model_override,
    )
    app = build_studio(
        StudioSettings(
            personas_dir=existing_folder(settings.personas_dir),
            knowledge_dir=knowledge_dir,
            # A fresh key per start: logins end when the studio restarts, and no key is stored.
            session_secret=secrets.token_urlsafe(32),
            access=access,
            loopback=is_loopback(args.host),
            default_persona=settings.default_persona,
        ),
        tools,
        preview,
        ConversationReader(open_store(settings.database_url)),
    )
    print(f"bots studio: open http://{args.host}:{args.port}/ in your browser", file=sys.stderr)
    try:
        await serve(app, args.host, args.port)
    finally:
        if llm is not None:
            await llm.aclose()
    return 0
