""" "Save as FAQ": turn a staff answer into a pending entry, check it, and approve it.

What the Save as FAQ button (Slack, Discord) and `/save` (`bots chat`) do, in one place:
the adapters only translate the click and show the result. A thread can be saved once its
hand-off is over and someone from the team answered in it; the entry goes to the pending
file of the first knowledge set of the thread's persona (`bots.knowledge.pending`), then
`bots check` and the persona tests run (the `check` callable the composition root passes:
this part may not import the app) and their verdict is shown to the staff member. Nothing
is answered from the entry until a person approves it; approving reloads the personas, so
the next question is answered from it at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from bots.errors import FileProblem
from bots.knowledge.pending import NewSuggestion, Origin, PendingFaq, Suggestion
from bots.llm.client import ChatModel
from bots.models import ConversationState, ThreadKey
from bots.store import Store
from bots.turn.faq_draft import cleaned_draft, raw_draft
from bots.turn.runtime import PersonaRuntime

log = logging.getLogger(__name__)

HISTORY = 200
_WITH_PEOPLE = (ConversationState.WAITING_FOR_HUMAN, ConversationState.HUMAN)


@dataclass(frozen=True, slots=True)
class SuggestionCheck:
    """`bots check` and the persona tests after a suggestion was written."""

    passed: bool
    summary: str
    """A few plain lines: what the check found, how many persona tests passed."""


CheckSet = Callable[[str, str], SuggestionCheck]
"""Runs the checks for the knowledge set of this name, with the pending entry of this id
tried as approved (blocking: called in a thread)."""


@dataclass(frozen=True, slots=True)
class FaqSaved:
    """A pending entry written (or found: `already`) from a thread."""

    entry_id: str
    set_name: str
    path: str
    question: str
    answer: str
    also_asked: tuple[str, ...]
    already: bool = False
    cleaned: bool = False
    note: str = ""
    check: SuggestionCheck | None = None


@dataclass(frozen=True, slots=True)
class FaqApproved:
    entry_id: str
    set_name: str
    question: str


@dataclass(frozen=True, slots=True)
class FaqRefused:
    """Nothing was saved or approved; `reason` says why in plain words."""

    reason: str


class FaqSuggestions:
    """Saves threads as pending FAQ entries and approves them."""

    def __init__(
        self,
        *,
        store: Store,
        personas: Mapping[str, PersonaRuntime],
        default_persona: str,
        pending: PendingFaq,
        clock: Callable[[], datetime],
        llm: ChatModel | None = None,
        check: CheckSet | None = None,
        reload: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        """`reload` rebuilds the live personas after an approval (the file watcher would
        too, a moment later)."""
        self._store = store
        self._personas = personas
        self._default = default_persona
        self._pending = pending
        self._clock = clock
        self._llm = llm
        self._check = check
        self._reload = reload

    async def save(
        self, key: ThreadKey, staff_id: str, *, link: str | None = None
    ) -> FaqSaved | FaqRefused:
        """Draft an entry from the thread's staff answer and write it to the pending file."""
        conversation = await self._store.get_conversation(key)
        if conversation is None:
            return FaqRefused("I have no conversation in this thread.")
        if conversation.state in _WITH_PEOPLE:
            return FaqRefused("Resolve the hand-off first, then save the answer as an FAQ.")
        handoff = await self._store.current_handoff(conversation.id)
        if handoff is None:
            return FaqRefused("This thread was never handed to the team: no staff answer to save.")
        runtime = self._personas.get(conversation.persona) or self._personas[self._default]
        sets = runtime.persona.knowledge.sets
        if not sets:
            return FaqRefused(f"The persona {runtime.persona.name} uses no knowledge set.")
        try:
            existing = await asyncio.to_thread(self._pending.from_thread, key.as_id())
            if existing is not None:
                return await self._saved(existing, already=True)
            turns = await self._store.recent_turns(conversation.id, HISTORY)
            draft = raw_draft(turns, handoff.requested_at)
            if draft is None:
                return FaqRefused(
                    "Nothing to save: nobody from the team answered a question in this thread."
                )
            if self._llm is not None:
                draft = await cleaned_draft(self._llm, runtime.model, draft)
            origin = Origin(
                thread=key.as_id(),
                link=link,
                saved_by=staff_id,
                saved_at=self._clock().isoformat(timespec="minutes"),
            )
            new = NewSuggestion(draft.question, draft.answer, draft.also_asked, origin)
            added = await asyncio.to_thread(self._pending.add, sets[0], new)
        except FileProblem as problem:
            log.warning("save as faq failed: %s", problem.describe())
            return FaqRefused(f"The entry could not be saved: {problem.describe()}")
        # The id is made from the user's question: message text stays out of INFO lines.
        log.info("saved a faq suggestion set=%s", sets[0])
        log.debug("saved faq suggestion id=%s", added.suggestion.entry.id)
        return await self._saved(
            added.suggestion, already=added.already, cleaned=draft.cleaned, note=draft.note
        )

    async def _saved(
        self, suggestion: Suggestion, *, already: bool, cleaned: bool = False, note: str = ""
    ) -> FaqSaved:
        check = None
        if self._check is not None:
            check = await asyncio.to_thread(self._check, suggestion.set_name, suggestion.entry.id)
        entry = suggestion.entry
        return FaqSaved(
            entry_id=entry.id,
            set_name=suggestion.set_name,
            path=str(suggestion.path),
            question=entry.question,
            answer=entry.answer,
            also_asked=entry.also_asked,
            already=already,
            cleaned=cleaned,
            note=note,
            check=check,
        )

    async def approve_thread(self, key: ThreadKey, staff_id: str) -> FaqApproved | FaqRefused:
        """Approve the pending entry saved from this thread."""
        try:
            found = await asyncio.to_thread(self._pending.from_thread, key.as_id())
        except FileProblem as problem:
            return FaqRefused(f"The pending file cannot be read: {problem.describe()}")
        if found is None:
            return FaqRefused(
                "No pending FAQ entry from this thread: it was approved or deleted already."
            )
        return await self.approve(found.entry.id, staff_id)

    async def approve(self, entry_id: str, staff_id: str) -> FaqApproved | FaqRefused:
        """Move the pending entry `entry_id` into its set's live file, and reload."""
        try:
            moved = await asyncio.to_thread(self._pending.approve, entry_id)
        except FileProblem as problem:
            return FaqRefused(f"Not approved: {problem.describe()}")
        log.info("approved a faq suggestion set=%s by=%s", moved.set_name, staff_id)
        if self._reload is not None:
            await self._reload()
        return FaqApproved(moved.entry.id, moved.set_name, moved.entry.question)


def saved_text(saved: FaqSaved | FaqRefused) -> str:
    """The result in plain words (Markdown), as every adapter shows it to the staff member."""
    if isinstance(saved, FaqRefused):
        return saved.reason
    head = (
        f"This thread is already saved as the pending FAQ entry `{saved.entry_id}`"
        if saved.already
        else f"Saved as the pending FAQ entry `{saved.entry_id}`"
    )
    lines = [f"{head} in {saved.path}. Nothing is answered from it until it is approved."]
    lines.append(f"Q: {saved.question}")
    if saved.also_asked:
        lines.append("Also asked: " + " / ".join(saved.also_asked))
    lines.append(f"A: {saved.answer}")
    if saved.cleaned:
        lines.append("(tidied by the model: check the wording)")
    elif saved.note:
        lines.append(f"({saved.note})")
    if saved.check is not None:
        lines.append(saved.check.summary)
    lines.append(f"Approve it with the button, or: bots knowledge approve {saved.entry_id}")
    return "\n".join(lines)


def approved_text(approved: FaqApproved | FaqRefused) -> str:
    if isinstance(approved, FaqRefused):
        return approved.reason
    return (
        f"Approved: `{approved.entry_id}` is now in the {approved.set_name} FAQ, and the bot "
        f'answers from it ("{approved.question}").'
    )
