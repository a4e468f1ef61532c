"""Discord attachments: the files of a message, downloaded from Discord's CDN and nowhere else.

discord.py gives each `discord.Attachment` its `filename`, `content_type` (None when
Discord could not tell), `size` and `url` on `cdn.discordapp.com` (images also on
`media.discordapp.net`); the URL is signed and needs no token. Without the Message Content
intent Discord sends no attachments at all.
"""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bots.models import Attachment
from bots.turn.downloads import Downloads, FileHosts, FileRef

DISCORD_FILE_HOSTS = FileHosts(("cdn.discordapp.com", "media.discordapp.net"))


class DiscordFiles:
    """Turns a message's attachments into checked attachments."""

    def __init__(self, downloads: Downloads, hosts: FileHosts = DISCORD_FILE_HOSTS) -> None:
        self._downloads = downloads
        self._hosts = hosts

    async def attachments(self, files: Sequence[discord.Attachment]) -> tuple[Attachment, ...]:
        refs = [
            FileRef(file.filename, file.content_type or "", file.size, file.url) for file in files
        ]
        return await self._downloads.attachments(refs, self._hosts)
