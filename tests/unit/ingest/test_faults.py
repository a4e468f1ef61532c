"""A crawl meets robots.txt, an off-site redirect, an oversized page, a loop of links, a page
that times out, a non-UTF-8 page and a missing one: each gets its line, nothing crashes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bots.errors import BotsError
from bots.ingest.manifest import ImportOptions
from bots.ingest.run import ImportReport, run_import
from bots.ingest.summary import render
from tests.support.site_server import Reply, Site, serve_site

LONG = "<p>" + "Useful words about the product. " * 20 + "</p>"


def page(title: str, body: str) -> str:
    return (
        f"<html><head><title>{title}</title></head><body><nav>Home | Docs | Blog</nav>"
        f"<main><h1>{title}</h1>{body}{LONG}</main><footer>Copyright</footer></body></html>"
    )


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    root = tmp_path / "site" / "docs"
    root.mkdir(parents=True)
    links = "".join(
        f'<a href="{href}">{href}</a> '
        for href in (
            "a.html",
            "loop1.html",
            "private/secret.html",
            "away",
            "big.html",
            "slow.html",
            "latin.html",
            "missing.html",
            "d1.html",
            "logo.png",
        )
    )
    (root / "index.html").write_text(page("Start", links), encoding="utf-8")
    (root / "a.html").write_text(page("Page A", "<p>Alpha content.</p>"), encoding="utf-8")
    (root / "loop1.html").write_text(
        page("Loop one", '<a href="loop2.html">2</a>'), encoding="utf-8"
    )
    (root / "loop2.html").write_text(
        page("Loop two", '<a href="loop1.html">1</a>'), encoding="utf-8"
    )
    (root / "private").mkdir()
    (root / "private" / "secret.html").write_text(page("Secret", "hidden"), encoding="utf-8")
    (root / "latin.html").write_bytes(page("Menu", "<p>Caf\u00e9 cr\u00e8me</p>").encode("cp1252"))
    for n in (1, 2, 3, 4):
        (root / f"d{n}.html").write_text(page(f"Deep {n}", f'<a href="d{n + 1}.html">next</a>'))
    release = threading.Event()

    def slow() -> Reply:
        release.wait(10)
        return 200, {"Content-Type": "text/html"}, page("Slow", "late").encode()

    with serve_site(tmp_path / "site") as served:
        served.routes.update(
            {
                "/robots.txt": (
                    200,
                    {"Content-Type": "text/plain"},
                    b"User-agent: *\nDisallow: /docs/private/\n",
                ),
                "/docs/away": (302, {"Location": "http://example.invalid/elsewhere"}, b""),
                "/docs/big.html": (
                    200,
                    {"Content-Type": "text/html"},
                    b"<html>" + b"x" * (2 * 1024 * 1024),
                ),
                "/docs/slow.html": slow,
            }
        )
        yield served
        release.set()


async def crawl(site: Site, folder: Path, **options: object) -> ImportReport:
    settings = {
        "max_depth": 2,
        "delay_seconds": 0.0,
        "concurrency": 3,
        "timeout_seconds": 0.5,
        "max_bytes": 1024 * 1024,
        "allow_private_network": True,
        **options,
    }
    return await run_import(
        ImportOptions(source=f"{site.base_url}/docs/index.html", **settings),  # type: ignore[arg-type]
        folder,
    )


async def test_every_fault_gets_a_clear_line_and_the_rest_is_imported(
    site: Site, tmp_path: Path
) -> None:
    report = await crawl(site, tmp_path / "k" / "docs")
    reasons = {s.address.rsplit("/", 1)[-1]: s.reason for s in report.skipped}
    assert reasons["secret.html"] == "disallowed by robots.txt"
    assert reasons["away"] == "redirect to another site (example.invalid) not followed"
    assert reasons["big.html"].startswith("larger than the 1.0 MiB limit")
    assert reasons["slow.html"] == "timed out after 0.5 s"
    assert reasons["missing.html"] == "HTTP 404"
    assert reasons["d3.html"] == "deeper than --max-depth 2"
    assert reasons["logo.png"] == "not a page (file type)"
    names = sorted(p.name for p in (tmp_path / "k" / "docs").glob("*.md"))
    assert names == ["a.md", "d1.md", "d2.md", "index.md", "latin.md", "loop1.md", "loop2.md"]
    # Each loop page was fetched once, however often it is linked.
    assert site.requests.count("/docs/loop1.html") == 1
    assert "Caf\u00e9 cr\u00e8me" in (tmp_path / "k" / "docs" / "latin.md").read_text(
        encoding="utf-8"
    )
    summary = render(report)
    assert "1 disallowed by robots.txt" in summary
    assert "1 timed out: " in summary
    assert "read as Windows-1252" in summary


async def test_main_content_only(site: Site, tmp_path: Path) -> None:
    await crawl(site, tmp_path / "k" / "docs")
    text = (tmp_path / "k" / "docs" / "a.md").read_text(encoding="utf-8")
    assert "Alpha content." in text
    assert "Home | Docs" not in text
    assert "Copyright" not in text


async def test_a_page_that_timed_out_keeps_its_file(site: Site, tmp_path: Path) -> None:
    folder = tmp_path / "k" / "docs"
    await crawl(site, folder)
    (folder / "slow.md").write_text("stale", encoding="utf-8")  # not ours: no header
    report = await crawl(site, folder)
    assert report.count("removed") == 0
    assert (folder / "slow.md").read_text() == "stale"


async def test_loopback_is_refused_without_the_flag(site: Site, tmp_path: Path) -> None:
    with pytest.raises(BotsError, match="--allow-private-network"):
        await crawl(site, tmp_path / "k" / "docs", allow_private_network=False)
    assert not (tmp_path / "k" / "docs").exists()


async def test_a_sitemap_lists_the_pages_to_import(site: Site, tmp_path: Path) -> None:
    base = site.base_url
    site.routes["/sitemap.xml"] = (
        200,
        {"Content-Type": "application/xml"},
        (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<url><loc>{base}/docs/a.html</loc></url>"
            f"<url><loc>{base}/docs/loop1.html</loc></url>"
            "<url><loc>https://elsewhere.example/x.html</loc></url>"
            "</urlset>"
        ).encode(),
    )
    options = ImportOptions(
        source=f"{base}/sitemap.xml", allow_private_network=True, delay_seconds=0.0
    )
    report = await run_import(options, tmp_path / "k" / "docs")
    # Only the listed pages: a sitemap's pages are not crawled further.
    assert sorted(p.name for p in (tmp_path / "k" / "docs").glob("*.md")) == [
        "docs-a.md",
        "docs-loop1.md",
    ]
    assert [s.reason for s in report.skipped] == ["listed in the sitemap but on another site"]
