"""Slack file shares: the `files` of a message event, downloaded with the bot token from Slack.

A message with files arrives as `message` with subtype `file_share` (and, when it mentions
the bot, also as `app_mention`), each file with `name`, `mimetype`, `size` and
`url_private_download`. That URL needs the bot token as a Bearer header and the `files:read`
scope; without the scope Slack answers with its sign-in page, which the download check
refuses. Only Slack's own hosts are fetched from, redirects included (`bots.turn.downloads`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bots.models import Attachment
from bots.turn.attachments import NOT_READ, skipped
from bots.turn.downloads import Downloads, FileHosts, FileRef

SLACK_FILE_HOSTS = FileHosts(("files.slack.com", ".slack.com", ".slack-edge.com"))
# Files Slack describes without a download (deleted, over the free plan's limit, or a Slack
# Connect file whose details need files.info first).
_NOT_DOWNLOADABLE_MODES = frozenset({"tombstone", "hidden_by_limit"})


class SlackFiles:
    """Turns a message event's `files` into checked attachments."""

    def __init__(
        self, downloads: Downloads, bot_token: str, hosts: FileHosts = SLACK_FILE_HOSTS
    ) -> None:
        self._downloads = downloads
        self._auth = {"Authorization": f"Bearer {bot_token}"}
        self._hosts = hosts

    async def attachments(self, event: Mapping[str, Any]) -> tuple[Attachment, ...]:
        files = [f for f in event.get("files") or [] if isinstance(f, dict)]
        refs: list[FileRef] = []
        unreadable: list[Attachment] = []
        for file in files:
            name = str(file.get("name") or file.get("title") or "file")
            media_type = str(file.get("mimetype") or "")
            size = _int(file.get("size"))
            url = str(file.get("url_private_download") or file.get("url_private") or "")
            if not url or file.get("mode") in _NOT_DOWNLOADABLE_MODES:
                unreadable.append(skipped(Attachment(name, media_type, size), NOT_READ))
                continue
            refs.append(FileRef(name, media_type, size, url, self._auth))
        found = await self._downloads.attachments(refs, self._hosts)
        return (*found, *unreadable)


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0
