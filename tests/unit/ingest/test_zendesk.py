"""A Zendesk Help Center's articles, through a local fake of the list-articles API (both of
its paging forms, as Zendesk documents them) and from an export of it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bots.ingest.manifest import ImportOptions
from bots.ingest.run import run_import
from bots.knowledge.files import load_knowledge_set
from tests.support.site_server import Site, serve_site

API = "/api/v2/help_center/en-us/articles.json"


def article(number: int, base: str, *, draft: bool = False) -> dict[str, Any]:
    return {
        "id": 1000 + number,
        "url": f"{base}/api/v2/help_center/en-us/articles/{1000 + number}.json",
        "html_url": f"{base}/hc/en-us/articles/{1000 + number}-article-{number}",
        "title": f"Article {number}",
        "body": f"<p>How to do thing {number}.</p><ul><li>step one</li><li>step two</li></ul>",
        "draft": draft,
        "locale": "en-us",
        "section_id": 7,
        "updated_at": "2026-01-01T00:00:00Z",
    }


def reply(data: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    return 200, {"Content-Type": "application/json"}, json.dumps(data).encode()


@pytest.fixture
def zendesk(tmp_path: Path) -> Iterator[Site]:
    with serve_site(tmp_path) as site:
        base = site.base_url
        # Offset paging: `next_page` until null (page, per_page, page_count, count beside it).
        site.routes[f"{API}?per_page=2"] = reply(
            {
                "articles": [article(1, base), article(2, base)],
                "next_page": f"{base}{API}?page=2&per_page=2",
                "page": 1,
                "per_page": 2,
                "page_count": 2,
                "count": 3,
            }
        )
        site.routes[f"{API}?page=2&per_page=2"] = reply(
            {
                "articles": [article(3, base), article(4, base, draft=True)],
                "next_page": None,
                "page": 2,
                "per_page": 2,
                "page_count": 2,
                "count": 3,
            }
        )
        # Cursor paging: `meta.has_more` and `links.next`.
        site.routes[f"{API}?page[size]=2"] = reply(
            {
                "articles": [article(5, base), article(6, base)],
                "meta": {"has_more": True, "after_cursor": "xyz", "before_cursor": None},
                "links": {"next": f"{base}{API}?page[size]=2&page[after]=xyz", "prev": None},
            }
        )
        site.routes[f"{API}?page[size]=2&page[after]=xyz"] = reply(
            {
                "articles": [article(7, base)],
                "meta": {"has_more": False, "after_cursor": None, "before_cursor": "xyz"},
                "links": {"next": None, "prev": None},
            }
        )
        yield site


@pytest.mark.parametrize(
    ("query", "numbers"), [("?per_page=2", [1, 2, 3]), ("?page[size]=2", [5, 6, 7])]
)
async def test_every_page_of_articles_is_imported(
    zendesk: Site, tmp_path: Path, query: str, numbers: list[int]
) -> None:
    options = ImportOptions(
        source=f"{zendesk.base_url}{API}{query}", allow_private_network=True, delay_seconds=0
    )
    report = await run_import(options, tmp_path / "k" / "help")
    assert report.pages_fetched == len(numbers)
    entries = load_knowledge_set(tmp_path / "k", "help")
    questions = sorted({e.question for e in entries})
    assert questions == [f"Article {n}" for n in numbers]
    assert all(e.url and "/hc/en-us/articles/" in e.url for e in entries)
    assert "- step one" in entries[0].answer
    if query == "?per_page=2":
        assert [s.reason for s in report.skipped] == ["a draft article"]


async def test_an_export_file_is_imported(tmp_path: Path) -> None:
    export = tmp_path / "export.json"
    export.write_text(
        json.dumps(
            [
                {"articles": [article(1, "https://help.example.com")]},
                {"articles": [article(2, "https://help.example.com")]},
            ]
        )
    )
    report = await run_import(ImportOptions(source=str(export)), tmp_path / "k" / "help")
    assert report.count("added") == 2
    assert {e.url for e in load_knowledge_set(tmp_path / "k", "help")} == {
        "https://help.example.com/hc/en-us/articles/1001-article-1",
        "https://help.example.com/hc/en-us/articles/1002-article-2",
    }
