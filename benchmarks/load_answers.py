"""The load benchmark's model and its bookkeeping of answers, the same for every platform.

The model copies a marker from the question (`Q<conversation>-<turn>` becomes
`A<conversation>-<turn>:`), so whatever the fake platform receives is matched to the question
it answers: a second new message with the same marker is a duplicate, an answer whose
complete text never arrives is lost.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from bots.llm.client import ChatModel, ChatRequest, Completed, ContentDelta, LLMEvent
from bots.models import Usage

MARKER = re.compile(r"Q(\d+)-(\d+)\b")
ANSWER_MARK = re.compile(r"A(\d+)-(\d+):")
ANSWER = "A{c}-{k}: our coffee is roasted in town and brewed fresh every morning, oat milk too."
QUESTION = "Q{c}-{k} is the coffee fresh and do you have oat milk?"


class TimedModel(ChatModel):
    """A hosted model's timing: `ttft` to the first piece, then `chunks` pieces `gap` apart."""

    def __init__(self, ttft: float, chunks: int, gap: float) -> None:
        self.ttft, self.chunks, self.gap = ttft, max(1, chunks), gap

    @property
    def nominal_seconds(self) -> float:
        return self.ttft + self.gap * (self.chunks - 1)

    async def stream(self, request: ChatRequest) -> AsyncIterator[LLMEvent]:
        asked = [m.content for m in request.messages if m.role == "user"]
        found = MARKER.search(asked[-1]) if asked else None
        c, k = (found.group(1), found.group(2)) if found else ("?", "?")
        text = ANSWER.format(c=c, k=k)
        size = -(-len(text) // self.chunks)
        for index, start in enumerate(range(0, len(text), size)):
            delay = self.ttft if index == 0 else self.gap
            if delay:
                await asyncio.sleep(delay)
            yield ContentDelta(text[start : start + size])
        yield Completed(text, (), Usage(300, 20), "stop")


@dataclass
class Turn:
    sent: float
    first_text: float | None = None
    complete: float | None = None
    posts: int = 0
    done: asyncio.Future[None] | None = None


class Answers:
    """Per question: when it was sent, when its answer first showed and was complete."""

    def __init__(self, window: int = 0) -> None:
        self.turns: dict[tuple[int, int], Turn] = {}
        self.writes = 0
        self.window = window
        """Markers count conversations modulo this (0: never): a soak's questions then bring
        no new words after its warm-up, so the bot's bounded word caches (stemmer, typo
        repair) are full before memory is fitted. It must exceed the conversations in flight
        or awaiting their final count."""

    def marker(self, c: int) -> int:
        return c % self.window if self.window else c

    def question(self, c: int, k: int) -> str:
        return QUESTION.format(c=self.marker(c), k=k)

    def expect(self, c: int, k: int) -> Turn:
        """The question `k` of conversation `c` goes now."""
        turn = Turn(time.perf_counter(), done=asyncio.get_running_loop().create_future())
        self.turns[(self.marker(c), k)] = turn
        return turn

    def finish(self, c: int, k: int) -> Turn | None:
        """The bookkeeping of question `k` of conversation `c`, taken out for the count."""
        return self.turns.pop((self.marker(c), k), None)

    def shown(self, text: str, *, new_message: bool) -> None:
        """The platform accepted a write showing `text` (a new message, or an edit of one)."""
        self.writes += 1
        found = ANSWER_MARK.match(text)
        if found is None:
            return
        turn = self.turns.get((int(found.group(1)), int(found.group(2))))
        if turn is None:
            return
        now = time.perf_counter()
        if new_message:
            turn.posts += 1
        if turn.first_text is None:
            turn.first_text = now
        complete = ANSWER.format(c=found.group(1), k=found.group(2))
        if turn.complete is None and text.startswith(complete):
            turn.complete = now
            if turn.done is not None and not turn.done.done():
                turn.done.set_result(None)
