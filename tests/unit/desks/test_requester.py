"""The ticket's requester is the chat user: found at hand-off time, sent as each desk wants it."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bots.adapters.slack.people import SlackPeople
from bots.desks.chatwoot import ChatwootDesk
from bots.desks.protocol import DeskRefused, TicketRequest
from bots.desks.requester import requester_for
from bots.desks.settings import DeskSettings
from bots.desks.zendesk import ZendeskDesk
from bots.errors import ConfigError
from bots.models import HandoffReason, HandoffRecord, Requester, ThreadKey
from bots.secret import Secret
from tests.fakes import fake_chatwoot, fake_zendesk
from tests.fakes.fake_chatwoot import FakeChatwoot
from tests.fakes.fake_slack import TEAM_ID, FakeSlack
from tests.fakes.fake_zendesk import FakeZendesk

KEY = ThreadKey("slack", TEAM_ID, "C1", "100.1")
RECORD = HandoffRecord(
    conversation_id=KEY.as_id(),
    key=KEY,
    persona="cafe",
    user_id="U0ALICE",
    reason=HandoffReason.USER_ASKED,
    detail="",
    summary=("First asked: where is my order",),
    last_messages=(),
    requested_at=datetime(2026, 12, 2, tzinfo=UTC),
)


def request(person: Requester, conversation: str = "c1") -> TicketRequest:
    return TicketRequest(
        conversation_id=conversation,
        subject="Where is my order",
        transcript=(),
        summary=("First asked: where is my order",),
        requester=person,
        tags=("bots",),
        priority="normal",
    )


async def opened(ticket_id: str) -> None:
    return None


# -- the seam: the platform's profile, then an intake e-mail ---------------------------------


async def test_the_lookup_names_the_requester_and_an_intake_email_is_laid_over_it() -> None:
    async def lookup(record: HandoffRecord) -> Requester:
        return Requester(record.user_id, "Alice")

    async def intake(record: HandoffRecord) -> str:
        return " alice@example.com "

    person = await requester_for(RECORD, lookup, intake)
    assert person == Requester("U0ALICE", "Alice", "alice@example.com")


async def test_a_malformed_intake_email_is_not_used() -> None:
    async def intake(record: HandoffRecord) -> str:
        return "not an address"

    assert await requester_for(RECORD, None, intake) == Requester("U0ALICE")
    assert Requester("U1", "A").with_email("a@b c") == Requester("U1", "A")


async def test_a_broken_lookup_keeps_the_hand_off_with_the_id_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def lookup(record: HandoffRecord) -> Requester:
        raise RuntimeError("Alice Liddell alice@example.com")

    with caplog.at_level(logging.WARNING):
        assert await requester_for(RECORD, lookup) == Requester("U0ALICE")
    assert "slack user's profile" in caplog.text
    assert "Alice" not in caplog.text  # the person's details never reach the log


async def test_a_lookup_answering_for_someone_else_is_ignored() -> None:
    async def lookup(record: HandoffRecord) -> Requester:
        return Requester("U0BOB", "Bob")

    assert await requester_for(RECORD, lookup) == Requester("U0ALICE")


# -- Slack: users.info, e-mail only when the operator allows it and the scope gives it --------


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    fake.add_user("U0ALICE", display_name="", real_name="Alice Liddell", email="a@example.com")
    try:
        yield fake
    finally:
        await fake.close()


@pytest.mark.parametrize(
    ("share", "scope", "email"),
    [(False, True, ""), (True, False, ""), (True, True, "a@example.com")],
)
async def test_slack_shares_the_email_only_when_allowed_and_granted(
    slack: FakeSlack, share: bool, scope: bool, email: str
) -> None:
    slack.email_scope = scope
    client = AsyncWebClient(token="xoxb-test", base_url=slack.base_url)
    person = await SlackPeople(client, share_email=share).requester(RECORD)
    # No display name set: the real name is the one Slack shows.
    assert person == Requester("U0ALICE", "Alice Liddell", email)
    assert [c.params["user"] for c in slack.calls if c.method == "users.info"] == ["U0ALICE"]


def test_sharing_the_slack_email_is_off_unless_switched_on() -> None:
    base = {"BOTS_DESK": "chatwoot", "CHATWOOT_URL": "https://cw.example"}
    base |= {"CHATWOOT_API_TOKEN": "t", "CHATWOOT_ACCOUNT_ID": "1", "CHATWOOT_INBOX_ID": "2"}
    assert DeskSettings.from_env(base).share_slack_email is False
    on = base | {"SLACK_SHARE_EMAIL_WITH_DESK": "true"}
    assert DeskSettings.from_env(on).share_slack_email is True
    with pytest.raises(ConfigError, match="SLACK_SHARE_EMAIL_WITH_DESK takes true or false"):
        DeskSettings.from_env(base | {"SLACK_SHARE_EMAIL_WITH_DESK": "maybe"})


# -- Zendesk: the requester object ------------------------------------------------------------


async def test_zendesk_tickets_are_requested_by_the_user_found_again_by_email() -> None:
    with FakeZendesk() as zendesk:
        desk = ZendeskDesk(zendesk.url, fake_zendesk.EMAIL, Secret(fake_zendesk.TOKEN))
        try:
            alice = Requester("U0ALICE", "Alice", "alice@example.com")
            first = await desk.create_ticket(request(alice), key="k1", existing=None, opened=opened)
            again = await desk.create_ticket(request(alice), key="k2", existing=None, opened=opened)
            named = Requester("U0BOB", "Bob")
            bob = await desk.create_ticket(request(named), key="k3", existing=None, opened=opened)
            anonymous = Requester("U0EVE")
            eve = await desk.create_ticket(
                request(anonymous), key="k4", existing=None, opened=opened
            )
        finally:
            await desk.aclose()
        tickets = {t.id: t for t in zendesk.tickets.values()}
        alice_id = tickets[int(first)].requester_id
        assert zendesk.users[alice_id]["email"] == "alice@example.com"
        assert tickets[int(again)].requester_id == alice_id  # the same Zendesk user
        assert zendesk.users[tickets[int(bob)].requester_id]["name"] == "Bob"
        assert "email" not in zendesk.users[tickets[int(bob)].requester_id]
        assert tickets[int(eve)].requester_id == fake_zendesk.API_USER  # nothing known


def test_the_fake_zendesk_refuses_a_requester_zendesk_would_refuse() -> None:
    with FakeZendesk() as zendesk:
        ticket = {"subject": "s", "comment": {"body": "b"}}
        for bad in (
            {"email": "a@b.example"},
            {"name": "A", "email": "nope"},
            {"name": "A", "x": 1},
        ):
            status, body = zendesk.route(
                "POST",
                "/api/v2/tickets.json",
                {},
                {"ticket": ticket | {"requester": bad}},
                {"authorization": _zendesk_auth()},
            )
            assert (status, body["error"]) == (422, "RecordInvalid"), bad


def _zendesk_auth() -> str:
    pair = f"{fake_zendesk.EMAIL}/token:{fake_zendesk.TOKEN}".encode()
    return "Basic " + base64.b64encode(pair).decode()


# -- Chatwoot: the contact -------------------------------------------------------------------


async def test_chatwoot_contacts_carry_the_user_and_one_email_is_one_contact() -> None:
    with FakeChatwoot() as chatwoot:
        desk = ChatwootDesk(
            chatwoot.url, fake_chatwoot.ACCOUNT, fake_chatwoot.INBOX, Secret(fake_chatwoot.TOKEN)
        )
        try:
            alice = Requester("U0ALICE", "Alice", "alice@example.com")
            one = await desk.create_ticket(
                request(alice, "c1"), key="k1", existing=None, opened=opened
            )
            two = await desk.create_ticket(
                request(alice, "c2"), key="k2", existing=None, opened=opened
            )
            anonymous = Requester("U0EVE")
            eve = await desk.create_ticket(
                request(anonymous, "c3"), key="k3", existing=None, opened=opened
            )
        finally:
            await desk.aclose()
        conversations = chatwoot.conversations
        first = conversations[int(one)].contact_id
        assert chatwoot.contacts[first]["name"] == "Alice"
        assert chatwoot.contacts[first]["email"] == "alice@example.com"
        # A second hand-off by the same e-mail: the same contact, given the inbox again
        # (Chatwoot refuses a second contact with that e-mail).
        assert conversations[int(two)].contact_id == first
        assert chatwoot.contact_inboxes == 1
        assert chatwoot.contacts[conversations[int(eve)].contact_id]["name"] == "Chat user U0EVE"


def test_the_fake_chatwoot_refuses_contacts_chatwoot_would_refuse() -> None:
    with FakeChatwoot() as chatwoot:
        headers = {"api_access_token": fake_chatwoot.TOKEN}
        path = f"/api/v1/accounts/{fake_chatwoot.ACCOUNT}/contacts"
        inbox = int(fake_chatwoot.INBOX)
        good = {"inbox_id": inbox, "name": "A", "email": "a@example.com"}
        assert chatwoot.route("POST", path, {}, good, headers)[0] == 200
        for bad in (good, {"inbox_id": inbox, "email": "nope"}, {"inbox_id": inbox, "nick": "A"}):
            assert chatwoot.route("POST", path, {}, bad, headers)[0] == 422, bad


async def test_a_requester_zendesk_refuses_is_a_refusal_not_a_retry() -> None:
    # A bad e-mail (one that did not come through `with_email`) is refused for good.
    with FakeZendesk() as zendesk:
        desk = ZendeskDesk(zendesk.url, fake_zendesk.EMAIL, Secret(fake_zendesk.TOKEN))
        try:
            with pytest.raises(DeskRefused):
                await desk.create_ticket(
                    request(Requester("U1", "A", "nope")), key="k", existing=None, opened=opened
                )
        finally:
            await desk.aclose()
        assert not zendesk.tickets
