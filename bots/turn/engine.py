"""One conversation turn: guard -> hand-off triggers -> retrieve -> reply -> record -> events."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from contextlib import aclosing, asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bots.errors import LLMError, StoreError
from bots.handoff.detect import is_affirmative, wants_human
from bots.handoff.lifecycle import HandoffDesk, HandoffSink
from bots.knowledge.persona import Persona
from bots.llm.client import ChatModel
from bots.llm.fit import ServerFit
from bots.logcontext import conversation_scope
from bots.models import (
    Conversation,
    ConversationState,
    EngineEvent,
    FinalReply,
    HandoffReason,
    IncomingMessage,
    ReplySource,
    Role,
    SilenceReason,
    Silent,
    ThreadKey,
    Turn,
    Usage,
)
from bots.retrieval.search import RetrievalResult
from bots.store import Store
from bots.store.activity import RetrievalOutcome
from bots.store.privacy import Retention
from bots.telemetry import NO_TELEMETRY, Telemetry, outcome_of
from bots.text import safe_text
from bots.tokens import message_tokens
from bots.turn.answer import ModelAnswer
from bots.turn.limits import Limits, LimitSettings, LLMBusy
from bots.turn.offline import offline_reply
from bots.turn.runtime import PersonaRuntime

log = logging.getLogger(__name__)

HISTORY_LIMIT = 60
# Told to the user when the database fails mid-turn: honest, and nothing about internals.
STORE_TROUBLE = (
    "Sorry, something went wrong on my side and I could not answer that. "
    "Please send your message again in a moment."
)
# Left in the model's history when a message is answered after a restart (see `resume`).
RESUMED_NOTE = "The assistant was restarted while answering the message above."
_PEOPLE_HAVE_IT = (ConversationState.WAITING_FOR_HUMAN, ConversationState.HUMAN)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Engine:
    """Decides what the bot does with each message and each staff action, as events."""

    def __init__(
        self,
        *,
        store: Store,
        personas: Mapping[str, PersonaRuntime],
        default_persona: str,
        llm: ChatModel | None,
        clock: Callable[[], datetime] = utc_now,
        handoff_sinks: Sequence[HandoffSink] = (),
        link_for: Callable[[ThreadKey], str | None] = lambda key: None,
        telemetry: Telemetry = NO_TELEMETRY,
        limits: Limits | None = None,
        retention: Retention | None = None,
        fit: ServerFit | None = None,
    ) -> None:
        """`link_for` is the adapter's way to turn a thread into a web link for the team.

        `limits` defaults to no limits; `retention` (None: keep everything) runs from `tick`.
        `fit` is what the run knows of the model server's window and tool calls (default:
        nothing yet; it learns from the server's refusals).
        """
        if default_persona not in personas:
            raise KeyError(default_persona)
        self._store = store
        self._personas = personas  # a live view: a hot reload swaps what it holds
        self._default = default_persona
        self._llm = llm
        self._clock = clock
        self._telemetry = telemetry
        self._locks = _KeyedLocks()
        self._limits = limits or Limits(LimitSettings(), store, clock)
        self._retention = retention
        self._fit = fit or ServerFit()
        self._desk = HandoffDesk(
            store=store, llm=llm, clock=clock, sinks=handoff_sinks, link_for=link_for
        )

    # -- messages -----------------------------------------------------------------------

    async def handle(
        self, message: IncomingMessage, persona: str | None = None
    ) -> AsyncGenerator[EngineEvent, None]:
        """Process one message. Messages of one conversation are handled one at a time, in order.

        The conversation stays locked until this generator finishes, so a caller that stops
        early must close it (`contextlib.aclosing`), as every adapter does. Log lines written
        meanwhile carry the conversation id; the outcome and time go to the telemetry.
        """
        started = time.perf_counter()
        routed = persona if persona is not None and persona in self._personas else self._default
        outcome = "error"
        with conversation_scope(message.key.as_id()):
            try:
                async with aclosing(self._handle(message, persona)) as events:
                    async for event in events:
                        outcome = outcome_of(event) or outcome
                        yield event
            except StoreError:
                self._telemetry.error("store", "StoreError")
                raise
            finally:
                seconds = time.perf_counter() - started
                self._telemetry.turn_finished(routed, message.key.platform, outcome, seconds)

    async def _handle(
        self, message: IncomingMessage, persona: str | None = None
    ) -> AsyncGenerator[EngineEvent, None]:
        """The turn itself, under the conversation's locks (see `handle`)."""
        message = replace(message, text=safe_text(message.text))
        if not message.text.strip():
            yield Silent(SilenceReason.EMPTY)
            return
        # The store's hold keeps other processes sharing the database out of this
        # conversation too (the in-process lock first, so each process waits there once).
        key_id = message.key.as_id()
        async with self._locks.hold(key_id):
            turn = self._held(key_id, self._handle_locked(message, persona))
            async for event in _honest_on_store_failure(turn, self._telemetry):
                yield event

    async def _held(
        self, key_id: str, events: AsyncGenerator[EngineEvent, None]
    ) -> AsyncGenerator[EngineEvent, None]:
        """`events` under the store's hold on the conversation (a database that is down
        fails here too, inside the honest-notice wrapper)."""
        async with self._store.serialised(key_id), aclosing(events):
            async for event in events:
                yield event

    async def _budgeted(
        self, message: IncomingMessage, events: AsyncIterator[EngineEvent]
    ) -> AsyncGenerator[EngineEvent, None]:
        """`events` under the limits' hold on this user's budget, from the budget check to the
        charge (`Limits.budget_hold`: a burst of one user's messages is answered in turn)."""
        async with self._limits.budget_hold(message):
            async for event in events:
                yield event

    async def _handle_locked(
        self, message: IncomingMessage, persona: str | None
    ) -> AsyncGenerator[EngineEvent, None]:
        started = time.perf_counter()
        wanted = persona if persona is not None and persona in self._personas else self._default
        conversation = await self._store.ensure_conversation(message.key, wanted, self._clock())
        runtime = self._runtime(conversation)
        history = await self._store.recent_turns(conversation.id, HISTORY_LIMIT)
        if not await self._record_incoming(conversation, message, runtime):
            yield Silent(SilenceReason.DUPLICATE)
            return
        async for event in self._budgeted(
            message, self._turn(conversation, runtime, history, message)
        ):
            yield event
        log.info(
            "turn done conversation=%s ms=%.1f",
            conversation.id,
            (time.perf_counter() - started) * 1000,
        )

    # -- messages a process died in the middle of --------------------------------------

    async def interrupted(
        self, *, max_age: timedelta = timedelta(days=1), min_age: timedelta = timedelta(0)
    ) -> list[IncomingMessage]:
        """User messages that were recorded but never answered: the process died mid-turn.

        Adapters call this at start and pass each message to `resume`. With other processes
        sharing the store, `min_age` must exceed the longest turn (model timeouts and
        retries included): a younger message may still be being answered over there.
        """
        now = self._clock()
        found = await self._store.unanswered_turns(now - max_age, now - min_age)
        return [
            IncomingMessage(
                key=conversation.key,
                author_id=turn.author_id,
                text=turn.text,
                message_id=turn.message_id,
            )
            for conversation, turn in found
        ]

    async def resume(self, message: IncomingMessage) -> AsyncGenerator[EngineEvent, None]:
        """Answer an interrupted message (from `interrupted`) once, even across processes.

        A note recorded under a derived event id claims the message first, so a second
        process or a second restart finds it taken (Silent DUPLICATE) and answers nothing.
        """
        key_id = message.key.as_id()
        async with self._locks.hold(key_id):
            turn = self._held(key_id, self._resume_locked(message))
            async for event in _honest_on_store_failure(turn, self._telemetry):
                yield event

    async def _resume_locked(self, message: IncomingMessage) -> AsyncGenerator[EngineEvent, None]:
        conversation = await self._store.get_conversation(message.key)
        if conversation is None:
            yield Silent(SilenceReason.DUPLICATE)
            return
        turns = await self._store.recent_turns(conversation.id, HISTORY_LIMIT + 1)
        newest = turns[-1] if turns else None
        if newest is None or (newest.role, newest.message_id) != (Role.USER, message.message_id):
            yield Silent(SilenceReason.DUPLICATE)  # answered (or handed over) meanwhile
            return
        runtime = self._runtime(conversation)
        note = Turn(
            role=Role.NOTE,
            text=RESUMED_NOTE,
            author_id="system",
            message_id="",
            created_at=self._clock(),
            token_count=message_tokens(runtime.counter, RESUMED_NOTE),
        )
        claim = "resumed:" + _event_id(message)
        if not await self._store.record_incoming(conversation.id, claim, note):
            yield Silent(SilenceReason.DUPLICATE)
            return
        message = replace(message, text=newest.text, author_id=newest.author_id)
        async for event in self._budgeted(
            message, self._turn(conversation, runtime, turns[:-1], message)
        ):
            yield event

    async def _turn(
        self,
        conversation: Conversation,
        runtime: PersonaRuntime,
        history: list[Turn],
        message: IncomingMessage,
    ) -> AsyncIterator[EngineEvent]:
        state = conversation.state
        if message.is_staff and state is ConversationState.WAITING_FOR_HUMAN:
            claimed = await self._desk.claim(conversation, message.author_id)
            yield claimed or Silent(SilenceReason.HUMAN_OWNS_THREAD)
            return
        if state in _PEOPLE_HAVE_IT:
            yield Silent(SilenceReason.HUMAN_OWNS_THREAD)
            return
        if message.is_staff and not message.addressed_to_bot:
            # The team talking to the user in a thread the bot has: recorded, not answered.
            # (Staff who mention the bot are asking it something, and get an answer.)
            yield Silent(SilenceReason.STAFF_MESSAGE)
            return
        if state is ConversationState.RESOLVED:
            await self._store.set_state(conversation.id, ConversationState.BOT, self._clock())
        trigger = self._requested_handoff(conversation, message.text)
        if trigger is not None:
            yield await self._hand_off(conversation, runtime, trigger, "", message.author_id)
            return
        if (refusal := await self._limits.refusal(conversation, message)) is not None:
            yield await self._refuse(conversation, runtime, refusal)
            return
        text, cut = self._limits.cut(message.text)
        message = replace(message, text=text)
        retrieval = runtime.retriever.search(text, k=runtime.persona.knowledge.max_snippets)
        best = retrieval.best
        self._telemetry.retrieval(runtime.persona.name, best.confidence if best else 0.0)
        outcome = RetrievalOutcome(
            message_id=message.message_id,
            entry_id=best.entry.id if best else None,
            confidence=best.confidence if best else 0.0,
            confident=retrieval.confident,
            at=self._clock(),
        )
        await self._store.record_retrieval(conversation.id, outcome)  # for `bots report`
        async for event in self._reply(conversation, runtime, retrieval, history, message, cut):
            yield event

    @staticmethod
    def _requested_handoff(conversation: Conversation, text: str) -> HandoffReason | None:
        """Hand-off triggers checked before any model is asked (cheap, work offline)."""
        if conversation.offer_reason and is_affirmative(text):
            if conversation.offer_reason in (HandoffReason.FEEDBACK, HandoffReason.LIMIT):
                return HandoffReason(conversation.offer_reason)
            return HandoffReason.NO_ANSWER
        if wants_human(text):
            return HandoffReason.USER_ASKED
        return None

    async def _reply(
        self,
        conversation: Conversation,
        runtime: PersonaRuntime,
        retrieval: RetrievalResult,
        history: list[Turn],
        message: IncomingMessage,
        cut: bool = False,
    ) -> AsyncIterator[EngineEvent]:
        if self._llm is None:
            reply = offline_reply(runtime.persona, retrieval, llm_down=False)
        else:
            answer = ModelAnswer(self._llm, runtime, retrieval, history, message.text, self._fit)
            try:
                async with self._limits.llm_slot():
                    async for delta in answer.stream():
                        yield delta
            except LLMBusy:
                yield await self._refuse(conversation, runtime, self._limits.busy_text)
                return
            except LLMError as exc:
                log.warning(
                    "llm failed conversation=%s error=%s", conversation.id, type(exc).__name__
                )
                if not retrieval.confident:
                    reason, detail = HandoffReason.LLM_UNAVAILABLE, type(exc).__name__
                    yield await self._hand_off(
                        conversation, runtime, reason, detail, message.author_id
                    )
                    return
                reply = offline_reply(runtime.persona, retrieval, llm_down=True)
            else:
                model, spent = runtime.model, answer.spent()
                await self._limits.charge(conversation, message.author_id, model, spent)
                if answer.handoff_reason is not None:
                    reason, detail = HandoffReason.MODEL_TOOL, answer.handoff_reason
                    yield await self._hand_off(
                        conversation, runtime, reason, detail, message.author_id
                    )
                    return
                reply = answer.reply()
                if not reply.text:
                    # Nothing usable (or only citation markers): answer as if offline.
                    reply = offline_reply(runtime.persona, retrieval, llm_down=False)
        if cut:
            reply = replace(reply, text=f"{reply.text}\n\n{self._limits.cut_notice}")
        async for event in self._deliver(conversation, runtime, reply, message):
            yield event

    async def _deliver(
        self,
        conversation: Conversation,
        runtime: PersonaRuntime,
        reply: FinalReply,
        message: IncomingMessage,
    ) -> AsyncIterator[EngineEvent]:
        """Send the reply, and hand off after too many answers in a row it could not give.

        Only knowledge-base fallbacks ("I don't know") count as unanswered: a model reply
        without citations may be small talk, and the model has the hand-off tool for the
        questions it cannot answer.
        """
        unanswered = reply.source is ReplySource.FALLBACK
        failed_turns = conversation.failed_turns + 1 if unanswered else 0
        if unanswered and failed_turns >= runtime.persona.handoff.after_failed_turns:
            # Saying "I don't know, want a person?" yet again helps nobody: get the person.
            reason, detail = HandoffReason.NO_ANSWER, f"{failed_turns} unanswered in a row"
            yield await self._hand_off(conversation, runtime, reason, detail, message.author_id)
            return
        if reply.source is ReplySource.LLM and await self._taken_meanwhile(conversation):
            yield Silent(SilenceReason.HUMAN_OWNS_THREAD)
            return
        await self._record_reply(conversation, runtime, reply)
        offer = HandoffReason.NO_ANSWER.value if unanswered else None
        if (failed_turns, offer) != (conversation.failed_turns, conversation.offer_reason):
            await self._store.set_counters(
                conversation.id, failed_turns=failed_turns, offer_reason=offer
            )
        yield reply

    async def _taken_meanwhile(self, conversation: Conversation) -> bool:
        """Whether people took the thread while the model was writing.

        Within one process the conversation lock rules this out; another process sharing the
        database (a staff claim handled there) can still do it during a slow model call.
        """
        current = await self._store.get_conversation_by_id(conversation.id)
        return current is not None and current.state in _PEOPLE_HAVE_IT

    async def _hand_off(
        self,
        conversation: Conversation,
        runtime: PersonaRuntime,
        reason: HandoffReason,
        detail: str,
        user_id: str,
    ) -> EngineEvent:
        event = await self._desk.hand_off(
            conversation, runtime.persona, runtime.model, reason, detail, user_id
        )
        if event is None:
            return Silent(SilenceReason.HUMAN_OWNS_THREAD)
        self._telemetry.handoff(reason.value)
        return event

    async def _refuse(
        self, conversation: Conversation, runtime: PersonaRuntime, why: str
    ) -> FinalReply:
        """A limit stopped the turn: say why, offer a person, and let a "yes" hand over."""
        reply = FinalReply(f"{why} {runtime.persona.handoff.offer}", ReplySource.FALLBACK)
        await self._record_reply(conversation, runtime, reply)
        await self._store.set_counters(
            conversation.id,
            failed_turns=conversation.failed_turns,
            offer_reason=HandoffReason.LIMIT.value,
        )
        return reply

    async def knows(self, key: ThreadKey) -> bool:
        """Whether the bot is in this thread: adapters pass on follow-ups without a mention."""
        return await self._store.get_conversation(key) is not None

    async def state(self, key: ThreadKey) -> ConversationState | None:
        """The thread's hand-off state (None: the bot has no conversation there)."""
        conversation = await self._store.get_conversation(key)
        return None if conversation is None else conversation.state

    # -- staff and feedback ------------------------------------------------------------

    async def claim(self, key: ThreadKey, staff_id: str) -> EngineEvent:
        """A staff member takes a waiting thread (claim button or command)."""
        async with self._locks.hold(key.as_id()):
            conversation = await self._store.get_conversation(key)
            if conversation is None:
                return Silent(SilenceReason.NOT_HANDED_OFF)
            claimed = await self._desk.claim(conversation, staff_id)
            return claimed or Silent(SilenceReason.NOT_HANDED_OFF)

    async def resolve(self, key: ThreadKey, staff_id: str | None) -> EngineEvent:
        """Staff hand the thread back to the bot (resolve button or command)."""
        async with self._locks.hold(key.as_id()):
            conversation = await self._store.get_conversation(key)
            if conversation is None:
                return Silent(SilenceReason.NOT_HANDED_OFF)
            resolved = await self._desk.resolve(
                conversation, self._runtime(conversation).persona, staff_id
            )
            return resolved or Silent(SilenceReason.NOT_HANDED_OFF)

    async def staff_handoff(self, key: ThreadKey, staff_id: str, reason: str) -> EngineEvent:
        """Staff move a thread to the team themselves (a command on the thread)."""
        async with self._locks.hold(key.as_id()):
            conversation = await self._store.ensure_conversation(key, self._default, self._clock())
            runtime = self._runtime(conversation)
            detail = f"{reason} (by {staff_id})" if reason else f"by {staff_id}"
            return await self._hand_off(conversation, runtime, HandoffReason.STAFF, detail, "")

    async def feedback(
        self, key: ThreadKey, message_id: str, user_id: str, positive: bool
    ) -> FinalReply | None:
        """Record a thumbs up/down; a thumbs-down returns the offer of a person to show."""
        async with self._locks.hold(key.as_id()):
            conversation = await self._store.get_conversation(key)
            if conversation is None:
                return None
            await self._store.add_feedback(
                conversation.id, message_id, user_id, positive, self._clock()
            )
            if positive or conversation.state in _PEOPLE_HAVE_IT:
                return None
            await self._store.set_counters(
                conversation.id,
                failed_turns=conversation.failed_turns,
                offer_reason=HandoffReason.FEEDBACK.value,
            )
            offer = self._runtime(conversation).persona.handoff.offer
            return FinalReply(text=offer, source=ReplySource.FALLBACK)

    async def tick(self) -> list[EngineEvent]:
        """Timed work, called every minute or so: reminders, hand-backs, retention."""
        events: list[EngineEvent] = list(await self._desk.reminders(self._persona_of))
        now = self._clock()
        if self._retention is not None:
            await self._retention.run_if_due(now)
        limits = [r.persona.handoff.resolve_after_quiet_minutes for r in self._personas.values()]
        shortest = min((m for m in limits if m > 0), default=0)
        if shortest <= 0:
            return events
        quiet = await self._store.quiet_conversations(
            ConversationState.HUMAN, now - timedelta(minutes=shortest)
        )
        for conversation in quiet:
            persona = self._runtime(conversation).persona
            limit = persona.handoff.resolve_after_quiet_minutes
            if limit <= 0:
                continue
            async with self._locks.hold(conversation.key.as_id()):
                resolved = await self._desk.resolve(
                    conversation, persona, None, idle_since=now - timedelta(minutes=limit)
                )
            if resolved is not None:
                events.append(resolved)
        return events

    async def aclose(self) -> None:
        """Let background deliveries (webhooks) finish."""
        await self._desk.drain()

    # -- helpers -------------------------------------------------------------------------

    def _runtime(self, conversation: Conversation) -> PersonaRuntime:
        return self._personas.get(conversation.persona) or self._personas[self._default]

    def _persona_of(self, name: str) -> Persona:
        return (self._personas.get(name) or self._personas[self._default]).persona

    async def _record_incoming(
        self, conversation: Conversation, message: IncomingMessage, runtime: PersonaRuntime
    ) -> bool:
        turn = Turn(
            role=Role.STAFF if message.is_staff else Role.USER,
            text=message.text,
            author_id=message.author_id,
            message_id=message.message_id,
            created_at=self._clock(),
            token_count=message_tokens(runtime.counter, message.text),
        )
        return await self._store.record_incoming(conversation.id, _event_id(message), turn)

    async def _record_reply(
        self, conversation: Conversation, runtime: PersonaRuntime, reply: FinalReply
    ) -> None:
        turn = Turn(
            role=Role.ASSISTANT,
            text=reply.text,
            author_id="bot",
            message_id="",
            created_at=self._clock(),
            token_count=message_tokens(runtime.counter, reply.text),
            cited_ids=tuple(c.entry_id for c in reply.citations),
        )
        await self._store.append_turn(conversation.id, turn)
        if reply.usage != Usage():
            await self._store.add_usage(conversation.id, reply.usage)


def _event_id(message: IncomingMessage) -> str:
    # Message ids are unique per channel on some platforms (Slack's `ts`), not globally.
    key = message.key
    return ThreadKey(key.platform, key.workspace, key.channel, message.message_id).as_id()


async def _honest_on_store_failure(
    events: AsyncGenerator[EngineEvent, None], telemetry: Telemetry
) -> AsyncIterator[EngineEvent]:
    """The turn's events; if the database fails midway, an honest notice instead of a crash.

    A message recorded before the failure stays unanswered in the store, so `interrupted`
    finds it after a restart.
    """
    try:
        async with aclosing(events):  # a caller stopping early closes the model stream too
            async for event in events:
                yield event
    except StoreError as exc:
        log.error("store failed during a turn: %s", exc)
        telemetry.error("store", "StoreError")
        yield FinalReply(text=STORE_TROUBLE, source=ReplySource.FALLBACK)


class _KeyedLocks:
    """One FIFO lock per conversation, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)
