"""One conversation turn: guard -> hand-off triggers -> retrieve -> reply -> record -> events."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Callable,
    Mapping,
    Sequence,
)
from contextlib import aclosing, asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bots.errors import LLMError, StoreError
from bots.handoff.detect import is_affirmative, is_decline, wants_human
from bots.handoff.intake import IntakeCheck, check_answers
from bots.handoff.lifecycle import HandoffDesk, HandoffSink
from bots.handoff.unknown import admits_not_knowing
from bots.knowledge.entry_points import IntakeForm
from bots.knowledge.persona import Persona
from bots.language.catalog import language_name, supported
from bots.language.catalog import message as catalog_message
from bots.language.conversation import conversation_language, reply_language
from bots.llm.client import ChatModel
from bots.llm.fit import ServerFit
from bots.llm.outages import ServerFailures
from bots.logcontext import conversation_scope
from bots.models import (
    Conversation,
    ConversationState,
    EngineEvent,
    FinalReply,
    HandoffReason,
    IncomingMessage,
    IntakeDetails,
    ReplySource,
    Role,
    SilenceReason,
    Silent,
    StaleReply,
    ThreadKey,
    Turn,
    Usage,
)
from bots.retrieval.followup import is_follow_up
from bots.retrieval.search import RetrievalResult
from bots.store import Store
from bots.store.activity import RetrievalOutcome
from bots.store.privacy import Retention
from bots.telemetry import NO_TELEMETRY, Telemetry, outcome_of
from bots.text import safe_text
from bots.tokens import message_tokens
from bots.turn.answer import ModelAnswer
from bots.turn.attachments import HeldFiles, cannot_see, noted, turn_files
from bots.turn.burst import BURST_LIMIT, burst_ending
from bots.turn.deadline import DEFAULT_TURN_TIMEOUT, Deadline, Sleep, deadline_in
from bots.turn.limits import Limits, LimitSettings, LLMBusy
from bots.turn.offline import offline_reply
from bots.turn.quiet import stays_silent
from bots.turn.rewrite import standalone_question
from bots.turn.runtime import PersonaRuntime
from bots.turn.suggestions import suggested_prompts

log = logging.getLogger(__name__)

HISTORY_LIMIT = 60
# Told to the user when the database fails mid-turn: honest, and nothing about internals.
STORE_TROUBLE = catalog_message("store_trouble", "en")
# The turns read for the user's language when the bot speaks unprompted (a hand-back).
_LANGUAGE_TURNS = 12
# Left in the model's history when a message is answered after a restart (see `resume`).
RESUMED_NOTE = "The assistant was restarted while answering the message above."
_PEOPLE_HAVE_IT = (ConversationState.WAITING_FOR_HUMAN, ConversationState.HUMAN)
DUE_GRACE = timedelta(seconds=15)
"""Added to a turn's deadline in the store: time to record the reply once the model is cut
off, and room for the clocks of machines sharing PostgreSQL being a little apart."""
# A "yes" to these offers hands off for the offer's own reason (others: no answer).
_OFFERS_KEEPING_THEIR_REASON = (
    HandoffReason.FEEDBACK,
    HandoffReason.LIMIT,
    HandoffReason.LLM_UNAVAILABLE,
)


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
        turn_timeout: float = DEFAULT_TURN_TIMEOUT,
        sleep: Sleep = asyncio.sleep,
        failures: ServerFailures | None = None,
        llm_server: str = "llm",
        language_of: Callable[[str], str] | None = None,
        wants_person: Callable[[str], bool] = wants_human,
        burst_window: timedelta = timedelta(0),
        fit: ServerFit | None = None,
    ) -> None:
        """`link_for` is the adapter's way to turn a thread into a web link for the team.

        `limits` defaults to no limits; `retention` (None: keep everything) runs from `tick`.
        `turn_timeout` is each turn's deadline in seconds; `sleep` waits on `clock`'s time
        (tests pass a fake pair, so a two-minute deadline passes at once).
        `failures` counts the model's failures per server (`llm_server`, its base URL), and
        is shared with `/healthz`.
        `language_of` names the language a text is written in (bots.language.identify), for
        the fixed messages; None answers every fixed message in the persona's own words.
        `wants_person` is the hand-off detector run before any model call. With a
        `burst_window`, a user's message waits that long (`sleep`) for the next one, and quick
        messages are answered once, together (`_handle`).
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
        self._turn_timeout = turn_timeout
        self._sleep = sleep
        self._telemetry = telemetry
        self._locks = _KeyedLocks()
        self._limits = limits or Limits(LimitSettings(), store, clock)
        self._retention = retention
        self._failures = failures or ServerFailures()
        self._llm_server = llm_server
        self._language_of = language_of or (lambda text: "en")
        self._wants_person = wants_person
        self._burst_window = burst_window
        self._held_files = HeldFiles()  # a burst's files, until its last message answers
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
        if not message.text.strip() and not message.attachments:
            yield Silent(SilenceReason.EMPTY)
            return
        # The store's hold keeps other processes sharing the database out of this
        # conversation too (the in-process lock first, so each process waits there once).
        key_id = message.key.as_id()
        language = self._language_of(message.text)
        trouble = catalog_message("store_trouble", language)
        if self._burst_window > timedelta(0) and not message.is_staff:
            # Recorded at once (in order, deduplicated), then answered after the window, when
            # no later message of the same burst has arrived: the last one answers them all.
            async with self._locks.hold(key_id):
                recorded = self._held(key_id, self._record_for_burst(message, persona))
                refused = [
                    event
                    async for event in _honest_on_store_failure(recorded, self._telemetry, trouble)
                ]
            if refused:
                for event in refused:
                    yield event
                return
            self._held_files.hold(key_id, message.message_id, message.attachments)
            await self._sleep(self._burst_window.total_seconds())
            async with self._locks.hold(key_id):
                turn = self._held(key_id, self._answer_burst(message, persona))
                async for event in _honest_on_store_failure(turn, self._telemetry, trouble):
                    yield event
            return
        async with self._locks.hold(key_id):
            turn = self._held(key_id, self._handle_locked(message, persona, language))
            async for event in _honest_on_store_failure(turn, self._telemetry, trouble):
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
        self, message: IncomingMessage, persona: str | None, language: str
    ) -> AsyncGenerator[EngineEvent, None]:
        started = time.perf_counter()
        deadline = self._deadline()
        wanted = persona if persona is not None and persona in self._personas else self._default
        conversation = await self._store.ensure_conversation(message.key, wanted, self._clock())
        runtime = self._runtime(conversation)
        history = await self._store.recent_turns(conversation.id, HISTORY_LIMIT)
        if not await self._record_incoming(conversation, message, runtime, deadline):
            yield Silent(SilenceReason.DUPLICATE)
            return
        async for event in self._budgeted(
            message, self._turn(conversation, runtime, history, message, deadline, language)
        ):
            yield event
        log.info(
            "turn done conversation=%s ms=%.1f",
            conversation.id,
            (time.perf_counter() - started) * 1000,
        )

    # -- bursts of quick messages -----------------------------------------------------

    async def _record_for_burst(
        self, message: IncomingMessage, persona: str | None
    ) -> AsyncGenerator[EngineEvent, None]:
        """Record the message; yields only when it must not be answered (a redelivery)."""
        wanted = persona if persona is not None and persona in self._personas else self._default
        conversation = await self._store.ensure_conversation(message.key, wanted, self._clock())
        # The answer comes after the window: the deadline the store keeps covers both.
        seconds = self._turn_timeout + self._burst_window.total_seconds()
        deadline = deadline_in(seconds, self._clock, self._sleep)
        runtime = self._runtime(conversation)
        if not await self._record_incoming(conversation, message, runtime, deadline):
            yield Silent(SilenceReason.DUPLICATE)

    async def _answer_burst(
        self, message: IncomingMessage, persona: str | None
    ) -> AsyncGenerator[EngineEvent, None]:
        """After the window: stay silent if the user wrote again, else answer the whole burst."""
        started = time.perf_counter()
        conversation = await self._store.get_conversation(message.key)
        if conversation is None:
            return
        turns = await self._store.recent_turns(conversation.id, HISTORY_LIMIT + BURST_LIMIT)
        found = burst_ending(turns, message, self._burst_window)
        if found is None:
            yield Silent(SilenceReason.DUPLICATE)  # gone from the recent turns meanwhile
            return
        start, burst = found
        if not burst:
            yield Silent(SilenceReason.MERGED_INTO_NEXT)
            return
        text = "\n".join(t.text for t in burst)
        files = self._held_files.take(message.key.as_id(), [t.message_id for t in burst])
        combined = replace(message, text=text, attachments=files)
        history = turns[:start][-HISTORY_LIMIT:]
        runtime = self._runtime(conversation)
        language = self._language_of(text)
        deadline = self._deadline()
        async for event in self._budgeted(
            combined, self._turn(conversation, runtime, history, combined, deadline, language)
        ):
            yield event
        log.info(
            "turn done conversation=%s messages=%d ms=%.1f",
            conversation.id,
            len(burst),
            (time.perf_counter() - started) * 1000,
        )

    # -- messages a process died in the middle of --------------------------------------

    async def interrupted(
        self, *, max_age: timedelta = timedelta(days=1), min_age: timedelta = timedelta(0)
    ) -> list[IncomingMessage]:
        """User messages that were recorded but never answered: the process died mid-turn.

        Adapters call this at start (and, sharing PostgreSQL, every minute) and pass each
        message to `resume`. A message this engine is answering right now is not one; nor,
        when other processes share the store (`Store.shared`), is one whose turn is still
        inside its deadline (`Turn.answer_due`, recorded with the message): another process
        may still be answering it. A store of one process's own (SQLite) cannot hold a live
        turn of another, so there what the last run left is answered at once.
        """
        now = self._clock()
        due_by = now if self._store.shared else None
        found = await self._store.unanswered_turns(now - max_age, now - min_age, due_by=due_by)
        return [
            IncomingMessage(
                key=conversation.key,
                author_id=turn.author_id,
                text=turn.text,
                message_id=turn.message_id,
            )
            for conversation, turn in found
            if not self._locks.busy(conversation.key.as_id())
        ]

    async def reply_started(self, message: IncomingMessage, reply_id: str) -> None:
        """The adapter began streaming the answer to `message` into platform message
        `reply_id`: remembered, so a restart can mark it if this process dies meanwhile."""
        try:
            await self._store.record_reply_started(
                message.key.as_id(), message.message_id, reply_id
            )
        except StoreError as exc:
            # Only the restart's clean-up needs it: the answer itself goes on.
            log.warning("could not remember the streamed reply's id: %s", type(exc).__name__)

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
        if newest.reply_id:
            # The dead run's half-streamed answer: marked before the new one starts.
            said = [turn.text for turn in turns if turn.role is Role.USER]
            language = conversation_language(said, self._language_of)
            yield StaleReply(newest.reply_id, runtime.persona.text("cut_short", language))
        message = replace(message, text=newest.text, author_id=newest.author_id)
        deadline = self._deadline()
        language = self._language_of(message.text)
        async for event in self._budgeted(
            message, self._turn(conversation, runtime, turns[:-1], message, deadline, language)
        ):
            yield event

    async def _turn(
        self,
        conversation: Conversation,
        runtime: PersonaRuntime,
        history: list[Turn],
        message: IncomingMessage,
        deadline: Deadline,
        language: str,
    ) -> AsyncIterator[EngineEvent]:
        said = [turn.text for turn in history if turn.role is Role.USER]
        language = reply_language(message.text, language, said, self._language_of)
        state = conversation.state
        if message.is_staff and state is ConversationState.WAITING_FOR_HUMAN:
            claimed = await self._desk.claim(conversation, message.author_id)
            yield claimed or Silent(SilenceReason.HUMAN_OWNS_THREAD)
            return
        if state in _PEOPLE_HAVE_IT:
            await self._desk.people_message(conversation, message)  # e.g. to the desk's ticket
            yield Silent(SilenceReason.HUMAN_OWNS_THREAD)
            return
        if message.is_staff and not message.addressed_to_bot:
            # The team talking to the user in a thread the bot has: recorded, not answered.
            # (Staff who mention the bot are asking it something, and get an answer.)
            yield Silent(SilenceReason.STAFF_MESSAGE)
            return
        if state is ConversationState.RESOLVED:
            await self._store.set_state(conversation.id, ConversationState.BOT, self._clock())
        if conversation.offer_reason and is_decline(message.text):
            # "No thanks" to the offer of a person: a short acknowledgement, and no offer again.
            yield await self._declined(conversation, runtime, language)
            return
        trigger = self._requested_handoff(conversation, message.text)
        if trigger is not None:
            yield await self._hand_off(
                conversation, runtime, trigger, "", message.author_id, language
            )
            return
        if (refusal := await self._limits.refusal(conversation, message)) is not None:
            yield await self._refuse(conversation, runtime, refusal, language)
            return
        text, cut = self._limits.cut(message.text)
        message = replace(message, text=text)
        retrieval = await self._retrieve(runtime, history, text)
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
        replying = self._reply(
            conversation, runtime, retrieval, history, message, deadline, language, cut
        )
        async for event in replying:
            yield event

    async def _retrieve(
        self, runtime: PersonaRuntime, history: Sequence[Turn], text: str
    ) -> RetrievalResult:
        """The entries for the message, read with the person's earlier messages: rewritten
        by the model into a standalone question when the persona says so, else by rule."""
        knowledge = runtime.persona.knowledge
        earlier = [turn.text for turn in history if turn.role is Role.USER]
        rewrite = knowledge.rewrite_followups == "on" and is_follow_up(text, earlier)
        if rewrite and self._llm is not None:
            question = await standalone_question(self._llm, runtime.model, earlier, text)
            if question is not None:
                return runtime.retriever.search(question, k=knowledge.max_snippets)
        return runtime.retriever.search(text, k=knowledge.max_snippets, earlier=earlier)

    def _requested_handoff(self, conversation: Conversation, text: str) -> HandoffReason | None:
        """Hand-off triggers checked before any model is asked (cheap, work offline)."""
        if conversation.offer_reason and is_affirmative(text):
            if conversation.offer_reason in _OFFERS_KEEPING_THEIR_REASON:
                return HandoffReason(conversation.offer_reason)
            return HandoffReason.NO_ANSWER
        if self._wants_person(text):
            return HandoffReason.USER_ASKED
        return None

    async def _reply(
        self,
        conversation: Conversation,
        runtime: PersonaRuntime,
        retrieval: RetrievalResult,
        history: list[Turn],
        message: IncomingMessage,
        deadline: Deadline,
        language: str,
        cut: bool = False,
    ) -> AsyncIterator[EngineEvent]:
        unanswered: HandoffReason | None = None  # why the turn counts as not answered
        vision = self._llm is not None and runtime.persona.model.vision
        files = turn_files(message.attachments, vision=vision)
        only_unseen = bool(files.unseen_images) and not message.text.strip() and not files.text
        if only_unseen:
            # Only a picture, and nothing here can see it: say so and offer a person.
            reply = FinalReply(cannot_see(runtime.persona, language), ReplySource.FALLBACK)
            unanswered = HandoffReason.NO_ANSWER
        elif self._llm is None:
            reply = self._offline(runtime, retrieval, language, llm_down=False)
        else:
            answer = ModelAnswer(
                self._llm,
                runtime,
                retrieval,
                history,
                message.text,
                deadline=deadline,
                fit=self._fit,
                language=language,
                files=files,
            )
            try:
                async with self._limits.llm_slot():
                    async for delta in answer.stream():
                        yield delta
            except LLMBusy:
                yield await self._refuse(conversation, runtime, "busy", language)
                return
            except LLMError as exc:
                status = self._failures.failed(self._llm_server, self._clock())
                self._telemetry.llm_server_failed(status.server, status.outage)
                log.warning(
                    "llm failed conversation=%s error=%s server=%s outage=%s",
                    conversation.id,
                    type(exc).__name__,
                    status.server,
                    status.outage,
                )
                broken = answer.broken_reply()
                if broken is not None:
                    # The user saw part of an answer: they keep it, marked as cut short.
                    spent = answer.spent()
                    await self._limits.charge(conversation, message.author_id, runtime.model, spent)
                    reply = broken
                elif not retrieval.confident and not status.outage:
                    # One failure: the team hears of this question. A server that keeps
                    # failing would send them every question, so then the user is told
                    # honestly and offered a person instead (see `_deliver`).
                    reason, detail = HandoffReason.LLM_UNAVAILABLE, type(exc).__name__
                    yield await self._hand_off(
                        conversation, runtime, reason, detail, message.author_id, language
                    )
                    return
                else:
                    reply = self._offline(runtime, retrieval, language, llm_down=True)
                    if reply.source is ReplySource.FALLBACK:
                        unanswered = HandoffReason.LLM_UNAVAILABLE
            else:
                self._failures.succeeded(self._llm_server)
                model, spent = runtime.model, answer.spent()
                await self._limits.charge(conversation, message.author_id, model, spent)
                if answer.handoff_reason is not None:
                    reason, detail = HandoffReason.MODEL_TOOL, answer.handoff_reason
                    yield await self._hand_off(
                        conversation, runtime, reason, detail, message.author_id, language
                    )
                    return
                reply = answer.reply()
                files = answer.files  # without the images, if the server refused them
                if reply.text and reply.ungrounded:
                    self._telemetry.ungrounded_answer(runtime.persona.name)
                    log.info(
                        "ungrounded answer conversation=%s facts=%d",
                        conversation.id,
                        len(reply.ungrounded),
                    )
                if not reply.text:
                    # Nothing usable (or only citation markers): answer as if offline.
                    reply = self._offline(runtime, retrieval, language, llm_down=False)
                elif _model_did_not_know(reply):
                    unanswered = HandoffReason.NO_ANSWER
                    reply = _with_offer(reply, runtime.persona.text("offer", language))
        if unanswered is None and reply.source is ReplySource.FALLBACK:
            unanswered = HandoffReason.NO_ANSWER
        if (files.unseen_images or files.unread) and not only_unseen:
            reply = replace(reply, text=noted(reply.text, runtime.persona, files, language))
            unanswered = unanswered or (HandoffReason.NO_ANSWER if files.unseen_images else None)
        if cut:
            limit = self._limits.max_input_chars
            shown = f"{limit:,}" if language == "en" else str(limit)
            notice = runtime.persona.text("cut_input", language).replace("{limit}", shown)
            reply = replace(reply, text=f"{reply.text}\n\n{notice}")
        async for event in self._deliver(
            conversation, runtime, reply, message, unanswered, language
        ):
            yield event

    def _offline(
        self, runtime: PersonaRuntime, retrieval: RetrievalResult, language: str, *, llm_down: bool
    ) -> FinalReply:
        """The FAQ's own answer, its framing in the user's language, and a note when the
        entry is written in another language than the user's."""
        best = retrieval.best
        note = ""
        if best is not None and retrieval.confident and supported(language) == language:
            written_in = self._language_of(f"{best.entry.question} {best.entry.answer}")
            if written_in != language:
                name = language_name(written_in, language)
                note = runtime.persona.text("faq_language", language).replace(
                    "{faq_language}", name
                )
        return offline_reply(
            runtime.persona, retrieval, llm_down=llm_down, language=language, note=note
        )

    async def _deliver(
        self,
        conversation: Conversation,
        runtime: PersonaRuntime,
        reply: FinalReply,
        message: IncomingMessage,
        unanswered: HandoffReason | None,
        language: str,
    ) -> AsyncIterator[EngineEvent]:
        """Send the reply, and hand off after too many answers in a row it could not give.

        `unanswered` says why the reply did not answer: the knowledge base had nothing, the
        model said it did not know (in words: small models never call the hand-off tool), or
        the model's server is down. A model reply without citations that admits nothing may
        be small talk, and does not count.
        """
        failed_turns = conversation.failed_turns + 1 if unanswered else 0
        if unanswered and failed_turns >= runtime.persona.handoff.after_failed_turns:
            # Saying "I don't know, want a person?" yet again helps nobody: get the person.
            detail = f"{failed_turns} unanswered in a row"
            yield await self._hand_off(
                conversation, runtime, unanswered, detail, message.author_id, language
            )
            return
        if reply.source is ReplySource.LLM and await self._taken_meanwhile(conversation):
            yield Silent(SilenceReason.HUMAN_OWNS_THREAD)
            return
        await self._record_reply(conversation, runtime, reply)
        offer = unanswered.value if unanswered else None
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
        language: str = "en",
    ) -> EngineEvent:
        event = await self._desk.hand_off(
            conversation, runtime.persona, runtime.model, reason, detail, user_id, language
        )
        if event is None:
            return Silent(SilenceReason.HUMAN_OWNS_THREAD)
        self._telemetry.handoff(reason.value)
        return event

    async def _refuse(
        self, conversation: Conversation, runtime: PersonaRuntime, why: str, language: str
    ) -> FinalReply:
        """A limit (message name `why`) stopped the turn: say why, offer a person, and let a
        "yes" hand over."""
        persona = runtime.persona
        text = f"{persona.text(why, language)} {persona.text('offer', language)}"
        reply = FinalReply(text, ReplySource.FALLBACK)
        await self._record_reply(conversation, runtime, reply)
        await self._store.set_counters(
            conversation.id,
            failed_turns=conversation.failed_turns,
            offer_reason=HandoffReason.LIMIT.value,
        )
        return reply

    async def _declined(
        self, conversation: Conversation, runtime: PersonaRuntime, language: str
    ) -> FinalReply:
        """The user said no to the offer of a person: acknowledge, and withdraw the offer."""
        reply = FinalReply(runtime.persona.text("declined", language), ReplySource.FALLBACK)
        await self._record_reply(conversation, runtime, reply)
        await self._store.set_counters(
            conversation.id, failed_turns=conversation.failed_turns, offer_reason=None
        )
        return reply

    async def _user_language(self, conversation: Conversation) -> str:
        """The language of the user's newest messages, for what the bot says unprompted."""
        turns = await self._store.recent_turns(conversation.id, _LANGUAGE_TURNS)
        said = [turn.text for turn in turns if turn.role is Role.USER]
        return conversation_language(said, self._language_of)

    async def knows(self, key: ThreadKey) -> bool:
        """Whether the bot is in this thread: adapters pass on follow-ups without a mention."""
        return await self._store.get_conversation(key) is not None

    async def stays_silent(self, message: IncomingMessage) -> bool:
        """Whether the turn will surely not reply (`turn/quiet.py`): no "working" sign then."""
        return stays_silent(await self.state(message.key), message)

    async def intake_form(self, key: ThreadKey) -> IntakeForm | None:
        """The thread's persona's intake form, when it has one (None: no form to offer)."""
        conversation = await self._store.get_conversation(key)
        if conversation is None:
            return None
        form = self._runtime(conversation).persona.intake
        return form if form.enabled else None

    async def add_intake(
        self, key: ThreadKey, user_id: str, raw: Mapping[str, str | None]
    ) -> IntakeCheck | IntakeDetails | None:
        """The intake form's answers (`handoff/intake.py`): what is wrong with them, or what
        was kept and sent on; None when the thread has no conversation or no form.

        Not under the conversation's lock: a form must be answered within Slack's 3 seconds
        even while the bot is writing a reply there, and it writes only its own rows."""
        conversation = await self._store.get_conversation(key)
        if conversation is None:
            return None
        form = self._runtime(conversation).persona.intake
        if not form.enabled:
            return None
        checked = check_answers(form, raw)
        if not checked.ok:
            return checked
        return await self._desk.add_details(conversation, user_id, checked.answers)

    async def suggested_prompts(self, persona: str | None = None) -> tuple[str, ...]:
        """Questions to offer when a chat opens (`turn/suggestions.py`)."""
        name = persona if persona is not None and persona in self._personas else self._default
        return await suggested_prompts(self._personas[name], self._store, self._clock())

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
                conversation,
                self._runtime(conversation).persona,
                staff_id,
                language=await self._user_language(conversation),
            )
            return resolved or Silent(SilenceReason.NOT_HANDED_OFF)

    async def desk_reply(
        self, key: ThreadKey, event_id: str, author: str, text: str, desk: str
    ) -> list[EngineEvent]:
        """An agent's public reply in help desk `desk` (bots/desks), once per `event_id`: a
        `StaffReply` for the adapter to post into the thread (after a `HandoffClaimed` when
        it claims the thread); the bot stays quiet there."""
        async with self._locks.hold(key.as_id()):
            conversation = await self._store.get_conversation(key)
            if conversation is None or conversation.state not in _PEOPLE_HAVE_IT:
                return [Silent(SilenceReason.NOT_HANDED_OFF)]
            text = safe_text(text)
            return [*await self._desk.desk_reply(conversation, event_id, author, text, desk)]

    async def staff_handoff(self, key: ThreadKey, staff_id: str, reason: str) -> EngineEvent:
        """Staff move a thread to the team themselves (a command on the thread)."""
        async with self._locks.hold(key.as_id()):
            conversation = await self._store.ensure_conversation(key, self._default, self._clock())
            runtime = self._runtime(conversation)
            detail = f"{reason} (by {staff_id})" if reason else f"by {staff_id}"
            language = await self._user_language(conversation)
            return await self._hand_off(
                conversation, runtime, HandoffReason.STAFF, detail, "", language
            )

    async def person_asked(self, key: ThreadKey, user_id: str, detail: str) -> EngineEvent:
        """The user asked for a person with a button, not in a message (a private /ask)."""
        async with self._locks.hold(key.as_id()):
            conversation = await self._store.ensure_conversation(key, self._default, self._clock())
            runtime = self._runtime(conversation)
            reason = HandoffReason.USER_ASKED
            return await self._hand_off(conversation, runtime, reason, detail, user_id)

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
            language = await self._user_language(conversation)
            offer = self._runtime(conversation).persona.text("offer", language)
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
                    conversation,
                    persona,
                    None,
                    idle_since=now - timedelta(minutes=limit),
                    language=await self._user_language(conversation),
                )
            if resolved is not None:
                events.append(resolved)
        return events

    async def aclose(self) -> None:
        """Let background deliveries (webhooks) finish."""
        await self._desk.drain()

    # -- helpers -------------------------------------------------------------------------

    def _deadline(self) -> Deadline:
        return deadline_in(self._turn_timeout, self._clock, self._sleep)

    def _runtime(self, conversation: Conversation) -> PersonaRuntime:
        return self._personas.get(conversation.persona) or self._personas[self._default]

    def _persona_of(self, name: str) -> Persona:
        return (self._personas.get(name) or self._personas[self._default]).persona

    async def _record_incoming(
        self,
        conversation: Conversation,
        message: IncomingMessage,
        runtime: PersonaRuntime,
        deadline: Deadline,
    ) -> bool:
        turn = Turn(
            role=Role.STAFF if message.is_staff else Role.USER,
            text=message.text,
            author_id=message.author_id,
            message_id=message.message_id,
            created_at=self._clock(),
            token_count=message_tokens(runtime.counter, message.text),
            answer_due=None if message.is_staff else deadline.at + DUE_GRACE,
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
        if turn.cited_ids:  # for `bots report`: how often each entry answers
            await self._store.record_entry_uses(conversation.id, turn.cited_ids, turn.created_at)
        if reply.ungrounded:
            await self._store.mark_ungrounded(conversation.id, reply.ungrounded)
        if reply.usage != Usage():
            await self._store.add_usage(conversation.id, reply.usage)


def _model_did_not_know(reply: FinalReply) -> bool:
    """The model said it does not know; a reply citing an entry answered something."""
    return not reply.citations and admits_not_knowing(reply.text)


def _with_offer(reply: FinalReply, offer: str) -> FinalReply:
    """The reply with the persona's offer of a person, unless the model already made it."""
    if not offer.strip() or offer.strip() in reply.text:
        return reply
    return replace(reply, text=f"{reply.text}\n\n{offer.strip()}")


def _event_id(message: IncomingMessage) -> str:
    # Message ids are unique per channel on some platforms (Slack's `ts`), not globally.
    key = message.key
    return ThreadKey(key.platform, key.workspace, key.channel, message.message_id).as_id()


async def _honest_on_store_failure(
    events: AsyncGenerator[EngineEvent, None], telemetry: Telemetry, notice: str = STORE_TROUBLE
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
        yield FinalReply(text=notice, source=ReplySource.FALLBACK)


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

    def busy(self, key: str) -> bool:
        """Whether someone in this process holds or waits for the key's lock."""
        return key in self._locks
