"""The hand-off webhook against a real local HTTP receiver: body, signature, retries, failures."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from bots.errors import ConfigError
from bots.handoff.webhook import HandoffWebhook, encode, payload, sign, verify_signature
from bots.models import HandoffReason, HandoffRecord, ThreadKey
from bots.secret import Secret
from tests.conftest import RecordingSleep
from tests.fakes.fake_webhook import Answer, FakeWebhookServer, Received, closed_port_url

SECRET = "whsec-test-7f3a9c1e5b-do-not-log"
NOW = 1_700_000_000.0
USER_TEXT = "my card was charged twice for order 4411"
KEY = ThreadKey("slack", "T01", "C02", "1700000000.0001")
RECORD = HandoffRecord(
    conversation_id=KEY.as_id(),
    key=KEY,
    persona="cafe",
    user_id="U123",
    reason=HandoffReason.USER_ASKED,
    detail="asked for a person",
    summary=("Double charge on order 4411.", "Bot could not refund.", "User asked for a person."),
    last_messages=(("user", USER_TEXT), ("assistant", "Let me get someone."), ("user", "thanks")),
    requested_at=datetime(2024, 5, 1, 14, 30, 5, tzinfo=timezone(timedelta(hours=2))),
    out_of_hours=True,
)
LINK = "https://example.slack.com/archives/C02/p1700000000000100"


class TickingClock:
    """Unix time that advances one second per reading, so each attempt gets its own stamp."""

    def __init__(self, start: float = NOW) -> None:
        self.now = start

    def __call__(self) -> float:
        self.now += 1
        return self.now


@pytest.fixture
def hook() -> Iterator[FakeWebhookServer]:
    with FakeWebhookServer() as server:
        yield server


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()


def make(url: str, sleeps: RecordingSleep, **options: object) -> HandoffWebhook:
    return HandoffWebhook(
        url,
        Secret(SECRET),
        sleep=sleeps,
        clock=options.pop("clock", lambda: NOW),  # type: ignore[arg-type]
        timeout=options.pop("timeout", 2.0),  # type: ignore[arg-type]
        **options,  # type: ignore[arg-type]
    )


async def send(url: str, sleeps: RecordingSleep, **options: object) -> bool:
    webhook = make(url, sleeps, **options)
    try:
        return await webhook.deliver(RECORD, link=LINK)
    finally:
        await webhook.aclose()


def verifies(request: Received, *, secret: str = SECRET, now: float = NOW) -> bool:
    return verify_signature(
        secret,
        request.headers["x-bots-timestamp"],
        request.body,
        request.headers["x-bots-signature"],
        now=now,
    )


# --- body and headers -----------------------------------------------------------------------


async def test_body_carries_every_field_of_the_record(
    hook: FakeWebhookServer, sleeps: RecordingSleep
) -> None:
    assert await send(hook.url, sleeps) is True

    [request] = hook.requests
    assert request.path == "/hooks/handoff"
    assert request.headers["content-type"] == "application/json"
    body = json.loads(request.body)
    assert body == {
        "type": "handoff.requested",
        "version": 1,
        "id": request.headers["x-bots-delivery"],
        "conversation_id": "slack/T01/C02/1700000000.0001",
        "platform": "slack",
        "workspace": "T01",
        "channel": "C02",
        "thread": "1700000000.0001",
        "persona": "cafe",
        "user_id": "U123",
        "reason": "user_asked",
        "detail": "asked for a person",
        "summary": list(RECORD.summary),
        "last_messages": [
            {"from": "user", "text": USER_TEXT},
            {"from": "assistant", "text": "Let me get someone."},
            {"from": "user", "text": "thanks"},
        ],
        "requested_at": "2024-05-01T12:30:05Z",
        "out_of_hours": True,
        "link": LINK,
    }
    assert datetime.fromisoformat(body["requested_at"]) == RECORD.requested_at
    assert request.headers["x-bots-timestamp"] == str(int(NOW))
    assert not sleeps.calls


def test_payload_without_link_is_null_and_each_call_gets_a_new_id() -> None:
    naive = dataclasses.replace(RECORD, requested_at=datetime(2024, 5, 1, 9, 0))
    first, second = payload(naive), payload(naive)
    assert first["link"] is None
    assert first["requested_at"] == "2024-05-01T09:00:00Z"
    assert first["id"] != second["id"]
    assert payload(RECORD, LINK, delivery_id="d-1")["id"] == "d-1"


# --- signature ------------------------------------------------------------------------------


async def test_signature_verifies_and_rejects_wrong_secret_tampering_and_replay(
    hook: FakeWebhookServer, sleeps: RecordingSleep
) -> None:
    await send(hook.url, sleeps)
    [request] = hook.requests
    assert request.headers["x-bots-signature"].startswith("sha256=")
    assert verifies(request)
    assert verifies(request, now=NOW + 299)

    assert not verifies(request, secret="whsec-someone-else")
    tampered = Received(
        request.method,
        request.path,
        request.headers,
        request.body.replace(b'"user_asked"', b'"staff"'),
    )
    assert not verifies(tampered)
    assert not verifies(request, now=NOW + 301)  # replayed later than the tolerance
    assert not verifies(request, now=NOW - 301)  # stamped too far in the future


def test_verify_signature_refuses_a_forged_timestamp_and_garbage() -> None:
    body = b'{"a":1}'
    good = sign(SECRET, "1700000000", body)
    assert verify_signature(SECRET, "1700000000", body, good, now=NOW)
    # Moving the timestamp forward to beat the replay check breaks the signature.
    assert not verify_signature(SECRET, "1700000900", body, good, now=NOW + 900)
    assert not verify_signature(SECRET, "not-a-time", body, good, now=NOW)
    assert not verify_signature(SECRET, "1700000000", body, "sha256=", now=NOW)
    assert not verify_signature(SECRET, "1700000000", body, "sha256=ü", now=NOW)
    assert not verify_signature(SECRET, "1700000000", body, good[7:], now=NOW)


def test_encode_is_the_exact_signed_bytes() -> None:
    data = payload(RECORD, LINK, delivery_id="d-1")
    assert json.loads(encode(data)) == data
    assert "ü".encode() in encode({"text": "ü"})


# --- retries --------------------------------------------------------------------------------


async def test_server_error_then_success_retries_with_same_id_and_fresh_signature(
    hook: FakeWebhookServer, sleeps: RecordingSleep
) -> None:
    hook.script(Answer(500))
    clock = TickingClock()

    assert await send(hook.url, sleeps, clock=clock) is True

    first, second = hook.requests
    assert first.body == second.body
    assert first.headers["x-bots-delivery"] == second.headers["x-bots-delivery"]
    assert json.loads(first.body)["id"] == first.headers["x-bots-delivery"]
    assert first.headers["x-bots-timestamp"] != second.headers["x-bots-timestamp"]
    assert verifies(first, now=clock.now)
    assert verifies(second, now=clock.now)
    assert len(sleeps.calls) == 1
    assert 1.0 <= sleeps.calls[0] <= 2.0  # first back-off step plus jitter


async def test_rate_limit_waits_for_retry_after(
    hook: FakeWebhookServer, sleeps: RecordingSleep
) -> None:
    hook.script(Answer(429, {"Retry-After": "7"}))
    assert await send(hook.url, sleeps) is True
    assert len(hook.requests) == 2
    assert sleeps.calls == [7.0]


async def test_retry_after_on_503_is_capped_at_a_minute(
    hook: FakeWebhookServer, sleeps: RecordingSleep
) -> None:
    hook.script(Answer(503, {"Retry-After": "3600"}))
    assert await send(hook.url, sleeps) is True
    assert sleeps.calls == [60.0]


async def test_timeout_is_retried(hook: FakeWebhookServer, sleeps: RecordingSleep) -> None:
    hook.script(Answer(delay=2.0))
    assert await send(hook.url, sleeps, timeout=0.1) is True
    assert len(hook.requests) == 2
    assert len(sleeps.calls) == 1


async def test_client_error_is_not_retried(
    hook: FakeWebhookServer, sleeps: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    hook.script(Answer(400, body=b"bad request"))
    with caplog.at_level(logging.WARNING, logger="bots.handoff.webhook"):
        assert await send(hook.url, sleeps) is False
    assert len(hook.requests) == 1
    assert not sleeps.calls
    assert "HTTP 400" in caplog.text
    assert "bad request" not in caplog.text


async def test_all_attempts_failing_returns_false_without_raising(
    hook: FakeWebhookServer, sleeps: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    hook.script(*[Answer(502)] * 3)
    with caplog.at_level(logging.WARNING, logger="bots.handoff.webhook"):
        assert await send(hook.url, sleeps, attempts=3) is False
    assert len(hook.requests) == 3
    assert len(sleeps.calls) == 2
    assert sleeps.calls[1] >= 2.0  # exponential
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "3 attempt(s)" in warning.getMessage()
    assert "HTTP 502" in warning.getMessage()


async def test_connection_refused_returns_false(
    sleeps: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bots.handoff.webhook"):
        assert await send(closed_port_url(), sleeps, attempts=2) is False
    assert len(sleeps.calls) == 1
    assert "ConnectError" in caplog.text


# --- secrecy and configuration --------------------------------------------------------------


async def test_secret_and_message_text_never_reach_logs_or_payload(
    hook: FakeWebhookServer, sleeps: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    echo = f"you sent {SECRET} and {USER_TEXT}".encode()
    hook.script(Answer(500, body=echo), Answer(429, body=echo), Answer(400, body=echo))
    with caplog.at_level(logging.DEBUG):
        assert await send(hook.url, sleeps) is False
        assert await send(closed_port_url(), sleeps, attempts=2) is False
        assert await send(hook.url, sleeps) is True

    assert caplog.records
    logged = caplog.text + "".join(repr(r.args) for r in caplog.records)
    assert SECRET not in logged
    assert USER_TEXT not in logged
    for request in hook.requests:
        assert SECRET.encode() not in request.body
        assert SECRET not in json.dumps(request.headers)
    assert SECRET not in json.dumps(payload(RECORD, LINK))


@pytest.mark.parametrize("url", ["", "ftp://desk.example/hook", "desk.example/hook", "http://"])
def test_bad_url_is_a_config_error(url: str, sleeps: RecordingSleep) -> None:
    with pytest.raises(ConfigError):
        HandoffWebhook(url, Secret(SECRET), sleep=sleeps)


def test_empty_secret_or_no_attempts_is_a_config_error(sleeps: RecordingSleep) -> None:
    with pytest.raises(ConfigError):
        HandoffWebhook("https://desk.example/hook", Secret(""), sleep=sleeps)
    with pytest.raises(ConfigError):
        HandoffWebhook("https://desk.example/hook", Secret(SECRET), attempts=0, sleep=sleeps)


async def test_usable_as_async_context_manager(
    hook: FakeWebhookServer, sleeps: RecordingSleep
) -> None:
    async with HandoffWebhook(hook.url, Secret(SECRET), sleep=sleeps) as webhook:
        assert await webhook.deliver(RECORD) is True
    assert json.loads(hook.requests[0].body)["link"] is None
