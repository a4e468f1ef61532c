"""Cost and abuse limits: daily token budgets, the model-call gate, message rate, input length.

Every limit is off unless configured (`LimitSettings.from_env`), except the input length,
which has always been capped. A limit that stops a message never leaves the user in silence:
the engine answers with the reason in plain words and the persona's offer of a person, and
remembers the offer (`HandoffReason.LIMIT`) so that a "yes" hands the thread over.

Budgets count the tokens of the usage ledger (migration 3), kept by the store: they hold
across restarts and across every process sharing a PostgreSQL database. A day is a UTC day:
budgets reset at 00:00 UTC. A budget is checked before a model call, so the call that crosses
it still completes (the overshoot is at most one reply). With a user budget, one user's turns
take their turn in a process (`budget_hold`, from the check to the charge): a burst of
messages at once would otherwise all pass the check before the first was charged (ten
answers against a budget of one, found by tests/unit/turn/test_abuse_limits.py). With several
processes a user may overshoot by one reply per process. A channel budget is not held that
way (it would make a busy channel wait for each answer in turn): it may overshoot by the
model calls in flight at once, at most `BOTS_LLM_CONCURRENCY` per process.

The message rate is a sliding one-minute log of each user's message times, per process, on
the engine's injected clock. Libraries considered: `limits` (moving windows in memory or
Redis) and `pyrate-limiter` read the wall clock themselves, so a test could only drive them by
patching time; `aiolimiter` is a leaky bucket that makes callers wait, where a message over
the limit must be answered at once. The log is a few lines, exact, and driven by the clock
the engine already takes. (Counting the stored messages instead would hold across
processes, but needs one more index on every message written, which measurably grew
SQLite's WAL; with several processes a user gets at most the limit once per process.)

The concurrency gate is an `asyncio.Semaphore` plus a count of waiters (the bounded queue):
per process, since a model call's slot lasts only while its process streams the reply.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bots.env_values import optional_count
from bots.language.catalog import message as catalog_message
from bots.models import Conversation, IncomingMessage, ThreadKey, Usage, UsageEntry
from bots.store import Store

DEFAULT_MAX_INPUT_CHARS = 6_000
DEFAULT_QUEUE = 20
RATE_WINDOW = timedelta(minutes=1)
MAX_TRACKED_USERS = 10_000  # beyond this, users quiet for a minute are dropped from the log

# The English wording of the refusals (bots/language/catalog.py has every language's).
USER_BUDGET_TEXT = catalog_message("user_budget", "en")
CHANNEL_BUDGET_TEXT = catalog_message("channel_budget", "en")
BUSY_TEXT = catalog_message("busy", "en")
RATE_TEXT = catalog_message("rate", "en")
CUT_TEXT = catalog_message("cut_input", "en").replace("{limit}", "{limit:,}")


@dataclass(frozen=True)
class LimitSettings:
    """The limits an operator chose; None means no limit."""

    user_daily_tokens: int | None = None
    channel_daily_tokens: int | None = None
    llm_concurrency: int | None = None
    llm_queue: int = DEFAULT_QUEUE
    user_messages_per_minute: int | None = None
    max_input_chars: int = DEFAULT_MAX_INPUT_CHARS

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> LimitSettings:
        queue = optional_count(environ, "BOTS_LLM_QUEUE", minimum=0)
        max_chars = optional_count(environ, "BOTS_MAX_INPUT_CHARS", minimum=100)
        return cls(
            user_daily_tokens=optional_count(environ, "BOTS_USER_DAILY_TOKENS"),
            channel_daily_tokens=optional_count(environ, "BOTS_CHANNEL_DAILY_TOKENS"),
            llm_concurrency=optional_count(environ, "BOTS_LLM_CONCURRENCY"),
            llm_queue=DEFAULT_QUEUE if queue is None else queue,
            user_messages_per_minute=optional_count(environ, "BOTS_USER_MESSAGES_PER_MINUTE"),
            max_input_chars=DEFAULT_MAX_INPUT_CHARS if max_chars is None else max_chars,
        )


class LLMBusy(Exception):
    """Every model-call slot is taken and the queue is full."""


def channel_id(key: ThreadKey) -> str:
    """The id budgets count a channel by: the thread key without its thread."""
    return ThreadKey(key.platform, key.workspace, key.channel, "").as_id()


class LLMGate:
    """At most `concurrency` model calls at once, and at most `queue` more waiting."""

    def __init__(self, concurrency: int | None, queue: int) -> None:
        self._slots = asyncio.Semaphore(concurrency) if concurrency else None
        self._queue = queue
        self._waiting = 0

    @property
    def waiting(self) -> int:
        """Model calls waiting for a slot now."""
        return self._waiting

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a slot for the block; LLMBusy at once when the queue is full."""
        if self._slots is None:
            yield
            return
        if self._slots.locked() and self._waiting >= self._queue:
            raise LLMBusy
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        try:
            yield
        finally:
            self._slots.release()


class MessageRate:
    """At most `per_minute` messages per user in any sliding minute (None: no limit)."""

    def __init__(self, per_minute: int | None) -> None:
        self._limit = per_minute
        self._seen: dict[str, deque[datetime]] = {}

    def allow(self, user_id: str, now: datetime) -> bool:
        """Count this message; False when it is over the limit (it still counts)."""
        if self._limit is None:
            return True
        times = self._seen.setdefault(user_id, deque())
        while times and times[0] <= now - RATE_WINDOW:
            times.popleft()
        times.append(now)
        if len(self._seen) > MAX_TRACKED_USERS:
            self._forget_quiet_users(now)
        return len(times) <= self._limit

    def _forget_quiet_users(self, now: datetime) -> None:
        quiet = [u for u, t in self._seen.items() if not t or t[-1] <= now - RATE_WINDOW]
        for user_id in quiet:
            del self._seen[user_id]


class Limits:
    """The limits policy the engine consults; with default settings it allows everything."""

    def __init__(
        self,
        settings: LimitSettings,
        store: Store,
        clock: Callable[[], datetime],
    ) -> None:
        self.settings = settings
        self._store = store
        self._clock = clock
        self._gate = LLMGate(settings.llm_concurrency, settings.llm_queue)
        self._rate = MessageRate(settings.user_messages_per_minute)
        self._budget_holds: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def budget_hold(self, message: IncomingMessage) -> AsyncIterator[None]:
        """Hold from the budget check (`refusal`) to the charge: this user's other turns in
        this process wait, so each sees what the one before spent. Nothing to hold without a
        user budget, or for staff (held to the channel's budget only)."""
        if self.settings.user_daily_tokens is None or message.is_staff:
            yield
            return
        user = message.author_id
        lock, users = self._budget_holds.get(user, (asyncio.Lock(), 0))
        self._budget_holds[user] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._budget_holds[user]
            if users <= 1:
                del self._budget_holds[user]  # forgotten when nobody waits: no growth
            else:
                self._budget_holds[user] = (lock, users - 1)

    async def refusal(self, conversation: Conversation, message: IncomingMessage) -> str | None:
        """Why this message must not be answered now, as a message name (bots.language), or None.

        Staff are held to the channel's budget only. Each call counts as one message of the
        user's rate.
        """
        settings, now = self.settings, self._clock()
        if not message.is_staff and not self._rate.allow(message.author_id, now):
            return "rate"
        day = now.astimezone(UTC).date()
        if not message.is_staff and settings.user_daily_tokens is not None:
            spent = await self._store.usage_on(day, user_id=message.author_id)
            if _total(spent) >= settings.user_daily_tokens:
                return "user_budget"
        if settings.channel_daily_tokens is not None:
            spent = await self._store.usage_on(day, channel=channel_id(conversation.key))
            if _total(spent) >= settings.channel_daily_tokens:
                return "channel_budget"
        return None

    def cut(self, text: str) -> tuple[str, bool]:
        """`text` cut to the maximum input length, and whether it was cut."""
        limit = self.settings.max_input_chars
        return (text[:limit], True) if len(text) > limit else (text, False)

    @property
    def max_input_chars(self) -> int:
        """What `cut` keeps of a message, for the note that says so."""
        return self.settings.max_input_chars

    @property
    def queued_llm_calls(self) -> int:
        """Model calls waiting for a slot now (for metrics, and for tests to wait on)."""
        return self._gate.waiting

    def llm_slot(self) -> AbstractAsyncContextManager[None]:
        """An async context manager around one model call (LLMBusy when the queue is full)."""
        return self._gate.slot()

    async def charge(
        self, conversation: Conversation, user_id: str, model: str, usage: Usage
    ) -> None:
        """Record what one model call spent, against today's budgets."""
        entry = UsageEntry(
            at=self._clock(),
            user_id=user_id,
            channel=channel_id(conversation.key),
            conversation_id=conversation.id,
            model=model,
            usage=usage,
        )
        await self._store.record_usage(entry)


def _total(usage: Usage) -> int:
    return usage.prompt_tokens + usage.completion_tokens
