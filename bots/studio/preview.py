"""The preview chat: the real engine, on a throwaway store, with the persona as it is on screen."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path

from bots.knowledge.files import knowledge_files, load_knowledge
from bots.knowledge.persona import Persona
from bots.llm.client import ChatModel
from bots.models import FinalReply, HandoffRequested, IncomingMessage, ThreadKey
from bots.retrieval.setup import RetrievalSetup
from bots.store import Store, open_store
from bots.turn.engine import Engine
from bots.turn.runtime import PersonaRuntime

PLATFORM = "studio"


@dataclass(frozen=True)
class RetrievedEntry:
    entry_id: str
    question: str
    confidence: float
    answers: bool
    """Sure enough to answer from (the persona's match level)."""


@dataclass(frozen=True)
class PreviewAnswer:
    """One preview turn: what the bot said and why."""

    text: str
    source: str
    retrieved: tuple[RetrievedEntry, ...]
    confident: bool
    handoff_reason: str = ""
    handoff_detail: str = ""


class Preview:
    """Owns the preview's store (a temporary SQLite file) and runs turns through the engine."""

    def __init__(
        self,
        knowledge_dir: Path,
        llm: ChatModel | None,
        *,
        retrieval: RetrievalSetup | None = None,
        model_override: str | None = None,
        store_factory: Callable[[], Store] | None = None,
    ) -> None:
        self._knowledge_dir = knowledge_dir
        self._llm = llm
        self._retrieval = retrieval
        self._model_override = model_override
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._store_factory = store_factory or self._temporary_store
        self._store: Store | None = None
        self._cached: tuple[object, PersonaRuntime] | None = None

    def _temporary_store(self) -> Store:
        self._folder = tempfile.TemporaryDirectory(prefix="bots-studio-")
        return open_store(f"sqlite:///{self._folder.name}/preview.sqlite3")

    async def open(self) -> None:
        self._store = self._store_factory()
        await self._store.open()

    async def close(self) -> None:
        if self._store is not None:
            await self._store.close()
        if self._folder is not None:
            self._folder.cleanup()

    def _runtime(self, persona: Persona) -> PersonaRuntime:
        """The persona's runtime, rebuilt only when the persona or its knowledge files change
        (building the retrieval index is the slow part of a preview turn)."""
        files = tuple(
            (str(path), path.stat().st_mtime_ns, path.stat().st_size)
            for name in persona.knowledge.sets
            for path in knowledge_files(self._knowledge_dir / name)
            if path.is_file()
        )
        key = (persona.model_dump_json(), files)
        if self._cached is None or self._cached[0] != key:
            entries = load_knowledge(self._knowledge_dir, persona.knowledge.sets)
            runtime = PersonaRuntime.build(persona, entries, self._model_override, self._retrieval)
            self._cached = (key, runtime)
        return self._cached[1]

    async def ask(self, persona: Persona, question: str, user: str, thread: str) -> PreviewAnswer:
        """One turn of the conversation `thread`, as `user`, answered by `persona`."""
        assert self._store is not None, "open() first"
        runtime = self._runtime(persona)
        retrieval = runtime.retriever.search(question, k=persona.knowledge.max_snippets)
        # One engine per turn: its persona map then holds exactly what is on screen now.
        engine = Engine(
            store=self._store,
            personas={persona.name: runtime},
            default_persona=persona.name,
            llm=self._llm,
        )
        message = IncomingMessage(
            key=ThreadKey(PLATFORM, "preview", user, thread),
            author_id=user,
            text=question,
            message_id=uuid.uuid4().hex,
            addressed_to_bot=True,
        )
        texts: list[str] = []
        source = ""
        reason = detail = ""
        try:
            async with aclosing(engine.handle(message)) as events:
                async for event in events:
                    if isinstance(event, FinalReply):
                        texts.append(event.text)
                        source = str(event.source)
                    elif isinstance(event, HandoffRequested):
                        texts.append(event.message)
                        reason, detail = event.reason.label, event.detail
                        source = source or "handoff"
        finally:
            await engine.aclose()
        hits = tuple(
            RetrievedEntry(
                hit.entry.id,
                hit.entry.question,
                round(hit.confidence, 2),
                hit.answers(runtime.retriever.min_confidence),
            )
            for hit in retrieval.hits
        )
        return PreviewAnswer("\n\n".join(texts), source, hits, retrieval.confident, reason, detail)
