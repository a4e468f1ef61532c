"""Downloading a message's files from the platform's own file hosts, and nowhere else.

Each adapter says where its platform keeps files (`FileHosts`: Slack's `files.slack.com`,
Discord's CDN) and what to send with the request (Slack's bot token); `Downloads` fetches
within the size limits and follows redirects one hop at a time, refusing any hop to a host
outside the list, so a file URL in an event can never make the bot fetch from (or send its
token to) anyone else. httpx does the HTTP; its own redirect following is off because it
checks no host list.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

from bots.models import Attachment
from bots.turn.attachments import FAILED, NOT_WHAT_IT_SAID, TOO_LARGE, AttachmentLimits, skipped

log = logging.getLogger(__name__)

MAX_REDIRECTS = 3
NOT_ITS_HOST = "not on the platform's file host"


@dataclass(frozen=True, slots=True)
class FileHosts:
    """The hosts a platform serves its files from: exact names, and `.suffix` for a domain
    and its subdomains. `plain_http` allows http:// (a local fake in tests), never in use."""

    names: tuple[str, ...]
    plain_http: bool = False

    def allows(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme != "https" and not (self.plain_http and parts.scheme == "http"):
            return False
        host = (parts.hostname or "").lower()
        for name in self.names:
            if name.startswith(".") and (host.endswith(name) or host == name[1:]):
                return True
            if host == name:
                return True
        return False


@dataclass(frozen=True, slots=True)
class FileRef:
    """A file as the platform's event describes it, before anything is downloaded."""

    name: str
    media_type: str
    size: int
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    """Sent with the download (and its redirects, all on the same hosts): Slack's token."""


class DownloadRefused(Exception):
    """A download stopped on purpose; `str()` is the reason shown as `Attachment.skipped`."""


class Downloads:
    """Fetches `FileRef`s into checked `Attachment`s; the HTTP transport is injected."""

    def __init__(
        self,
        limits: AttachmentLimits,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 20.0,
    ) -> None:
        self.limits = limits
        self._client = httpx.AsyncClient(
            transport=transport, timeout=timeout, follow_redirects=False
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def attachments(
        self, refs: Sequence[FileRef], hosts: FileHosts
    ) -> tuple[Attachment, ...]:
        """Every file of a message, downloaded or skipped with the reason (never raises)."""
        found: list[Attachment] = []
        for index, ref in enumerate(refs):
            stub = Attachment(ref.name, ref.media_type, ref.size)
            refusal = self.limits.refusal(ref.name, ref.media_type, ref.size, index)
            if refusal:
                found.append(skipped(stub, refusal))
                continue
            try:
                content, served_as = await self._fetch(ref, hosts)
            except DownloadRefused as exc:
                log.warning("attachment not downloaded: %s", exc)
                found.append(skipped(stub, str(exc)))
                continue
            except httpx.HTTPError as exc:
                log.warning("attachment download failed (%s)", type(exc).__name__)
                found.append(skipped(stub, FAILED))
                continue
            if served_as == "text/html" and not ref.name.lower().endswith((".html", ".htm")):
                # Slack answers a request without the files:read scope with its sign-in page.
                log.warning("attachment download got a web page instead of the file")
                found.append(skipped(stub, NOT_WHAT_IT_SAID))
                continue
            found.append(self.limits.checked(ref.name, ref.media_type, ref.size, content))
        return tuple(found)

    async def _fetch(self, ref: FileRef, hosts: FileHosts) -> tuple[bytes, str]:
        url = ref.url
        most = self.limits.most_bytes(ref.name, ref.media_type)
        for _ in range(MAX_REDIRECTS + 1):
            if not hosts.allows(url):
                raise DownloadRefused(NOT_ITS_HOST)
            request = self._client.build_request("GET", url, headers=dict(ref.headers))
            response = await self._client.send(request, stream=True)
            try:
                if response.is_redirect:
                    location = response.headers.get("location", "")
                    url = urljoin(url, location)
                    continue
                if response.status_code != 200:
                    raise DownloadRefused(f"{FAILED} (HTTP {response.status_code})")
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > most:
                        raise DownloadRefused(TOO_LARGE)
                served = response.headers.get("content-type", "").split(";", 1)[0].strip()
                return bytes(body), served.lower()
            finally:
                await response.aclose()
        raise DownloadRefused(f"{FAILED} (too many redirects)")
