"""One conversation turn: guard -> retrieve -> prompt -> LLM (or offline) -> record -> events."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from bots.errors import ContextTooLong, LLMError
from bots.knowledge import KnowledgeEntry
from bots.llm import ChatModel, ChatRequest, Completed, ContentDelta, ToolCall
from bots.models import (
    Conversation,
    ConversationState,
    EngineEvent,
    FinalReply,
    HandoffReason,
    HandoffRequested,
    IncomingMessage,
    ReplySource,
    Role,
    SilenceReason,
    Silent,
    TextDelta,
    ThreadKey,
    Turn,
    Usage,
)
from bots.offline import citation_for, offline_reply
from bots.persona import Persona
from bots.prompt import HANDOFF_TOOL, Prompt, SnippetCatalog, build_prompt
from bots.retrieval import RetrievalResult, Retriever
from bots.store import Store
from bots.text import StreamCleaner, clean_reply, safe_text
from bots.tokens import TokenCounter, counter_for_model, message_tokens

log = logging.getLogger(__name__)

HISTORY_LIMIT = 60
# Longer messages are cut before they reach the model; the stored turn keeps the full text.
MAX_INPUT_CHARS = 6_000
# After the server says the prompt is too long, retry once with this share of the budget.
SHRINK_FACTOR = 0.6
_QUIET_STATES = (ConversationState.WAITING_FOR_HUMAN, ConversationState.HUMAN)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class PersonaRuntime:
    """A persona with everything built once for it: retrieval index, snippets, token counter."""

    persona: Persona
    model: str
    retriever: Retriever
    catalog: SnippetCatalog
    counter: TokenCounter

    @classmethod
    def build(
        cls, persona: Persona, entries: tuple[KnowledgeEntry, ...], model_override: str | None
    ) -> PersonaRuntime:
        model = model_override or persona.model.name
        counter = counter_for_model(model)
        return cls(
            persona=persona,
            model=model,
            retriever=Retriever(entries),
            catalog=SnippetCatalog(entries, counter),
            counter=counter,
        )

    @property
    def budget(self) -> int:
        return self.persona.model.context_window - self.persona.model.max_tokens


class Engine:
    """Decides what the bot does with each incoming message and says it as events."""

    def __init__(
        self,
        *,
        store: Store,
        personas: Mapping[str, PersonaRuntime],
        default_persona: str,
        llm: ChatModel | None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if default_persona not in personas:
            raise KeyError(default_persona)
        self._store = store
        self._personas = dict(personas)
        self._default = default_persona
        self._llm = llm
        self._clock = clock
        self._locks = _KeyedLocks()

    async def handle(
        self, message: IncomingMessage, persona: str | None = None
    ) -> AsyncGenerator[EngineEvent, None]:
        """Process one message. Messages of one conversation are handled one at a time, in order.

        The conversation stays locked until this generator finishes, so a caller that stops
        early must close it (`contextlib.aclosing`), as every adapter does.
        """
        message = replace(message, text=safe_text(message.text))
        if not message.text.strip():
            yield Silent(SilenceReason.EMPTY)
            return
        async with self._locks.hold(message.key.as_id()):
            started = time.perf_counter()
            wanted = persona if persona in self._personas else self._default
            conversation = await self._store.ensure_conversation(message.key, wanted, self._clock())
            runtime = self._personas.get(conversation.persona) or self._personas[self._default]
            history = await self._store.recent_turns(conversation.id, HISTORY_LIMIT)
            incoming = self._incoming_turn(message, runtime.counter)
            # Message ids are unique per channel on some platforms (Slack's `ts`), not globally.
            key = message.key
            event_id = ThreadKey(key.platform, key.workspace, key.channel, message.message_id)
            if not await self._store.record_incoming(conversation.id, event_id.as_id(), incoming):
                yield Silent(SilenceReason.DUPLICATE)
                return
            if conversation.state in _QUIET_STATES:
                yield Silent(SilenceReason.HUMAN_OWNS_THREAD)
                return
            retrieval = runtime.retriever.search(
                message.text, k=runtime.persona.knowledge.max_snippets
            )
            async for event in self._reply(conversation, runtime, retrieval, history, message):
                yield event
            log.info(
                "turn done conversation=%s ms=%.1f confident=%s",
                conversation.id,
                (time.perf_counter() - started) * 1000,
                retrieval.confident,
            )

    def _incoming_turn(self, message: IncomingMessage, counter: TokenCounter) -> Turn:
        return Turn(
            role=Role.STAFF if message.is_staff else Role.USER,
            text=message.text,
            author_id=message.author_id,
            message_id=message.message_id,
            created_at=self._clock(),
            token_count=message_tokens(counter, message.text),
        )

    async def _reply(
        self,
        conversation: Conversation,
        runtime: PersonaRuntime,
        retrieval: RetrievalResult,
        history: list[Turn],
        message: IncomingMessage,
    ) -> AsyncIterator[EngineEvent]:
        if self._llm is None:
            reply = offline_reply(runtime.persona, retrieval, llm_down=False)
            await self._record_reply(conversation, runtime, reply)
            yield reply
            return
        outcome = _LLMOutcome()
        try:
            async for delta in self._ask_llm(runtime, retrieval, history, message, outcome):
                yield delta
        except LLMError as exc:
            log.warning("llm failed conversation=%s error=%s", conversation.id, type(exc).__name__)
            reply = offline_reply(runtime.persona, retrieval, llm_down=True)
            await self._record_reply(conversation, runtime, reply)
            yield reply
            return
        if outcome.handoff_reason is not None:
            yield await self._hand_off(conversation, runtime, outcome.handoff_reason)
            return
        reply = self._final_reply(runtime, outcome)
        if not reply.text:
            # The model said nothing usable (or only citation markers): answer as if offline.
            reply = offline_reply(runtime.persona, retrieval, llm_down=False)
        await self._record_reply(conversation, runtime, reply)
        yield reply

    async def _ask_llm(
        self,
        runtime: PersonaRuntime,
        retrieval: RetrievalResult,
        history: list[Turn],
        message: IncomingMessage,
        outcome: _LLMOutcome,
    ) -> AsyncIterator[TextDelta]:
        assert self._llm is not None
        budget = runtime.budget
        for attempt in (1, 2):
            prompt = self._prompt(runtime, retrieval, history, message, budget)
            outcome.prompt = prompt
            cleaner = StreamCleaner(prompt.entry_ids)
            try:
                async for event in self._llm.stream(self._request(runtime, prompt)):
                    if isinstance(event, ContentDelta):
                        if piece := cleaner.feed(event.text):
                            yield TextDelta(piece)
                    elif isinstance(event, ToolCall):
                        outcome.take_tool_call(event)
                    elif isinstance(event, Completed):
                        outcome.text, outcome.usage = event.text, event.usage
            except ContextTooLong:
                if attempt == 2:
                    raise
                budget = int(budget * SHRINK_FACTOR)
                continue
            if tail := cleaner.flush():
                yield TextDelta(tail)
            return

    def _prompt(
        self,
        runtime: PersonaRuntime,
        retrieval: RetrievalResult,
        history: list[Turn],
        message: IncomingMessage,
        budget: int,
    ) -> Prompt:
        return build_prompt(
            persona=runtime.persona,
            counter=runtime.counter,
            catalog=runtime.catalog,
            ranked=[hit.entry for hit in retrieval.hits],
            history=history,
            user_text=message.text[:MAX_INPUT_CHARS],
            budget=budget,
        )

    @staticmethod
    def _request(runtime: PersonaRuntime, prompt: Prompt) -> ChatRequest:
        settings = runtime.persona.model
        return ChatRequest(
            model=runtime.model,
            messages=prompt.messages,
            temperature=settings.temperature,
            max_tokens=settings.max_tokens,
            top_p=settings.top_p,
            presence_penalty=settings.presence_penalty,
            frequency_penalty=settings.frequency_penalty,
            stop=settings.stop,
            tools=(HANDOFF_TOOL,),
        )

    def _final_reply(self, runtime: PersonaRuntime, outcome: _LLMOutcome) -> FinalReply:
        prompt = outcome.prompt
        assert prompt is not None
        text, cited = clean_reply(outcome.text, prompt.entry_ids)
        by_id = runtime.catalog.by_id
        usage = outcome.usage
        if usage == Usage():
            usage = Usage(prompt.token_count, runtime.counter.count(outcome.text))
        return FinalReply(
            text=text.strip(),
            source=ReplySource.LLM,
            citations=tuple(citation_for(by_id[i]) for i in cited),
            usage=usage,
        )

    async def _hand_off(
        self, conversation: Conversation, runtime: PersonaRuntime, reason: str
    ) -> HandoffRequested:
        now = self._clock()
        await self._store.set_state(conversation.id, ConversationState.WAITING_FOR_HUMAN, now)
        text = runtime.persona.handoff.message
        await self._store.append_turn(conversation.id, self._bot_turn(runtime, text, ()))
        return HandoffRequested(reason=HandoffReason.MODEL_TOOL, detail=reason, message=text)

    async def _record_reply(
        self, conversation: Conversation, runtime: PersonaRuntime, reply: FinalReply
    ) -> None:
        cited = tuple(c.entry_id for c in reply.citations)
        await self._store.append_turn(conversation.id, self._bot_turn(runtime, reply.text, cited))
        if reply.usage != Usage():
            await self._store.add_usage(conversation.id, reply.usage)

    def _bot_turn(self, runtime: PersonaRuntime, text: str, cited: tuple[str, ...]) -> Turn:
        return Turn(
            role=Role.ASSISTANT,
            text=text,
            author_id="bot",
            message_id="",
            created_at=self._clock(),
            token_count=message_tokens(runtime.counter, text),
            cited_ids=cited,
        )


class _LLMOutcome:
    """What one model call produced, gathered while its deltas stream out."""

    def __init__(self) -> None:
        self.text = ""
        self.usage = Usage()
        self.prompt: Prompt | None = None
        self.handoff_reason: str | None = None

    def take_tool_call(self, call: ToolCall) -> None:
        if call.name != HANDOFF_TOOL.name:
            return
        try:
            arguments = json.loads(call.arguments or "{}")
        except json.JSONDecodeError:
            arguments = {}
        reason = arguments.get("reason") if isinstance(arguments, dict) else None
        self.handoff_reason = str(reason or "the assistant could not help")


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
