"""A Zendesk Help Center's public articles: the list-articles API, paged, or an export of it.

The API (`GET /api/v2/help_center[/{locale}]/articles.json`) answers with `articles` and
either offset paging (`next_page`, `page`, `page_count`) or cursor paging (`meta.has_more`,
`links.next`); both are followed, each page fetched by bots.ingest.fetching like any page.
An export is that JSON saved to a file: one response, a list of responses, or a list of
articles. Each article is one page: its `html_url`, `title` and `body` (HTML, all content).
Drafts are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bots.ingest.crawl import CrawlResult, Progress
from bots.ingest.extract import html_to_markdown
from bots.ingest.fetching import Fetched, Fetcher
from bots.ingest.pages import Page, Skipped

MAX_API_PAGES = 1000


def is_articles_api(url: str) -> bool:
    path = url.split("?", 1)[0]
    return "/api/v2/help_center/" in path and path.endswith("/articles.json")


def looks_like_export(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() == ".json"


async def read_articles_api(
    start: str, fetcher: Fetcher, max_pages: int, progress: Progress
) -> CrawlResult:
    result = CrawlResult()
    url: str | None = start
    seen: set[str] = set()
    for _ in range(MAX_API_PAGES):
        if url is None or url in seen:
            break
        seen.add(url)
        got = await fetcher.get(url)
        if isinstance(got, Skipped):
            result.skipped.append(
                Skipped(url, f"the articles API page could not be read: {got.reason}")
            )
            result.truncated = True  # an unread page must not make its articles look gone
            break
        response = _json(got, result)
        if response is None:
            result.truncated = True
            break
        before = len(result.pages)
        _add_articles(response.get("articles", []), result, max_pages)
        progress.total(len(result.pages))
        for page in result.pages[before:]:
            progress.advance(page.address)
        url = _next(response)
    return result


def read_export(path: Path, max_pages: int, progress: Progress) -> CrawlResult:
    result = CrawlResult()
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        result.skipped.append(Skipped(str(path), f"not a readable Zendesk export ({exc})"))
        result.truncated = True
        return result
    responses = data if isinstance(data, list) and data and "articles" in data[0] else [data]
    for response in responses:
        if isinstance(response, dict):
            _add_articles(response.get("articles", []), result, max_pages)
        elif isinstance(response, list):
            _add_articles(response, result, max_pages)
    progress.total(len(result.pages))
    for page in result.pages:
        progress.advance(page.address)
    return result


def _json(got: Fetched, result: CrawlResult) -> dict[str, Any] | None:
    try:
        data = json.loads(got.body)
    except ValueError:
        result.skipped.append(Skipped(got.url, "the articles API answered with something not JSON"))
        return None
    if not isinstance(data, dict):
        result.skipped.append(Skipped(got.url, "the articles API answer has no `articles` list"))
        return None
    return data


def _next(response: dict[str, Any]) -> str | None:
    meta, links = response.get("meta"), response.get("links")
    if isinstance(meta, dict) and "has_more" in meta:
        if meta.get("has_more") and isinstance(links, dict) and isinstance(links.get("next"), str):
            return str(links["next"])
        return None
    following = response.get("next_page")
    return following if isinstance(following, str) and following else None


def _add_articles(articles: Iterable[Any], result: CrawlResult, max_pages: int) -> None:
    for article in articles:
        if not isinstance(article, dict):
            continue
        address = str(
            article.get("html_url") or article.get("url") or f"article-{article.get('id')}"
        )
        if article.get("draft"):
            result.skipped.append(Skipped(address, "a draft article"))
            continue
        if len(result.pages) >= max_pages:
            result.truncated = True
            result.skipped.append(Skipped(address, f"over the --max-pages {max_pages} limit"))
            continue
        title = " ".join(str(article.get("title") or article.get("name") or "").split())
        _, markdown = html_to_markdown(str(article.get("body") or ""), whole_document=False)
        if not markdown.strip():
            result.skipped.append(Skipped(address, "the article has no text"))
            continue
        result.pages.append(
            Page(address, title or address, f"# {title}\n\n{markdown}" if title else markdown)
        )
