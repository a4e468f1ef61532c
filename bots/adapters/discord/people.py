"""Discord's answer to "who is this user?" for the help desk: the member's display name.

In a server the member is read (`GET /guilds/{guild}/members/{user}`, discord.py's
`fetch_member`; the member cache is used when it has them) so the server nickname wins, as
Discord shows it; in a DM the user's global display name. Discord gives bots no e-mail
addresses, so a Discord ticket's e-mail only ever comes from what the user typed (an intake
form).
"""

from __future__ import annotations

import discord

from bots.adapters.discord import formatting as fmt
from bots.models import HandoffRecord, Requester


class DiscordPeople:
    """Looks hand-off users up with the bot's discord.py client."""

    def __init__(self, client: discord.Client) -> None:
        self._client = client

    async def requester(self, record: HandoffRecord) -> Requester:
        user_id = int(record.user_id)
        name = ""
        if record.key.workspace != fmt.DM_WORKSPACE:
            guild = self._client.get_guild(int(record.key.workspace))
            if guild is not None:
                member = guild.get_member(user_id) or await guild.fetch_member(user_id)
                name = member.display_name
        if not name:
            found = self._client.get_user(user_id) or await self._client.fetch_user(user_id)
            name = found.display_name
        return Requester(record.user_id, name.strip())
