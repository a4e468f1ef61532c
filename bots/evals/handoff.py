"""Offline evaluations over labelled JSON Lines files: the figures `bots eval` prints."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from bots.errors import BotsError
from bots.handoff.detect import wants_human

Progress = Callable[[int], None]

# How many misclassified rows `evaluate_handoff` keeps for the report, per kind.
EXAMPLES_KEPT = 20


# The fields `evaluate_handoff` reads, for `load_jsonl(path, required=HANDOFF_FIELDS)`.
HANDOFF_FIELDS: Mapping[str, type] = {"text": str, "wants_human": bool}


def load_jsonl(
    path: Path | str, required: Mapping[str, type] | None = None
) -> Iterator[dict[str, Any]]:
    """Rows of a JSON Lines file, lazily; blank lines are skipped.

    A missing file, a line that is not a JSON object, or one lacking a `required` field of the
    given type raises BotsError naming file and line.
    """
    path = Path(path)
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise BotsError(f"cannot read {path}: {exc.strerror or exc}") from exc
    with handle:
        number = 0
        try:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise BotsError(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
                if not isinstance(row, dict):
                    raise BotsError(f"{path}:{number}: expected a JSON object per line")
                for field, kind in (required or {}).items():
                    if not isinstance(row.get(field), kind):
                        raise BotsError(f"{path}:{number}: needs a {kind.__name__} `{field}`")
                yield row
        except UnicodeDecodeError as exc:
            raise BotsError(f"{path}:{number + 1}: not UTF-8 text") from exc


def evaluate_handoff(
    rows: Iterable[dict[str, Any]],
    detector: Callable[[str], bool] = wants_human,
    progress: Progress | None = None,
    examples: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """Score a hand-off detector on rows of the shared utterance format.

    Rows marked `ambiguous` are left out of the main figures and reported apart as the share the
    detector flags. `ms_per_message` times the detector alone, over every row, with its median
    and 99th percentile. `by_language` has the same figures per row `lang` (rows without one
    count as "en", the shared sets' only language). If `examples` is given, it receives up to
    EXAMPLES_KEPT "false_negatives" and "false_positives" texts.
    """
    counts: dict[str, _Counts] = {}
    ambiguous = ambiguous_flagged = 0
    timings: list[float] = []
    count = 0
    for count, row in enumerate(rows, start=1):
        text, label, is_ambiguous = _handoff_row(row, count)
        started = time.perf_counter()
        flagged = bool(detector(text))
        timings.append(time.perf_counter() - started)
        if is_ambiguous:
            ambiguous += 1
            ambiguous_flagged += flagged
        else:
            language = str(row.get("lang") or "en")
            kind = counts.setdefault(language, _Counts()).add(label, flagged)
            if kind == "fn":
                _keep(examples, "false_negatives", text)
            elif kind == "fp":
                _keep(examples, "false_positives", text)
        if progress is not None:
            progress(count)
    total = sum(counts.values(), _Counts())
    timings.sort()
    return {
        **total.figures(),
        "ambiguous_flagged_rate": round(_ratio(ambiguous_flagged, ambiguous), 4),
        "ms_per_message": round(1000 * sum(timings) / count, 4) if count else 0.0,
        "ms_p50": round(1000 * _percentile(timings, 0.50), 4),
        "ms_p99": round(1000 * _percentile(timings, 0.99), 4),
        "by_language": {lang: counts[lang].figures() for lang in sorted(counts)},
    }


class _Counts:
    """True and false positives and negatives of one slice of the rows."""

    def __init__(self, tp: int = 0, fp: int = 0, fn: int = 0, tn: int = 0) -> None:
        self.tp, self.fp, self.fn, self.tn = tp, fp, fn, tn

    def __add__(self, other: _Counts) -> _Counts:
        return _Counts(
            self.tp + other.tp, self.fp + other.fp, self.fn + other.fn, self.tn + other.tn
        )

    def add(self, label: bool, flagged: bool) -> str:
        """Count one row; which of tp, fp, fn, tn it was."""
        kind = ("tp" if flagged else "fn") if label else ("fp" if flagged else "tn")
        setattr(self, kind, getattr(self, kind) + 1)
        return kind

    def figures(self) -> dict[str, Any]:
        precision = _ratio(self.tp, self.tp + self.fp)
        recall = _ratio(self.tp, self.tp + self.fn)
        f1 = _ratio(2 * precision * recall, precision + recall)
        return {
            "n": self.tp + self.fp + self.fn + self.tn,
            "positives": self.tp + self.fn,
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "false_positive_rate": round(_ratio(self.fp, self.fp + self.tn), 4),
        }


def _percentile(ordered: list[float], share: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _handoff_row(row: dict[str, Any], number: int) -> tuple[str, bool, bool]:
    text, label = row.get("text"), row.get("wants_human")
    if not isinstance(text, str) or not isinstance(label, bool):
        raise BotsError(f"row {number}: needs a string `text` and a boolean `wants_human`")
    return text, label, bool(row.get("ambiguous", False))


def _keep(examples: dict[str, list[str]] | None, kind: str, text: str) -> None:
    if examples is not None:
        kept = examples.setdefault(kind, [])
        if len(kept) < EXAMPLES_KEPT:
            kept.append(text)


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


class ProgressLine:
    """A one-line counter on stderr, redrawn every `every` rows; silent when not a terminal."""

    def __init__(
        self, label: str, every: int = 1000, stream: Any = None, *, total: int | None = None
    ) -> None:
        self._label = label
        self._every = every
        self._total = total
        self._stream = stream if stream is not None else sys.stderr
        self._shown = False
        self._enabled = bool(getattr(self._stream, "isatty", lambda: False)())

    def __call__(self, done: int) -> None:
        if self._enabled and done % self._every == 0:
            shown = f"{done:,} of {self._total:,}" if self._total else f"{done:,} rows"
            self._stream.write(f"\r{self._label}: {shown}")
            self._stream.flush()
            self._shown = True

    def close(self) -> None:
        if self._shown:
            self._stream.write("\r\033[K")
            self._stream.flush()
