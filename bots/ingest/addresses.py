"""Which web addresses an import may reach: the same site, and no private network by default.

A crawl is steered by the pages it reads, so a page could point it at `http://127.0.0.1:…` or
a cloud metadata address; those are refused unless the operator passes
`--allow-private-network`. The check resolves the host name and refuses when any of its
addresses is private, loopback, link-local or reserved. (It does not pin the address for the
connection, so a host that answers DNS differently a moment later is not covered; the same
limit as most crawlers'. Run imports of untrusted sites from a network without such services.)
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urldefrag, urlsplit


@dataclass(frozen=True, slots=True)
class Site:
    """Where a crawl may go: one scheme, host and port, and below one path."""

    scheme: str
    host: str
    port: int
    path_prefix: str

    @classmethod
    def of(cls, url: str, *, whole_site: bool = False) -> Site:
        parts = urlsplit(url)
        prefix = "/" if whole_site else parts.path[: parts.path.rfind("/") + 1] or "/"
        return cls(parts.scheme, (parts.hostname or "").lower(), _port(url), prefix)

    def same_site(self, url: str) -> bool:
        parts = urlsplit(url)
        return (
            parts.scheme == self.scheme
            and (parts.hostname or "").lower() == self.host
            and _port(url) == self.port
        )

    def within(self, url: str) -> bool:
        return self.same_site(url) and (urlsplit(url).path or "/").startswith(self.path_prefix)

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


def _port(url: str) -> int:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return -1
    return port if port is not None else (443 if parts.scheme == "https" else 80)


def normalized(url: str) -> str:
    """The address without its #fragment: one page, however it is linked."""
    return urldefrag(url)[0]


async def private_address(host: str) -> str | None:
    """The first private, loopback, link-local or reserved address `host` has, or None."""
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
        candidates = [literal]
    except ValueError:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except OSError:
            return None  # the fetch itself fails and says so
        candidates = [ipaddress.ip_address(info[4][0]) for info in infos]
    for address in candidates:
        if not address.is_global or address.is_multicast:
            return str(address)
    return None
