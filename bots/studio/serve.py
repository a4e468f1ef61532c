"""Serving the studio: uvicorn inside the bot's own event loop, quiet unless something fails."""

from __future__ import annotations

import uvicorn
from starlette.applications import Starlette


async def serve(app: Starlette, host: str, port: int) -> None:
    """Serve until interrupted. uvicorn's access log is off: URLs can carry message text."""
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    await uvicorn.Server(config).serve()
