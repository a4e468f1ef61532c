"""Which hosts model output may link to: those the knowledge links to, and the operator's list.

A poisoned or careless FAQ entry, or a user talking the model round, can make it write a
masked link (`[click here](https://evil.example)`, Slack's `<https://evil.example|click
here>`) that reads as one thing and goes to another. So only links to vetted hosts stay
links (`bots.text.defuse_links` shows the others as plain text): a host is vetted when an
entry's `url` or a URL in an entry's answer names it, or it is in `BOTS_LINK_HOSTS`. A
subdomain of a vetted host is vetted too (its owner made it), and `www.` is no different.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from bots.knowledge.files import KnowledgeEntry
from bots.text import find_urls


def host_of(url: str) -> str | None:
    """The URL's host, lower-case, without `www.` or a trailing dot; None if it has none."""
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:  # a malformed port or IPv6 literal
        return None
    if not host:
        return None
    host = host.rstrip(".")
    return host.removeprefix("www.") or None


@dataclass(frozen=True)
class LinkHosts:
    """The vetted hosts of one persona's knowledge, plus the operator's list."""

    hosts: frozenset[str] = frozenset()

    @classmethod
    def build(cls, entries: Iterable[KnowledgeEntry], allowed: Iterable[str] = ()) -> LinkHosts:
        found = {host_of(url) for entry in entries for url in _urls_of(entry)}
        listed = {host_of(f"https://{host}") for host in allowed}
        return cls(frozenset(host for host in found | listed if host))

    def vetted(self, url: str) -> bool:
        """Whether a link to `url` may stay a link."""
        host = host_of(url)
        if host is None:
            return False
        return any(host == known or host.endswith("." + known) for known in self.hosts)


def _urls_of(entry: KnowledgeEntry) -> list[str]:
    return ([entry.url] if entry.url else []) + find_urls(entry.answer)
