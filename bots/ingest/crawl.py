"""Crawling a site (or the pages a sitemap lists) within limits, politely, with progress.

Breadth first from the start page: links are followed when they stay on the site and below
the start path (or anywhere on the site with `whole_site`), up to `max_depth` links away and
`max_pages` pages in all. A few workers fetch at once, and requests are spaced by the delay
(or the robots.txt Crawl-delay when that is longer). Every page not imported gets a reason.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Protocol
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml.etree import ParserError

from bots.ingest.addresses import Site, normalized
from bots.ingest.decoding import decode
from bots.ingest.fetching import Fetched, Fetcher, declared_charset
from bots.ingest.pages import Note, Page, Skipped
from bots.ingest.robots import Robots, read_robots
from bots.ingest.sitemap import looks_like_sitemap, read_sitemap
from bots.ingest.web_pages import HTML_TYPES, convert

MAX_ROBOTS_DELAY = 10.0
_NOT_PAGES = {
    ".png",
    ".jpg",
    ".jpeg",
    ".gif",
    ".svg",
    ".webp",
    ".ico",
    ".css",
    ".js",
    ".zip",
    ".gz",
    ".tgz",
    ".bz2",
    ".xz",
    ".tar",
    ".mp4",
    ".mp3",
    ".woff",
    ".woff2",
    ".ttf",
    ".exe",
    ".dmg",
    ".deb",
    ".rpm",
    ".bin",
}


@dataclass(frozen=True, slots=True)
class CrawlLimits:
    max_pages: int = 500
    max_depth: int = 5
    concurrency: int = 2
    delay_seconds: float = 0.5
    whole_site: bool = False


class Progress(Protocol):
    def total(self, count: int) -> None: ...

    def advance(self, address: str) -> None: ...


@dataclass
class CrawlResult:
    pages: list[Page] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    truncated: bool = False


class _Pacer:
    """At most one request starts every `seconds`, across all workers."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        if self.seconds <= 0:
            return
        async with self._lock:
            now = self._clock()
            if self._next > now:
                await asyncio.sleep(self._next - now)
            self._next = max(now, self._next) + self.seconds


async def crawl(
    start: str, fetcher: Fetcher, site: Site, limits: CrawlLimits, progress: Progress
) -> CrawlResult:
    return await _Crawl(fetcher, site, limits, progress).run(normalized(start))


class _Crawl:
    def __init__(self, fetcher: Fetcher, site: Site, limits: CrawlLimits, progress: Progress):
        self.fetcher = fetcher
        self.site = site
        self.limits = limits
        self.progress = progress
        self.result = CrawlResult()
        self.seen: set[str] = set()
        self.queue: asyncio.Queue[tuple[str, int, bool]] = asyncio.Queue()
        self.robots = Robots(None)
        self.pacer = _Pacer(limits.delay_seconds)
        self._queued = 0

    async def run(self, start: str) -> CrawlResult:
        self.robots = await read_robots(self.fetcher, self.site.origin)
        asked = self.robots.delay()
        if asked is not None and asked > self.pacer.seconds:
            self.pacer.seconds = min(asked, MAX_ROBOTS_DELAY)
        self._enqueue(start, 0, follow=True)
        workers = [
            asyncio.create_task(self._work()) for _ in range(max(1, self.limits.concurrency))
        ]
        try:
            await self.queue.join()
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        self.result.pages.sort(key=lambda page: page.address)
        return self.result

    def _enqueue(self, url: str, depth: int, *, follow: bool) -> None:
        if url in self.seen:
            return
        self.seen.add(url)
        if PurePosixPath(urlsplit(url).path).suffix.lower() in _NOT_PAGES:
            self.result.skipped.append(Skipped(url, "not a page (file type)"))
            return
        if depth > self.limits.max_depth:
            self.result.skipped.append(
                Skipped(url, f"deeper than --max-depth {self.limits.max_depth}")
            )
            return
        if self._queued >= self.limits.max_pages:
            self.result.truncated = True
            self.result.skipped.append(
                Skipped(url, f"over the --max-pages {self.limits.max_pages} limit")
            )
            return
        self._queued += 1
        self.progress.total(self._queued)
        self.queue.put_nowait((url, depth, follow))

    async def _work(self) -> None:
        while True:
            url, depth, follow = await self.queue.get()
            try:
                await self._visit(url, depth, follow)
            except Exception as exc:
                self.result.skipped.append(
                    Skipped(url, f"could not be read ({type(exc).__name__})")
                )
            finally:
                self.progress.advance(url)
                self.queue.task_done()

    async def _visit(self, url: str, depth: int, follow: bool) -> None:
        if not self.robots.allows(url):
            reason = self.robots.blocked_reason or "disallowed by robots.txt"
            self.result.skipped.append(Skipped(url, reason))
            return
        await self.pacer.wait()
        got = await self.fetcher.get(url)
        if isinstance(got, Skipped):
            self.result.skipped.append(got)
            return
        if looks_like_sitemap(got.content_type, got.body):
            self._sitemap(got, depth)
            return
        page, note = convert(got, url)
        if note is not None:
            self.result.notes.append(note)
        if isinstance(page, Skipped):
            self.result.skipped.append(page)
        else:
            self.result.pages.append(page)
        if follow and got.content_type in HTML_TYPES:
            for link in _links(got):
                if (
                    self.site.within(link)
                    if not self.limits.whole_site
                    else self.site.same_site(link)
                ):
                    self._enqueue(link, depth + 1, follow=True)

    def _sitemap(self, got: Fetched, depth: int) -> None:
        links = read_sitemap(got.body)
        for nested in links.sitemaps:
            if self.site.same_site(nested) and depth < 3:
                self._enqueue(normalized(nested), depth + 1, follow=False)
        for page in links.pages:
            if self.site.same_site(page):
                self._enqueue(normalized(page), 0, follow=False)
            else:
                self.result.skipped.append(
                    Skipped(page, "listed in the sitemap but on another site")
                )


def _links(got: Fetched) -> list[str]:
    text, _ = decode(got.body, declared_charset(got.charset, got.body))
    try:
        tree = lxml.html.document_fromstring(text)
    except (ParserError, ValueError):
        return []
    found = []
    for anchor in tree.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "mailto:", "javascript:", "tel:")):
            continue
        absolute = normalized(urljoin(got.url, href))
        if urlsplit(absolute).scheme in ("http", "https"):
            found.append(absolute)
    return found
