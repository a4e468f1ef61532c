"""A web page's main content as Markdown: boilerplate out, headings, code, lists, tables kept.

Two libraries do the solved parts. readability-lxml (the port of Mozilla's Readability, used
by Firefox's reader view) finds the main content when a page does not mark it; markdownify
turns that HTML into Markdown with fenced code, lists and pipe tables, which the knowledge
loader splits at headings. trafilatura was tried first: it extracts well but flattens code
blocks and turns headings into bold text, which loses the sections retrieval needs. What is
hand-written here is the glue: dropping the parts every docs site has around its content
(navigation, header, footer, cookie banners, "edit this page" links) before either runs, and
preferring a page's own <main>/<article> when it has one.
"""

from __future__ import annotations

import re

import lxml.html
from lxml.etree import ParserError, _Element

_BOILERPLATE_TAGS = (
    "script",
    "style",
    "noscript",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "template",
    "svg",
    "iframe",
    "button",
)
_BOILERPLATE_ROLES = ("navigation", "banner", "contentinfo", "search", "complementary")
_BOILERPLATE_NAMES = re.compile(
    r"(^|[\s_-])(cookie|consent|gdpr|breadcrumbs?|sidebar|sidenav|navbar|menu|toc|skip-link|"
    r"edit-?(this-)?page|edit-link|page-edit|footer|header|banner)([\s_-]|$)",
    re.I,
)
_EDIT_LINK_TEXT = re.compile(
    r"^\s*(edit (this|the) page|edit on github|improve this page|"
    r"suggest (an )?edit)\b",
    re.I,
)


def html_to_markdown(html: str, *, whole_document: bool = True) -> tuple[str, str]:
    """(title, Markdown) of a page; `whole_document=False` for a fragment that is all content
    (a help-centre article body), which skips the main-content search."""
    from markdownify import markdownify

    try:
        tree = lxml.html.document_fromstring(html) if html.strip() else None
    except (ParserError, ValueError):
        tree = None
    if tree is None:
        return "", ""
    title = _title(tree)
    _drop_boilerplate(tree)
    content = (
        _main_content(tree) if whole_document else lxml.html.tostring(tree, encoding="unicode")
    )
    markdown = markdownify(
        content,
        heading_style="ATX",
        bullets="-",
        strip=["a", "img"],  # link text stays; addresses would be unvetted links in answers
        code_language="",
        escape_underscores=False,
        escape_asterisks=False,
        escape_misc=False,
    )
    return title, tidy(markdown)


def _title(tree: _Element) -> str:
    for path in ("//title", "//h1"):
        found = tree.xpath(path)
        if found:
            text = " ".join(found[0].text_content().split())
            if text:
                return text
    return ""


def _drop_boilerplate(tree: _Element) -> None:
    doomed: list[_Element] = []
    for element in tree.iter():
        if not isinstance(element.tag, str):
            doomed.append(element)  # comments and processing instructions
            continue
        names = f"{element.get('id', '')} {element.get('class', '')}"
        if (
            element.tag in _BOILERPLATE_TAGS
            or element.get("role", "") in _BOILERPLATE_ROLES
            or element.get("aria-hidden") == "true"
            or (
                element.tag not in ("html", "body", "main", "article")
                and _BOILERPLATE_NAMES.search(names)
            )
            or (element.tag == "a" and _EDIT_LINK_TEXT.match(element.text_content() or ""))
        ):
            doomed.append(element)
    for element in doomed:
        parent = element.getparent()
        if parent is not None:
            if element.tail and element.tail.strip():
                previous = element.getprevious()
                if previous is not None:
                    previous.tail = (previous.tail or "") + element.tail
                else:
                    parent.text = (parent.text or "") + element.tail
            parent.remove(element)


def _main_content(tree: _Element) -> str:
    for path in ("//main", "//*[@role='main']", "//article"):
        found = tree.xpath(path)
        if found and len(found[0].text_content().strip()) > 200:
            return str(lxml.html.tostring(found[0], encoding="unicode"))
    body = tree.find("body")
    whole = lxml.html.tostring(body if body is not None else tree, encoding="unicode")
    from readability import Document

    summary = Document(whole).summary(html_partial=True)
    # Readability can keep too little on a page of many short sections (reference pages):
    # then the cleaned body is the better content.
    if len(_text(summary)) < 0.5 * len(_text(whole)):
        return str(whole)
    return str(summary)


def _text(html: str) -> str:
    try:
        return str(lxml.html.fromstring(html).text_content()) if html.strip() else ""
    except (ParserError, ValueError):
        return ""


_BLANKS = re.compile(r"\n{3,}")


def tidy(markdown: str) -> str:
    """Trailing spaces off, runs of blank lines cut to one, one newline at the end."""
    lines = [line.rstrip() for line in markdown.replace("\r\n", "\n").split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip() + "\n"
