"""Reading sitemap.xml files (a URL set or an index of sitemaps) into page addresses.

lxml parses them with entities and network access off, so a hostile sitemap cannot expand
entities or make the parser fetch anything. The sitemap format itself is two elements deep
(`<url><loc>`, `<sitemap><loc>`), which is why no sitemap library is used: the ones on PyPI
(ultimate-sitemap-parser) do their own fetching, around the size and site rules of
bots.ingest.fetching.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@dataclass(frozen=True, slots=True)
class SitemapLinks:
    pages: tuple[str, ...]
    sitemaps: tuple[str, ...]


def looks_like_sitemap(content_type: str, body: bytes) -> bool:
    head = body[:2048].lower()
    return (b"<urlset" in head or b"<sitemapindex" in head) and (
        "xml" in content_type or head.lstrip().startswith(b"<?xml") or b"<urlset" in head
    )


def read_sitemap(body: bytes) -> SitemapLinks:
    """The page and sitemap addresses listed; anything unreadable yields none (never raises)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError:
        return SitemapLinks((), ())
    pages = _locs(root, "url")
    sitemaps = _locs(root, "sitemap")
    return SitemapLinks(pages, sitemaps)


def _locs(root: etree._Element, kind: str) -> tuple[str, ...]:
    found = []
    for element in root.iter(f"{_NS}{kind}", kind):
        for loc in element.iter(f"{_NS}loc", "loc"):
            if loc.text and loc.text.strip():
                found.append(loc.text.strip())
    return tuple(found)
