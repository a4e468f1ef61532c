"""A studio over a copy of the shipped personas and knowledge, for Starlette's TestClient."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

from httpx import Response
from starlette.testclient import TestClient

from bots.app.studio_command import studio_tools
from bots.secret import Secret
from bots.store import Store
from bots.studio.access import AccessRules, LoginThrottle
from bots.studio.conversations import ConversationReader
from bots.studio.preview import Preview
from bots.studio.web import StudioSettings, build_studio
from tests.support.paths import REPO_ROOT


def copy_folders(tmp_path: Path) -> tuple[Path, Path]:
    personas = tmp_path / "personas"
    knowledge = tmp_path / "knowledge"
    shutil.copytree(REPO_ROOT / "personas", personas)
    shutil.copytree(REPO_ROOT / "knowledge", knowledge)
    return personas, knowledge


def studio_client(
    tmp_path: Path,
    *,
    password: str | None = None,
    viewer_password: str | None = None,
    loopback: bool = True,
    store: Store | None = None,
    throttle: LoginThrottle | None = None,
) -> TestClient:
    personas, knowledge = copy_folders(tmp_path)
    settings = StudioSettings(
        personas_dir=personas,
        knowledge_dir=knowledge,
        session_secret="test-session-secret",
        access=AccessRules(
            Secret(password) if password else None,
            Secret(viewer_password) if viewer_password else None,
        ),
        loopback=loopback,
    )
    app = build_studio(
        settings,
        studio_tools(),
        Preview(knowledge, None),
        ConversationReader(store) if store is not None else None,
        throttle,
    )
    return TestClient(app, base_url="http://127.0.0.1")


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)
    assert found, f"no hidden field {name}"
    return found.group(1)


def textarea(html: str, name: str) -> str:
    import html as html_module

    found = re.search(rf'<textarea name="{re.escape(name)}"[^>]*>(.*?)</textarea>', html, re.S)
    assert found, f"no textarea {name}"
    return html_module.unescape(found.group(1))


class _FormReader(HTMLParser):
    """The name/value pairs a browser would submit for one form of a page."""

    def __init__(self, form: str) -> None:
        super().__init__()
        self.form = form
        self.inside = False
        self.items: list[list[str]] = []
        self._textarea: list[str] | None = None
        self._select: list[str] | None = None
        self._chosen = False
        self._first_seen = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and (a.get("id") == self.form or a.get("action") == self.form):
            self.inside = True
        if not self.inside:
            return
        if tag == "input" and a.get("name") and a.get("type") != "checkbox":
            self.items.append([a["name"], a.get("value", "")])
        elif tag == "textarea":
            self._textarea = [a["name"], ""]
            self.items.append(self._textarea)
        elif tag == "select":
            self._select = [a["name"], ""]
            # As a browser sends it: the selected option, else the first one.
            self._chosen = False
            self._first_seen = False
            self.items.append(self._select)
        elif tag == "option" and self._select is not None:
            if "selected" in a and not self._chosen:
                self._select[1] = a.get("value", "")
                self._chosen = True
            elif not self._first_seen and not self._chosen:
                self._select[1] = a.get("value", "")
            self._first_seen = True

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form":
            self.inside = False


def form_fields(page: str, form: str) -> list[tuple[str, str]]:
    reader = _FormReader(form)
    reader.feed(page)
    return [(name, value) for name, value in reader.items]


def changed(fields: list[tuple[str, str]], **new: str) -> list[tuple[str, str]]:
    """The fields with some values replaced (`handoff__hours` names `handoff.hours`)."""
    wanted = {name.replace("__", "."): value for name, value in new.items()}
    return [(name, wanted.get(name, value)) for name, value in fields]


def send(client: TestClient, url: str, fields: list[tuple[str, str]]) -> Response:
    """POST fields as a browser does (a name may repeat: list items)."""
    data: dict[str, list[str]] = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    return client.post(url, data=data)
