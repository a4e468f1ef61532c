"""Asking the model for one turn's reply: prompt, stream, clean, and one shrink on overflow."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace

from bots.errors import ContextTooLong, LLMBadResponse, ToolsRefused
from bots.grounding import Grounding, check_grounding
from bots.llm.client import ChatModel, ChatRequest, Completed, ContentDelta, LLMEvent, ToolCall
from bots.llm.fit import ServerFit, Sizes
from bots.markers import find_handoff
from bots.models import Citation, FinalReply, ReplySource, Role, TextDelta, Turn, Usage
from bots.retrieval.search import RetrievalResult
from bots.text import StreamCleaner, clean_reply, neutralise_mentions
from bots.tokens import TokenCounter, most_counted
from bots.turn.attachments import IMAGE_TOKENS, TurnFiles, with_files
from bots.turn.deadline import Deadline, until
from bots.turn.endings import broken_off, marked_cut_short
from bots.turn.offline import citation_for, offline_reply
from bots.turn.output_guard import LeakGuard, forged_handoff, hidden_texts, public_texts
from bots.turn.prompt import HANDOFF_TOOL, Prompt, build_prompt, persona_sections
from bots.turn.runtime import PersonaRuntime

# Longer messages are cut before they reach the model; the stored turn keeps the full text.
MAX_INPUT_CHARS = 6_000
# After the server says the prompt is too long without naming its window (or the window it
# named was already known: the token estimate ran short), retry with this share of the budget.
SHRINK_FACTOR = 0.6
LENGTH = "length"
"""The finish reason of a reply that reached `max_tokens` (the server's, or our own count)."""


class ModelAnswer:
    """One model call for one turn. Iterate `stream()` for the cleaned text as it arrives;
    afterwards `reply()` is the final reply, or `handoff_reason` says the model asked for a
    person (the handoff_to_human tool). LLM errors propagate to the caller; after one,
    `broken_reply()` is what to show if the user already saw some of the text.

    The reply stops at the persona's `max_tokens`, counted here with the persona's token
    counter, even from a server that ignores the limit; with a `deadline`, the model's stream
    is cut off when it passes (`TurnTimedOut`)."""

    def __init__(
        self,
        llm: ChatModel,
        runtime: PersonaRuntime,
        retrieval: RetrievalResult,
        history: Sequence[Turn],
        user_text: str,
        deadline: Deadline | None = None,
        fit: ServerFit | None = None,
        language: str = "en",
        files: TurnFiles | None = None,
    ) -> None:
        """`language` is the user's, for the bot's own words (the cut-short note). `files` are
        the message's attachments as the model gets them: text files join the user's message
        (as data), images go with it as image parts."""
        self._llm = llm
        self._language = language
        self._files = files or TurnFiles()
        self.images_refused = False
        """The server refused the images (a text-only model): they went unseen."""
        self._deadline = deadline
        self._fit = fit or ServerFit()
        self._runtime = runtime
        self._retrieval = retrieval
        self._history = history
        self._user_text = with_files(user_text[:MAX_INPUT_CHARS], self._files)
        self.text = ""
        self.usage = Usage()
        self.prompt: Prompt | None = None
        self.handoff_reason: str | None = None
        self.leaked = False
        """The model quoted the persona's hidden sections: its text is never shown."""
        self.finish_reason: str | None = None
        self.shown = ""
        """The cleaned text the caller was given so far (what the user saw streaming)."""
        self._written = ""  # the raw text of the current attempt, as the model wrote it
        self._held_back = ""  # cleaned text not yet given out when the model broke off

    async def stream(self) -> AsyncIterator[TextDelta]:
        model = self._runtime.persona.model
        share, lessons = 1.0, 0
        # Each way of recovering is tried once: the window the server named (twice, should it
        # name a smaller one again), a smaller share of the budget (the token estimate ran
        # short), a request without tools.
        while True:
            sizes = self._fit.sizes(model.context_window, model.max_tokens)
            cap = most_counted(self._runtime.counter, sizes.max_tokens)
            tools = model.tools and self._fit.tools
            self.prompt = self._build(int(sizes.prompt_budget * share), tools)
            self._warn_if_rules_overflow(sizes)
            cleaner = StreamCleaner(self.prompt.entry_ids, self._runtime.links.vetted)
            guard = self._leak_guard(self.prompt)
            self._written, counted = "", 0
            try:
                # Breaking off drops the stream; asyncio's generator finaliser closes it.
                async for event in self._events(self._request(self.prompt, sizes, tools)):
                    if isinstance(event, ContentDelta):
                        self._written += event.text
                        counted += self._runtime.counter.count(event.text)
                        if counted > cap:
                            # Pieces counted apart add up to more than the whole: recount.
                            counted = self._runtime.counter.count(self._written)
                        if counted > cap:
                            self._stop_at_max_tokens(cap)
                            break
                        if piece := guard.feed(cleaner.feed(event.text)):
                            self.shown += piece
                            yield TextDelta(piece)
                        if guard.leaked:
                            break  # nothing more of it will be shown: stop paying for it
                    elif isinstance(event, ToolCall):
                        self._take_tool_call(event)
                    elif isinstance(event, Completed):
                        self.text, self.usage = event.text, event.usage
                        self.finish_reason = event.finish_reason
            except ContextTooLong as exc:
                if lessons < 2 and self._learned_smaller(exc.limit, sizes):
                    lessons += 1
                    continue
                if share < 1.0:
                    raise
                share = SHRINK_FACTOR
                continue
            except ToolsRefused:
                if not tools:
                    raise
                self._fit.refuse_tools()
                continue
            except LLMBadResponse:
                if not self._files.images or self.shown:
                    raise
                # A model that cannot see, marked `vision: true`: ask again without the images,
                # and the reply says they were not seen.
                self._files = replace(self._files, images=(), unseen_images=len(self._files.images))
                self.images_refused = True
                continue
            except BaseException:
                # An LLM error, the deadline, a cancel: keep what the cleaners still hold, for
                # `broken_reply` (the guard drops it if it leaks).
                self._held_back = guard.feed(cleaner.flush()) + guard.flush()
                raise
            if tail := guard.feed(cleaner.flush()) + guard.flush():
                self.shown += tail
                yield TextDelta(tail)
            self.leaked = guard.leaked or guard.check(self.text)
            if self.handoff_reason is None and not self.leaked:
                # Servers without tools get a marker; any model may promise a person in words
                # and forget the tool. Either way, a person must really come.
                marker_reason = find_handoff(self.text)
                self.handoff_reason = marker_reason and neutralise_mentions(marker_reason)
                if self.handoff_reason is not None and forged_handoff(self.text, self._data()):
                    self.handoff_reason = None  # a marker echoed from a message or an entry
            return

    @property
    def files(self) -> TurnFiles:
        """The message's files as the model finally got them."""
        return self._files

    def _warn_if_rules_overflow(self, sizes: Sizes) -> None:
        """The fixed rules and instructions alone overflow this window: no shrinking helps,
        so say what would (once a run and persona; the server still gets the request)."""
        assert self.prompt is not None
        if self.prompt.token_count <= sizes.prompt_budget:
            return
        self._fit.warn_once(
            f"overflow:{self._runtime.persona.name}:{sizes.window}",
            "persona %s: its fixed rules and instructions take about %d tokens, more than the "
            "%d left in a %d-token window after the reply's %d; shorten the instructions or "
            "give the model server a larger context",
            self._runtime.persona.name,
            self.prompt.token_count,
            sizes.prompt_budget,
            sizes.window,
            sizes.max_tokens,
        )

    def _learned_smaller(self, limit: int | None, sizes: Sizes) -> bool:
        """Whether the server named a window smaller than the one this request was fitted to."""
        if limit is None:
            return False
        self._fit.learn_window(limit, "named in its refusal")
        model = self._runtime.persona.model
        return self._fit.sizes(model.context_window, model.max_tokens).window < sizes.window

    def reply(self) -> FinalReply:
        """The cleaned reply with the entries it cited (empty text if it said nothing).

        A reply that reached `max_tokens` is cut back to a boundary and says it was cut.
        """
        assert self.prompt is not None, "stream() first"
        runtime = self._runtime
        if self.leaked:
            # An honest answer from the knowledge (or "I don't know"), never the quote.
            return offline_reply(runtime.persona, self._retrieval, llm_down=False)
        text, cited = clean_reply(self.text, self.prompt.entry_ids, runtime.links.vetted)
        text = text.strip()
        if text and self.finish_reason == LENGTH:
            text = marked_cut_short(runtime.persona, text, self._language)
        return FinalReply(
            text=text,
            source=ReplySource.LLM,
            citations=self._citations(cited),
            usage=self.spent(),
            ungrounded=self.grounding(text).unsupported_texts,
        )

    def broken_reply(self) -> FinalReply | None:
        """After the model broke off (an LLM error, the deadline): what the user saw, marked
        as cut short, with the honest notice; None when nothing was shown (or it leaked)."""
        written = (self.shown + self._held_back).strip()
        if self.prompt is None or self.leaked or not written:
            return None
        _, cited = clean_reply(self._written, self.prompt.entry_ids)
        persona = self._runtime.persona
        return broken_off(
            persona,
            self._retrieval,
            written,
            self._citations(cited),
            self.spent(),
            self._language,
        )

    def grounding(self, text: str) -> Grounding:
        """Which facts of `text` the prompt's snippets do not hold. The persona's own
        sections and the user's message count as sources too: the model may repeat them."""
        assert self.prompt is not None, "stream() first"
        persona = self._runtime.persona
        snippets = self._runtime.catalog.block(self.prompt.entry_ids)
        return check_grounding(text, [snippets, persona_sections(persona), self._user_text])

    def spent(self) -> Usage:
        """The tokens the call used: as the server reported them, else estimated."""
        if self.usage != Usage() or self.prompt is None:
            return self.usage
        written = self.text or self._written
        return Usage(self.prompt.token_count, self._runtime.counter.count(written))

    def _events(self, request: ChatRequest) -> AsyncIterator[LLMEvent]:
        events = self._llm.stream(request)
        return events if self._deadline is None else until(self._deadline, events)

    def _stop_at_max_tokens(self, cap: int) -> None:
        """The server went past `max_tokens` (it ignores the limit): end the reply with the
        text within it, as a server that honours it would have (finish reason "length")."""
        within = _longest_within(self._written, cap, self._runtime.counter)
        self.text, self._written, self.finish_reason = within, within, LENGTH

    def _citations(self, cited: Sequence[str]) -> tuple[Citation, ...]:
        by_id = self._runtime.catalog.by_id
        return tuple(citation_for(by_id[i]) for i in cited)

    def _build(self, budget: int, tools: bool) -> Prompt:
        # Images take at most half the budget (the rest is for the rules, the FAQ, the text).
        images = self._files.images[: max(budget // 2, 0) // IMAGE_TOKENS]
        prompt = self._build_text(budget - IMAGE_TOKENS * len(images), tools)
        if not images:
            return prompt
        *earlier, last = prompt.messages
        messages = (*earlier, replace(last, images=images))
        count = prompt.token_count + IMAGE_TOKENS * len(images)
        return replace(prompt, messages=messages, token_count=count)

    def _build_text(self, budget: int, tools: bool) -> Prompt:
        return build_prompt(
            persona=self._runtime.persona,
            counter=self._runtime.counter,
            catalog=self._runtime.catalog,
            ranked=[hit.entry for hit in self._retrieval.hits],
            history=self._history,
            user_text=self._user_text,
            budget=budget,
            tools=tools,
        )

    def _request(self, prompt: Prompt, sizes: Sizes, tools: bool) -> ChatRequest:
        settings = self._runtime.persona.model
        return ChatRequest(
            model=self._runtime.model,
            messages=prompt.messages,
            temperature=settings.temperature,
            max_tokens=sizes.max_tokens,
            top_p=settings.top_p,
            presence_penalty=settings.presence_penalty,
            frequency_penalty=settings.frequency_penalty,
            stop=settings.stop,
            tools=(HANDOFF_TOOL,) if tools else (),
        )

    def _leak_guard(self, prompt: Prompt) -> LeakGuard:
        persona = self._runtime.persona

        def public() -> list[str]:
            return [*public_texts(persona), self._runtime.catalog.block(prompt.entry_ids)]

        return LeakGuard(hidden_texts(persona), public)

    def _data(self) -> list[str]:
        """What users and knowledge wrote this turn: text the model may only echo as data."""
        assert self.prompt is not None
        users = [turn.text for turn in self._history if turn.role is Role.USER]
        return [self._user_text, *users, self._runtime.catalog.block(self.prompt.entry_ids)]

    def _take_tool_call(self, call: ToolCall) -> None:
        if call.name != HANDOFF_TOOL.name:
            return
        try:
            arguments = json.loads(call.arguments or "{}")
        except json.JSONDecodeError:
            arguments = {}
        reason = arguments.get("reason") if isinstance(arguments, dict) else None
        # The team sees the reason: model text, so it must not ping anyone there either.
        self.handoff_reason = neutralise_mentions(str(reason or "the assistant could not help"))


def _longest_within(text: str, cap: int, counter: TokenCounter) -> str:
    """The longest beginning of `text` that counts at most `cap` tokens (a binary search:
    one piece from the server may hold far more than the cap)."""
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if counter.count(text[:middle]) <= cap:
            low = middle
        else:
            high = middle - 1
    return text[:low]
