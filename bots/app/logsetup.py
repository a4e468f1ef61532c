"""Logging for the command line: level, plain or JSON lines, the conversation id on each."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TextIO

from pythonjsonlogger.json import JsonFormatter

from bots.logcontext import ConversationFilter

LOG_FORMATS = ("text", "json")
_TEXT = "%(asctime)s %(levelname)s %(name)s [%(conversation_id)s] %(message)s"
# python-json-logger (a well-kept formatter) turns these record fields into JSON keys; the
# message is the already formatted text (the arguments are never dumped separately).
_JSON_FIELDS = ("asctime", "levelname", "name", "conversation_id", "message")
# Libraries whose INFO lines carry URLs and request details: a webhook URL may hold a
# secret token in its path, so they speak only from WARNING unless DEBUG is asked for.
_CHATTY = ("httpx", "httpcore", "aiohttp.access", "slack_bolt", "slack_sdk", "asyncio")


def configure_logging(
    level: str, fmt: str = "text", stream: TextIO | None = None, *, path: Path | None = None
) -> None:
    """Replace the root handlers with one that writes `fmt` lines at `level` to `path` (a
    file, appended to, its folder created) or else `stream` (default stderr)."""
    handler: logging.Handler
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8", delay=True)
    else:
        handler = logging.StreamHandler(stream)
    handler.addFilter(ConversationFilter())
    if fmt == "json":
        handler.setFormatter(
            JsonFormatter(
                list(_JSON_FIELDS),
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                timestamp=False,
            )
        )
    else:
        handler.setFormatter(logging.Formatter(_TEXT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    numeric = logging.getLevelName(level)
    for name in _CHATTY:
        logging.getLogger(name).setLevel(numeric if numeric <= logging.DEBUG else logging.WARNING)
    # bm25s sets its own logger to DEBUG on import; keep it at our level.
    logging.getLogger("bm25s").setLevel(max(numeric, logging.INFO))
