"""Which hosts the model may link to: the knowledge's own (entry urls, URLs in answers) and
BOTS_LINK_HOSTS; through a real turn, a link anywhere else is plain text."""

from __future__ import annotations

from pathlib import Path

import pytest

from bots.config import Settings
from bots.errors import ConfigError
from bots.knowledge.files import KnowledgeEntry
from bots.turn.link_hosts import LinkHosts, host_of

ENTRIES = (
    KnowledgeEntry("hours", "When do you open?", "8 to 6.", url="https://cafe.example/hours"),
    KnowledgeEntry(
        "menu", "Menu?", "See [the menu](https://www.menus.example/cafe) or https://b.example."
    ),
)


def test_hosts_come_from_entry_urls_answers_and_the_allow_list() -> None:
    hosts = LinkHosts.build(ENTRIES, ["Status.Example"])
    assert hosts.hosts == {"cafe.example", "menus.example", "b.example", "status.example"}
    assert hosts.vetted("https://cafe.example/anything")
    assert hosts.vetted("https://shop.cafe.example/")  # the owner's subdomain
    assert hosts.vetted("http://www.menus.example/x")
    assert hosts.vetted("https://status.example/")
    assert not hosts.vetted("https://evil.example/")
    assert not hosts.vetted("https://cafe.example.evil.example/")
    assert not hosts.vetted("https://evilcafe.example/")
    assert not hosts.vetted("https://cafe.example@evil.example/")
    assert not hosts.vetted("not a url")


def test_host_of_reads_what_browsers_read() -> None:
    assert host_of("https://User@WWW.Cafe.Example.:443/x") == "cafe.example"
    assert host_of("https://[::1/") is None
    assert host_of("mailto:x") is None


def test_bots_link_hosts_is_read_and_checked(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"BOTS_LINK_HOSTS": " docs.example, Status.example ,"}, data_dir=tmp_path
    )
    assert settings.link_hosts == {"docs.example", "status.example"}
    assert Settings.from_env({}, data_dir=tmp_path).link_hosts == frozenset()
    with pytest.raises(ConfigError, match="BOTS_LINK_HOSTS takes host names"):
        Settings.from_env({"BOTS_LINK_HOSTS": "https://docs.example/"}, data_dir=tmp_path)
