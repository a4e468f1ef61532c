"""Who gets into the studio: loopback, logins, roles, CSRF on login, rate limits, bindings."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from httpx import Response
from starlette.testclient import TestClient

from bots.errors import ConfigError
from bots.models import Role
from bots.secret import Secret
from bots.store.sqlite import SQLiteStore
from bots.studio.access import MAX_FAILED_LOGINS, AccessRules, LoginThrottle
from tests.contracts.store_contract import at, make_turn, thread
from tests.support.cli_runner import clean_env, run_bots
from tests.unit.studio.rig import changed, form_fields, send, studio_client

EDITOR_PASSWORD = "correct horse battery"
VIEWER_PASSWORD = "viewer staple"


def log_in(client: TestClient, password: str) -> Response:
    page = client.get("/login")
    fields = [(k, v) for k, v in form_fields(page.text, "/login") if k != "password"]
    return send(client, "/login", [*fields, ("password", password)])


def test_without_a_login_everything_redirects_to_the_login_page(tmp_path: Path) -> None:
    with studio_client(tmp_path, password=EDITOR_PASSWORD, loopback=False) as client:
        for url in (
            "/",
            "/persona/restaurant",
            "/knowledge",
            "/tests/restaurant",
            "/conversations",
        ):
            response = client.get(url, follow_redirects=False)
            assert response.status_code == 303, url
            assert response.headers["location"].startswith("/login")


def test_a_wrong_password_is_refused_and_the_right_one_opens_the_studio(tmp_path: Path) -> None:
    with studio_client(tmp_path, password=EDITOR_PASSWORD, loopback=False) as client:
        refused = log_in(client, "guess")
        assert refused.status_code == 401
        assert "That password is not right." in refused.text
        opened = log_in(client, EDITOR_PASSWORD)
        assert opened.status_code == 200
        assert "/persona/restaurant" in str(opened.url)
        assert 'name="display_name"' in opened.text


def test_a_login_form_without_its_csrf_token_is_refused(tmp_path: Path) -> None:
    with studio_client(tmp_path, password=EDITOR_PASSWORD, loopback=False) as client:
        response = send(client, "/login", [("password", EDITOR_PASSWORD)])
        assert response.status_code == 401
        assert client.get("/persona/restaurant", follow_redirects=False).status_code == 303


def test_logins_are_rate_limited(tmp_path: Path) -> None:
    now = [0.0]
    throttle = LoginThrottle(clock=lambda: now[0])
    with studio_client(
        tmp_path, password=EDITOR_PASSWORD, loopback=False, throttle=throttle
    ) as client:
        for _ in range(MAX_FAILED_LOGINS):
            assert log_in(client, "guess").status_code == 401
        blocked = log_in(client, EDITOR_PASSWORD)
        assert blocked.status_code == 429
        assert "Too many wrong passwords" in blocked.text
        now[0] += 301  # the window passes
        assert log_in(client, EDITOR_PASSWORD).status_code == 200


def test_a_viewer_reads_conversations_but_cannot_edit(tmp_path: Path) -> None:
    with studio_client(
        tmp_path, password=EDITOR_PASSWORD, viewer_password=VIEWER_PASSWORD, loopback=False
    ) as client:
        landed = log_in(client, VIEWER_PASSWORD)
        assert "/conversations" in str(landed.url)
        for url in ("/persona/restaurant", "/knowledge", "/tests/restaurant"):
            assert client.get(url).status_code == 403, url
        assert client.get("/conversations").status_code == 200


def test_logging_out_ends_the_session(tmp_path: Path) -> None:
    with studio_client(tmp_path, password=EDITOR_PASSWORD, loopback=False) as client:
        page = log_in(client, EDITOR_PASSWORD)
        send(client, "/logout", form_fields(page.text, "/logout"))
        assert client.get("/knowledge", follow_redirects=False).status_code == 303


def test_a_password_is_needed_to_listen_beyond_loopback() -> None:
    with pytest.raises(ConfigError, match="BOTS_STUDIO_PASSWORD"):
        AccessRules().refuse_unsafe_binding("0.0.0.0")
    AccessRules().refuse_unsafe_binding("127.0.0.1")
    AccessRules().refuse_unsafe_binding("::1")
    AccessRules(Secret("pw")).refuse_unsafe_binding("0.0.0.0")


def test_bots_studio_refuses_to_start_on_a_public_address_without_a_login() -> None:
    result = run_bots(["studio", "--host", "0.0.0.0", "--port", "0"], clean_env(), timeout=60)
    assert result.returncode == 2
    assert "will not listen on 0.0.0.0 without a login" in result.stderr
    assert "Traceback" not in result.stderr


def _conversation_store(path: Path) -> SQLiteStore:
    async def fill() -> None:
        store = SQLiteStore(path)
        await store.open()
        key = thread("t1")
        await store.ensure_conversation(key, "restaurant", at(0))
        await store.append_turn(key.as_id(), make_turn("do you have parking?", message_id="m1"))
        await store.append_turn(
            key.as_id(),
            make_turn(
                "Yes, on Harbour Lane.",
                seconds=1,
                role=Role.ASSISTANT,
                message_id="m2",
                cited_ids=("parking",),
            ),
        )
        await store.add_feedback(key.as_id(), "m2", "U42", False, at(2))
        await store.close()

    asyncio.run(fill())
    return SQLiteStore(path)


def test_conversations_show_transcripts_and_turn_an_answer_into_an_faq_entry(
    tmp_path: Path,
) -> None:
    store = _conversation_store(tmp_path / "bots.sqlite3")
    with studio_client(tmp_path, store=store) as client:
        listing = client.get("/conversations")
        assert listing.status_code == 200
        link = thread("t1").as_id()
        assert f'href="/conversations/{link}"' in listing.text
        transcript = client.get(f"/conversations/{link}")
        assert "do you have parking?" in transcript.text
        assert "<code>parking</code>" in transcript.text
        assert "Make this an FAQ entry" in transcript.text
        assert "Feedback: not helpful" in transcript.text
        entry = client.get(
            "/knowledge/entry?set=restaurant&question=do+you+have+parking%3F"
            "&answer=Yes%2C+on+Harbour+Lane."
        )
        assert 'value="do you have parking?"' in entry.text
        assert "Yes, on Harbour Lane.</textarea>" in entry.text


def test_conversation_text_needs_a_login(tmp_path: Path) -> None:
    store = _conversation_store(tmp_path / "bots.sqlite3")
    with studio_client(tmp_path, password=EDITOR_PASSWORD, loopback=False, store=store) as client:
        response = client.get(f"/conversations/{thread('t1').as_id()}", follow_redirects=False)
        assert response.status_code == 303
        assert "parking" not in response.text


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil"])
def test_the_login_never_redirects_off_the_site(tmp_path: Path, target: str) -> None:
    with studio_client(tmp_path, password=EDITOR_PASSWORD, loopback=False) as client:
        page = client.get("/login")
        fields = changed(form_fields(page.text, "/login"), next=target, password=EDITOR_PASSWORD)
        response = send(client, "/login", fields)
        assert response.status_code == 200
        assert str(response.url).startswith("http://127.0.0.1/")
