"""The operator's report: one period's figures computed from the store's `Activity`."""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from rapidfuzz import fuzz, process, utils

from bots.llm.pricing import PriceTable
from bots.models import Usage
from bots.report.knowledge_use import EntryUsage, KnownEntry, PendingSuggestion, entry_usage
from bots.store import Store
from bots.store.activity import Activity, HandoffTimes, UngroundedAnswer, UnmatchedQuestion

# Questions whose normalised texts are at least this alike (rapidfuzz's `ratio`, 0-100) are
# counted as one: typos, plurals, punctuation and case ("gift cards?" / "Giftcards"), while
# "vegan food" and "vegan wine" stay apart (86).
SAME_QUESTION = 90
TOP_GAPS = 10
# Unmatched questions read for grouping: the newest this many (the count of all is exact).
UNMATCHED_READ = 2000
UNGROUNDED_LISTED = 20
# Fuzzy comparison looks at the start of long messages only: it is where the question is.
_COMPARED_CHARS = 300
# Upper bounds of the time-to-claim histogram's bars (the last bar takes the rest).
CLAIM_BUCKETS: tuple[tuple[str, timedelta], ...] = (
    ("under 5 min", timedelta(minutes=5)),
    ("5-15 min", timedelta(minutes=15)),
    ("15-60 min", timedelta(hours=1)),
    ("1-4 h", timedelta(hours=4)),
    ("4-24 h", timedelta(days=1)),
)
_SINCE = re.compile(r"\s*(\d+)\s*([hdw])\s*", re.IGNORECASE)
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str) -> timedelta:
    """A period such as 24h, 7d, 30d or 2w. Written by hand: a number and a letter need no
    date library, and the error can say exactly what is accepted."""
    match = _SINCE.fullmatch(text)
    if match is None or int(match.group(1)) == 0:
        raise ValueError(
            f"--since takes a number of hours, days or weeks, such as 24h, 7d, 30d or 2w; "
            f"got {text!r}"
        )
    return timedelta(**{_UNITS[match.group(2).lower()]: int(match.group(1))})


@dataclass(frozen=True, slots=True)
class Resolution:
    """Conversations started in the period that the bot answered or handed over."""

    conversations: int
    resolved: int
    """Answered without a hand-off, a thumbs-down, or ending on "I don't know"."""
    answered: int
    handed_off: int
    thumbs_down: int
    unanswered: int
    """Ending on the bot's "I don't know" with the offer of a person not taken."""

    @property
    def rate(self) -> float | None:
        return self.resolved / self.conversations if self.conversations else None


@dataclass(frozen=True, slots=True)
class ClaimTimes:
    """How long hand-offs of the period waited for a person to claim them."""

    claimed: int
    median: timedelta | None
    p90: timedelta | None
    unclaimed: int
    """Still waiting: neither claimed nor handed back."""
    longest_waiting: timedelta | None
    """How long the oldest of those has waited, until the report's end."""
    closed_unclaimed: int
    """Handed back (or resolved by staff) without anyone claiming them first."""
    histogram: tuple[tuple[str, int], ...] = ()
    """Claimed hand-offs by time to claim, in CLAIM_BUCKETS."""


@dataclass(frozen=True, slots=True)
class KnowledgeGap:
    """Questions (near-duplicates merged) that the knowledge had no confident answer for."""

    example: str
    """The most frequent wording (the newest among equals), as the user wrote it."""
    count: int
    closest_entry: str | None
    """The entry retrieval liked best for them, though not enough to answer from."""
    best_confidence: float
    last_asked: datetime


@dataclass(frozen=True, slots=True)
class ModelCost:
    model: str
    calls: int
    prompt_tokens: int
    completion_tokens: int
    dollars: float
    priced: bool
    """False when BOTS_PRICES has no price for the model (counted as 0)."""


@dataclass(frozen=True, slots=True)
class Report:
    since: datetime
    until: datetime
    resolution: Resolution
    handoffs_by_reason: tuple[tuple[str, int], ...]
    """Most frequent first."""
    claims: ClaimTimes
    thumbs_up: int
    thumbs_down: int
    questions: int
    matched: int
    gaps: tuple[KnowledgeGap, ...]
    unmatched_grouped: int
    """How many unmatched questions (with their text still kept) the gaps were grouped from."""
    costs: tuple[ModelCost, ...]
    retention_days: int | None = None
    """Set when messages older than this are deleted and the period reaches back further."""
    ungrounded: tuple[UngroundedAnswer, ...] = ()
    """The newest model answers stating facts no retrieved snippet held (newest first)."""
    entries: tuple[EntryUsage, ...] = ()
    """Every live knowledge entry with how often it answered (most first, unused last)."""
    pending: tuple[PendingSuggestion, ...] = ()
    """Suggested entries from staff answers, waiting for approval."""

    @property
    def handoffs(self) -> int:
        return sum(count for _, count in self.handoffs_by_reason)

    @property
    def dollars(self) -> float:
        return sum(cost.dollars for cost in self.costs)


async def read_report(
    store: Store,
    since: datetime,
    until: datetime,
    prices: PriceTable,
    *,
    retention_days: int | None = None,
    top: int = TOP_GAPS,
    known: Sequence[KnownEntry] = (),
    pending: Sequence[PendingSuggestion] = (),
) -> Report:
    """The report for [since, until) from an open store; `known` are the live entries (from
    the files) whose use is listed, `pending` the suggestions waiting for approval."""
    activity = await store.activity(since, until, unmatched_limit=UNMATCHED_READ)
    report = build_report(activity, since, until, prices, retention_days=retention_days, top=top)
    ungrounded = await store.ungrounded_answers(since, until, limit=UNGROUNDED_LISTED)
    uses = await store.entry_uses(since, until)
    return replace(
        report,
        ungrounded=tuple(ungrounded),
        entries=entry_usage(known, uses),
        pending=tuple(pending),
    )


def build_report(
    activity: Activity,
    since: datetime,
    until: datetime,
    prices: PriceTable,
    *,
    retention_days: int | None = None,
    top: int = TOP_GAPS,
) -> Report:
    counts = activity.conversations
    reasons = Counter(handoff.reason for handoff in activity.handoffs)
    reaches_back = retention_days is not None and since < until - timedelta(days=retention_days)
    return Report(
        since=since,
        until=until,
        resolution=Resolution(
            counts.total,
            counts.resolved,
            counts.answered,
            counts.handed_off,
            counts.thumbs_down,
            counts.unanswered,
        ),
        handoffs_by_reason=tuple(sorted(reasons.items(), key=lambda item: (-item[1], item[0]))),
        claims=claim_times(activity.handoffs, until),
        thumbs_up=activity.thumbs_up,
        thumbs_down=activity.thumbs_down,
        questions=activity.questions,
        matched=activity.matched,
        gaps=knowledge_gaps(activity.unmatched, top=top),
        unmatched_grouped=len(activity.unmatched),
        costs=tuple(
            ModelCost(
                usage.model,
                usage.calls,
                usage.prompt_tokens,
                usage.completion_tokens,
                prices.cost(usage.model, Usage(usage.prompt_tokens, usage.completion_tokens)),
                usage.model in prices.prices,
            )
            for usage in activity.usage
        ),
        retention_days=retention_days if reaches_back else None,
    )


def claim_times(handoffs: Sequence[HandoffTimes], now: datetime) -> ClaimTimes:
    waits = sorted(h.claimed_at - h.requested_at for h in handoffs if h.claimed_at is not None)
    waiting = [h for h in handoffs if h.claimed_at is None and h.resolved_at is None]
    closed = sum(1 for h in handoffs if h.claimed_at is None and h.resolved_at is not None)
    oldest = min((h.requested_at for h in waiting), default=None)
    return ClaimTimes(
        claimed=len(waits),
        median=_percentile(waits, 50),
        p90=_percentile(waits, 90),
        unclaimed=len(waiting),
        longest_waiting=max(now - oldest, timedelta(0)) if oldest is not None else None,
        closed_unclaimed=closed,
        histogram=_histogram(waits),
    )


def _histogram(waits: Sequence[timedelta]) -> tuple[tuple[str, int], ...]:
    counts = dict.fromkeys([label for label, _ in CLAIM_BUCKETS] + ["over a day"], 0)
    for wait in waits:
        label = next((label for label, bound in CLAIM_BUCKETS if wait < bound), "over a day")
        counts[label] += 1
    return tuple(counts.items())


def _percentile(sorted_waits: Sequence[timedelta], percent: int) -> timedelta | None:
    """The `percent`th percentile, interpolated between the two nearest waits."""
    if not sorted_waits:
        return None
    if len(sorted_waits) == 1:
        return sorted_waits[0]
    seconds = [wait.total_seconds() for wait in sorted_waits]
    if percent == 50:
        return timedelta(seconds=statistics.median(seconds))
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")
    return timedelta(seconds=cuts[percent - 1])


def knowledge_gaps(
    questions: Sequence[UnmatchedQuestion], *, top: int = TOP_GAPS
) -> tuple[KnowledgeGap, ...]:
    """The most frequent unmatched questions, near-duplicates merged (most frequent first).

    Each question is normalised (case, punctuation, spacing); identical forms count
    together, then a form at least SAME_QUESTION alike to a more frequent one joins its group.
    """
    by_form: dict[str, list[UnmatchedQuestion]] = defaultdict(list)
    for question in questions:
        by_form[_normalised(question.text)].append(question)
    forms = sorted(by_form, key=lambda form: (-len(by_form[form]), _newest(by_form[form])))
    heads: list[str] = []
    groups: dict[str, list[UnmatchedQuestion]] = {}
    for form in forms:
        match = process.extractOne(
            form[:_COMPARED_CHARS],
            [head[:_COMPARED_CHARS] for head in heads],
            scorer=fuzz.ratio,
            score_cutoff=SAME_QUESTION,
        )
        if form and match is not None:
            groups[heads[match[2]]].extend(by_form[form])
        else:
            heads.append(form)
            groups[form] = list(by_form[form])
    gaps = [_gap(members) for members in groups.values()]
    gaps.sort(key=lambda gap: (-gap.count, -gap.last_asked.timestamp()))
    return tuple(gaps[:top])


def _gap(members: list[UnmatchedQuestion]) -> KnowledgeGap:
    wordings: Counter[str] = Counter()
    newest: dict[str, datetime] = {}
    for question in members:
        wording = " ".join(question.text.split())
        wordings[wording] += 1
        newest[wording] = max(question.at, newest.get(wording, question.at))
    example = max(wordings, key=lambda wording: (wordings[wording], newest[wording]))
    entries = Counter(q.entry_id for q in members if q.entry_id is not None)
    return KnowledgeGap(
        example=example,
        count=len(members),
        closest_entry=entries.most_common(1)[0][0] if entries else None,
        best_confidence=max(q.confidence for q in members),
        last_asked=max(q.at for q in members),
    )


def _normalised(text: str) -> str:
    return " ".join(utils.default_process(text).split())


def _newest(questions: Sequence[UnmatchedQuestion]) -> float:
    """A sort key putting the most recently asked first."""
    return -max(q.at for q in questions).timestamp()
