"""The live set of personas: built from the files, rebuilt when they change, last good kept."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from bots.errors import FileProblem
from bots.knowledge.files import is_pending_file, load_knowledge
from bots.knowledge.persona import persona_files
from bots.knowledge.persona_file import DEFAULT_READER, PersonaReader
from bots.retrieval.setup import RetrievalSetup
from bots.turn.persona_load import load_persona_file
from bots.turn.runtime import PersonaRuntime

log = logging.getLogger(__name__)

# Editors save in bursts (temp file, rename, touch): wait this long for quiet, then reload.
DEBOUNCE_MS = 300


@dataclass(frozen=True)
class ReloadResult:
    loaded: tuple[str, ...]
    problems: tuple[FileProblem, ...]


class PersonaLibrary(Mapping[str, PersonaRuntime]):
    """A read-only mapping of persona name -> runtime that `reload()` swaps in one step.

    A persona whose files are broken keeps its last good version; the problem is logged in the
    same words `bots check` uses. A persona file that disappears is dropped, unless it is the
    one `required` persona, which is never dropped.
    """

    def __init__(
        self,
        personas_dir: Path,
        knowledge_dir: Path,
        *,
        model_override: str | None = None,
        required: str | None = None,
        retrieval: RetrievalSetup | None = None,
        link_hosts: frozenset[str] = frozenset(),
        reader: PersonaReader = DEFAULT_READER,
    ) -> None:
        self.personas_dir = personas_dir
        self.knowledge_dir = knowledge_dir
        self._model_override = model_override
        self._required = required
        self._retrieval = retrieval
        self._link_hosts = link_hosts
        self._reader = reader
        self._runtimes: dict[str, PersonaRuntime] = {}
        self._problems_by_persona: dict[str, FileProblem] = {}
        self._listeners: list[Callable[[ReloadResult], None]] = []

    # -- Mapping ---------------------------------------------------------------------------

    def __getitem__(self, name: str) -> PersonaRuntime:
        return self._runtimes[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._runtimes)

    def __len__(self) -> int:
        return len(self._runtimes)

    # -- loading ---------------------------------------------------------------------------

    def load(self) -> ReloadResult:
        """Build every persona now. The `required` persona must load, or this raises."""
        result = self._rebuild()
        if self._required is not None and self._required not in self._runtimes:
            missing = FileProblem(
                self.personas_dir / f"{self._required}.yaml", "the persona file is missing"
            )
            raise self._problems_by_persona.get(self._required) or missing
        return result

    async def reload(self) -> ReloadResult:
        """Rebuild from the files (off the event loop: big knowledge takes a moment)."""
        result = await asyncio.to_thread(self._rebuild)
        for listener in self._listeners:
            listener(result)
        return result

    def on_reload(self, listener: Callable[[ReloadResult], None]) -> None:
        self._listeners.append(listener)

    def _rebuild(self) -> ReloadResult:
        fresh: dict[str, PersonaRuntime] = {}
        problems: dict[str, FileProblem] = {}
        for path in persona_files(self.personas_dir):
            try:
                fresh[path.stem] = self._build(path)
            except FileProblem as problem:
                problems[path.stem] = problem
                kept = path.stem in self._runtimes
                if kept:
                    fresh[path.stem] = self._runtimes[path.stem]
                note = " (keeping the last good version)" if kept else ""
                log.error("%s%s", problem.describe(), note)
        if self._required in self._runtimes and self._required not in fresh:
            fresh[self._required] = self._runtimes[self._required]
        self._runtimes = fresh  # one assignment: readers see the old set or the new one
        self._problems_by_persona = problems
        return ReloadResult(tuple(fresh), tuple(problems.values()))

    def _build(self, path: Path) -> PersonaRuntime:
        loaded = load_persona_file(
            path, self.knowledge_dir, model_override=self._model_override, reader=self._reader
        )
        # `bots check` calls instructions that cannot fit an error: the bot refuses them too
        # (they would push every FAQ entry out of the prompt).
        persona = loaded.persona()
        entries = load_knowledge(self.knowledge_dir, persona.knowledge.sets)
        return PersonaRuntime.build(
            persona,
            entries,
            self._model_override,
            self._retrieval,
            self._link_hosts,
            counter=loaded.counter,
        )

    # -- watching --------------------------------------------------------------------------

    async def watch(self, stop: asyncio.Event) -> None:
        """Reload whenever a persona or knowledge file changes, until `stop` is set."""
        from watchfiles import awatch

        roots = [p for p in (self.personas_dir, self.knowledge_dir) if p.is_dir()]
        async for _changes in awatch(
            *roots,
            stop_event=stop,
            debounce=DEBOUNCE_MS,
            step=50,
            recursive=True,
            watch_filter=changes_that_matter(),
        ):
            result = await self.reload()
            log.info("reloaded personas=%d problems=%d", len(result.loaded), len(result.problems))


def changes_that_matter() -> Callable[[object, str], bool]:
    """watchfiles' default filter (no .git, caches, editors' swap files), and no pending
    suggestions or dotfiles either: nothing is answered from those, so saving a suggestion
    ("Save as FAQ") rebuilds no persona. Approving it changes `faq.yaml`, which reloads."""
    from watchfiles import DefaultFilter

    default = DefaultFilter()

    def matters(change: object, path: str) -> bool:
        name = Path(path)
        if name.name.startswith(".") or is_pending_file(name):
            return False
        return bool(default(change, path))  # type: ignore[arg-type]  # its Change enum

    return matters
