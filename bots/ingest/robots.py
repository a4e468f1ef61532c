"""robots.txt for a crawl, read with Protego (Scrapy's parser: wildcards, Allow, Crawl-delay).

The standard library's urllib.robotparser ignores `*` and `$` in paths, which real sites use.
What to do when robots.txt cannot be read follows RFC 9309: a 4xx means no rules; a server
error or a time-out means "assume everything is disallowed" until it can be read.
"""

from __future__ import annotations

from dataclasses import dataclass

from bots.ingest.fetching import Fetched, Fetcher
from bots.ingest.pages import Skipped

AGENT = "bots-knowledge-import"


@dataclass(frozen=True, slots=True)
class Robots:
    """The rules of one site: `allows(url)` and the delay it asks for between requests."""

    rules: object | None  # a protego.Protego, or None for "no rules"
    blocked_reason: str | None = None

    def allows(self, url: str) -> bool:
        if self.blocked_reason is not None:
            return False
        if self.rules is None:
            return True
        return bool(self.rules.can_fetch(url, AGENT))  # type: ignore[attr-defined]

    def delay(self) -> float | None:
        if self.rules is None:
            return None
        value = self.rules.crawl_delay(AGENT)  # type: ignore[attr-defined]
        return float(value) if value is not None else None


async def read_robots(fetcher: Fetcher, origin: str) -> Robots:
    from protego import Protego

    got = await fetcher.get(f"{origin}/robots.txt")
    if isinstance(got, Fetched):
        return Robots(Protego.parse(got.body.decode("utf-8", errors="replace")))
    if _client_error(got):
        return Robots(None)
    return Robots(None, blocked_reason=f"robots.txt could not be read ({got.reason})")


def _client_error(skipped: Skipped) -> bool:
    return skipped.reason.startswith("HTTP 4")
