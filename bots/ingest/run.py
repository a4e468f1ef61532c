"""One import or sync of a source into a set folder: read the source, plan, write, summarise."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bots.errors import BotsError
from bots.ingest import sync
from bots.ingest.addresses import Site, private_address
from bots.ingest.crawl import CrawlLimits, CrawlResult, Progress, crawl
from bots.ingest.fetching import Fetcher, FetchRules
from bots.ingest.local import read_local
from bots.ingest.manifest import ImportOptions, remember
from bots.ingest.pages import Note, Skipped
from bots.ingest.zendesk import is_articles_api, looks_like_export, read_articles_api, read_export


@dataclass(frozen=True, slots=True)
class ImportReport:
    source: str
    folder: Path
    pages_fetched: int
    changes: tuple[sync.Change, ...]
    skipped: tuple[Skipped, ...]
    notes: tuple[Note, ...]
    entries_written: int
    dry_run: bool
    truncated: bool = False

    def count(self, action: str) -> int:
        return sum(1 for change in self.changes if change.action == action)


class _Quiet:
    def total(self, count: int) -> None:
        pass

    def advance(self, address: str) -> None:
        pass


def source_key(source: str) -> str:
    """How an import is named in its files' headers: the URL, or the folder's full path."""
    if source.startswith(("http://", "https://")):
        return source
    return str(Path(source).expanduser().resolve())


async def run_import(
    options: ImportOptions,
    folder: Path,
    *,
    dry_run: bool = False,
    force: bool = False,
    progress: Progress | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ImportReport:
    """Import `options.source` into `folder` (or, with `dry_run`, only say what would change)."""
    shown = progress or _Quiet()
    key = source_key(options.source)
    result = await _read(options, key, shown, transport)
    changes = sync.plan(
        result.pages,
        folder,
        key,
        clock(),
        keep=[s.address for s in result.skipped if not s.gone],
        keep_all_missing=result.truncated,
        force=force,
    )
    if not dry_run:
        sync.apply(changes, folder)
        remember(folder, options)
    return ImportReport(
        source=options.source,
        folder=folder,
        pages_fetched=len(result.pages),
        changes=tuple(changes),
        skipped=tuple(result.skipped),
        notes=tuple(result.notes),
        entries_written=_entries(changes, folder),
        dry_run=dry_run,
        truncated=result.truncated,
    )


async def _read(
    options: ImportOptions, key: str, progress: Progress, transport: httpx.AsyncBaseTransport | None
) -> CrawlResult:
    if not key.startswith(("http://", "https://")):
        # Files are read on a worker thread: the running bot's sync must not stall its loop.
        return await asyncio.to_thread(_read_files, options, Path(key), progress)
    site = Site.of(key, whole_site=options.whole_site)
    if not options.allow_private_network:
        address = await private_address(site.host)
        if address is not None:
            raise BotsError(
                f"{site.host} is a private or loopback address ({address}); the import reaches "
                "only public sites unless you pass --allow-private-network"
            )
    rules = FetchRules(
        max_bytes=options.max_bytes,
        timeout_seconds=options.timeout_seconds,
        allow_private_network=options.allow_private_network,
    )
    limits = httpx.Limits(max_connections=max(1, options.concurrency))
    async with httpx.AsyncClient(transport=transport, limits=limits, trust_env=False) as client:
        fetcher = Fetcher(client, site, rules)
        if is_articles_api(key):
            return await read_articles_api(key, fetcher, options.max_pages, progress)
        crawl_limits = CrawlLimits(
            max_pages=options.max_pages,
            max_depth=options.max_depth,
            concurrency=options.concurrency,
            delay_seconds=options.delay_seconds,
            whole_site=options.whole_site,
        )
        return await crawl(key, fetcher, site, crawl_limits, progress)


def _read_files(options: ImportOptions, path: Path, progress: Progress) -> CrawlResult:
    if not path.exists():
        raise BotsError(f"{options.source}: no such file or folder")
    if looks_like_export(path):
        return read_export(path, options.max_pages, progress)
    return read_local(path, options.max_bytes, options.max_pages, progress)


def _entries(changes: list[sync.Change], folder: Path) -> int:
    """How many knowledge entries the written (added or changed) files hold."""
    from bots.knowledge.files import markdown_entries, read_knowledge_file

    count = 0
    for change in changes:
        if change.action not in ("added", "changed") or change.text is None:
            continue
        if change.path.suffix == ".md":
            count += len(markdown_entries(change.text, change.path))
        elif change.path.exists():
            count += len(read_knowledge_file(change.path, folder=folder).entries)
        else:
            count += change.text.count("\n- id: ") + change.text.startswith("- id: ")
    return count
