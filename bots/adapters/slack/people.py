"""Slack's answer to "who is this user?" for the help desk: `users.info`, name and e-mail.

The name is the profile's display name, else its real name, else the account name. The
e-mail (`profile.email`) is read only when the operator allows it
(SLACK_SHARE_EMAIL_WITH_DESK), and Slack only returns it when the app has the
`users:read.email` scope; without either the ticket has the name alone.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bots.models import HandoffRecord, Requester


class SlackPeople:
    """Looks hand-off users up with the bot's Web API client."""

    def __init__(self, client: AsyncWebClient, *, share_email: bool = False) -> None:
        self._client = client
        self._share_email = share_email

    async def requester(self, record: HandoffRecord) -> Requester:
        answer = await self._client.users_info(user=record.user_id)
        user: dict[str, Any] = answer.get("user") or {}
        profile: dict[str, Any] = user.get("profile") or {}
        name = next(
            (
                str(value).strip()
                for value in (
                    profile.get("display_name"),
                    profile.get("real_name"),
                    user.get("real_name"),
                    user.get("name"),
                )
                if value and str(value).strip()
            ),
            "",
        )
        email = str(profile.get("email") or "") if self._share_email else ""
        return Requester(record.user_id, name, email.strip())
