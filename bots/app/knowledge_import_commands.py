"""`bots knowledge import SOURCE --set NAME` and `bots knowledge sync`: docs into knowledge files.

The import's libraries (readability-lxml, markdownify, pypdf, protego, tqdm: the
`bots[import]` extra) are imported only inside these commands, so no other command pays for
them at start.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bots.config import Settings
from bots.errors import BotsError

if TYPE_CHECKING:
    from bots.ingest.manifest import ImportOptions
    from bots.ingest.run import ImportReport

_EXTRA_HINT = 'the import needs the `import` extra: pip install "bots[import]"'


def add_commands(knowledge: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    imports = knowledge.add_parser(
        "import",
        help="import a site, sitemap, folder, PDF or Zendesk help centre into a knowledge set",
    )
    imports.add_argument(
        "source",
        help="a URL (page, site, sitemap.xml, Zendesk articles.json) "
        "or a local file or folder (HTML, Markdown, text, PDF, Zendesk export)",
    )
    imports.add_argument(
        "--set",
        required=True,
        dest="set_name",
        metavar="NAME",
        help="the knowledge set (folder under the knowledge folder) to write",
    )
    imports.add_argument("--max-pages", type=_positive, default=500, help="default 500")
    imports.add_argument(
        "--max-depth",
        type=_not_negative,
        default=5,
        help="links away from the start page (default 5)",
    )
    imports.add_argument(
        "--concurrency", type=_positive, default=2, help="pages fetched at once (default 2)"
    )
    imports.add_argument(
        "--delay",
        type=float,
        default=0.5,
        metavar="SECONDS",
        help="between requests (default 0.5; robots.txt Crawl-delay if longer)",
    )
    imports.add_argument(
        "--whole-site",
        action="store_true",
        help="follow links anywhere on the site, not only below the start path",
    )
    imports.add_argument(
        "--max-size",
        type=_positive,
        default=5,
        metavar="MIB",
        help="largest page or file read (default 5 MiB)",
    )
    imports.add_argument(
        "--timeout", type=float, default=20.0, metavar="SECONDS", help="per request (default 20)"
    )
    imports.add_argument(
        "--allow-private-network",
        action="store_true",
        help="allow loopback and private-network addresses (a local docs server)",
    )
    _common(imports)
    imports.set_defaults(run=run_import_command)

    syncs = knowledge.add_parser(
        "sync", help="re-run the imports recorded in each set (or one set); for cron or a Procfile"
    )
    syncs.add_argument("--set", dest="set_name", metavar="NAME", help="only this set")
    _common(syncs)
    syncs.set_defaults(run=run_sync_command)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run", action="store_true", help="say what would change; write nothing"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="overwrite or remove imported files even if edited by hand",
    )


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _not_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


async def run_import_command(settings: Settings, args: argparse.Namespace) -> int:
    _needs_extra()
    from bots.ingest.manifest import ImportOptions

    options = ImportOptions(
        source=args.source,
        max_pages=args.max_pages,
        max_depth=args.max_depth,
        concurrency=args.concurrency,
        delay_seconds=max(0.0, args.delay),
        whole_site=args.whole_site,
        max_bytes=args.max_size * 1024 * 1024,
        timeout_seconds=args.timeout,
        allow_private_network=args.allow_private_network,
    )
    folder = _set_folder(settings, args.set_name)
    report = await _one(options, folder, args)
    print(_rendered(report))
    print(_load_check(settings.knowledge_dir, args.set_name, args.dry_run))
    return 0


async def run_sync_command(settings: Settings, args: argparse.Namespace) -> int:
    _needs_extra()
    from bots.ingest.manifest import read_manifest

    root = settings.knowledge_dir
    names = (
        [args.set_name]
        if args.set_name
        else sorted(p.name for p in root.iterdir() if p.is_dir() and not p.is_symlink())
        if root.is_dir()
        else []
    )
    done = 0
    for name in names:
        folder = _set_folder(settings, name)
        for options in read_manifest(folder):
            print(_rendered(await _one(options, folder, args)))
            done += 1
        if read_manifest(folder):
            print(_load_check(root, name, args.dry_run))
    if not done:
        where = f"the set {args.set_name!r}" if args.set_name else str(root)
        print(
            f"nothing to sync: no imports recorded in {where} (run `bots knowledge import` first)"
        )
    return 0


def _set_folder(settings: Settings, name: str) -> Path:
    if not name or name.startswith(".") or "/" in name or "\\" in name:
        raise BotsError(f"{name!r} is not a knowledge set name: use a plain folder name")
    folder = settings.knowledge_dir / name
    if folder.is_symlink():
        raise BotsError(f"{folder} is a link; the import writes only into a real folder")
    return folder


async def _one(options: ImportOptions, folder: Path, args: argparse.Namespace) -> ImportReport:
    from bots.ingest.run import run_import

    bar = _Bar()
    try:
        return await run_import(
            options, folder, dry_run=args.dry_run, force=args.force, progress=bar
        )
    finally:
        bar.close()


def _rendered(report: ImportReport) -> str:
    from bots.ingest.summary import render

    return render(report)


def _load_check(root: Path, name: str, dry_run: bool) -> str:
    """Whether the set still loads as the bot will load it (the same words as `bots check`)."""
    if dry_run or not (root / name).is_dir():
        return ""
    from bots.knowledge.files import load_knowledge_set

    try:
        entries = load_knowledge_set(root, name)
    except BotsError as problem:
        return f"  the set does not load now: {problem}\n  (`bots check` lists every problem)"
    return f"  the set {name!r} loads: {len(entries)} entries"


def _needs_extra() -> None:
    """Say early, in one line, that the `import` extra is missing (not a traceback later)."""
    from importlib.util import find_spec

    for module in ("readability", "lxml_html_clean", "markdownify", "pypdf", "protego", "tqdm"):
        if find_spec(module) is None:
            raise BotsError(f"{_EXTRA_HINT} ({module} is missing)")


class _Bar:
    """The import's progress bar (tqdm) on stderr; grows as the crawl finds pages."""

    def __init__(self) -> None:
        from tqdm import tqdm

        self._bar: Any = tqdm(
            total=0, unit="page", file=sys.stderr, dynamic_ncols=True, mininterval=0.5, leave=False
        )

    def total(self, count: int) -> None:
        if count > self._bar.total:
            self._bar.total = count
            self._bar.refresh()

    def advance(self, address: str) -> None:
        self._bar.update(1)

    def close(self) -> None:
        self._bar.close()
