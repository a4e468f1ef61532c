"""Fetching one web page for an import: size-limited, redirects kept on the site, plain reasons.

httpx does the HTTP; this module adds what an importer must not leave to defaults: it follows
redirects itself (so one that leaves the site is refused, not followed), stops reading past a
size limit, refuses private-network targets unless allowed (bots.ingest.addresses), and turns
every failure into a `Skipped` with a reason a person can act on, never an exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from bots.ingest.addresses import Site, private_address
from bots.ingest.pages import Skipped

MAX_REDIRECTS = 5
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)


@dataclass(frozen=True, slots=True)
class Fetched:
    """A page's bytes and what the server said about them."""

    url: str
    content_type: str
    body: bytes
    charset: str | None


@dataclass(frozen=True, slots=True)
class FetchRules:
    max_bytes: int = 5 * 1024 * 1024
    timeout_seconds: float = 20.0
    allow_private_network: bool = False
    user_agent: str = "bots-knowledge-import/1 (+https://github.com/)"


class Fetcher:
    """GETs pages of one site with the rules above; `client` is injected (tests, transports)."""

    def __init__(self, client: httpx.AsyncClient, site: Site, rules: FetchRules) -> None:
        self._client = client
        self._site = site
        self._rules = rules

    @property
    def rules(self) -> FetchRules:
        return self._rules

    async def get(self, url: str) -> Fetched | Skipped:
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            refused = await self._refusal(current)
            if refused is not None:
                return Skipped(url, refused)
            result = await self._get_once(url, current)
            if not isinstance(result, str):
                return result
            current = result  # a redirect on the same site
        return Skipped(url, f"more than {MAX_REDIRECTS} redirects; not followed")

    async def _refusal(self, url: str) -> str | None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return f"not a web address ({parts.scheme or 'no scheme'})"
        if not self._site.same_site(url):
            return f"redirect to another site ({parts.hostname}) not followed"
        if not self._rules.allow_private_network:
            address = await private_address(parts.hostname or "")
            if address is not None:
                return (
                    f"{parts.hostname} is a private or loopback address ({address}); "
                    "pass --allow-private-network to import from it"
                )
        return None

    async def _get_once(self, asked: str, url: str) -> Fetched | Skipped | str:
        seconds = self._rules.timeout_seconds
        try:
            async with self._client.stream(
                "GET",
                url,
                follow_redirects=False,
                timeout=seconds,
                headers={"User-Agent": self._rules.user_agent},
            ) as response:
                if response.is_redirect:
                    location = response.headers.get("location", "")
                    return urljoin(url, location) if location else Skipped(asked, "empty redirect")
                if response.status_code >= 400:
                    gone = response.status_code in (404, 410)
                    return Skipped(asked, f"HTTP {response.status_code}", gone=gone)
                return await self._read(asked, str(response.url), response)
        except httpx.TimeoutException:
            return Skipped(asked, f"timed out after {seconds:g} s")
        except httpx.HTTPError as exc:
            return Skipped(asked, f"could not fetch ({type(exc).__name__})")

    async def _read(self, asked: str, url: str, response: httpx.Response) -> Fetched | Skipped:
        limit = self._rules.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return Skipped(asked, f"larger than the {_size(limit)} limit ({_size(int(declared))})")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > limit:
                return Skipped(asked, f"larger than the {_size(limit)} limit")
        content_type = response.headers.get("content-type", "")
        return Fetched(
            url, content_type.split(";")[0].strip().lower(), bytes(body), response.charset_encoding
        )


def _size(count: int) -> str:
    return f"{count / 1024 / 1024:.1f} MiB" if count >= 1024 * 1024 else f"{count // 1024} KiB"


def declared_charset(fetched_charset: str | None, body: bytes) -> str | None:
    """The page's character set: the server's header, else the page's own <meta charset>."""
    if fetched_charset:
        return fetched_charset
    found = _META_CHARSET.search(body[:4096])
    return found.group(1).decode("ascii") if found else None
