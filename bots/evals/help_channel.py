"""`bots eval help-channel`: the help-channel question detector scored on labelled messages."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from bots.errors import BotsError

# The fields each row needs: the message, and whether the bot should answer it.
HELP_CHANNEL_FIELDS: Mapping[str, type] = {"text": str, "question": bool}
MISSES_KEPT = 20

Detector = Callable[[str, bool], bool]
"""(text, to_someone) -> whether it is a question for the bot."""


def evaluate_help_channel(
    rows: Iterable[dict[str, Any]],
    detector: Detector,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Precision, recall, F1 and false-positive rate over all rows and per `lang`, the
    detector's time per message, and up to MISSES_KEPT misses of each kind."""
    counts: dict[str, list[int]] = {}  # lang -> [tp, fp, fn, tn]
    missed: dict[str, list[str]] = {"false_positives": [], "false_negatives": []}
    seconds = 0.0
    number = 0
    for number, row in enumerate(rows, start=1):
        text, label = row.get("text"), row.get("question")
        if not isinstance(text, str) or not isinstance(label, bool):
            raise BotsError(f"row {number}: needs a string `text` and a boolean `question`")
        started = time.perf_counter()
        said = bool(detector(text, bool(row.get("to_someone", False))))
        seconds += time.perf_counter() - started
        slot = counts.setdefault(str(row.get("lang") or "en"), [0, 0, 0, 0])
        index = (0 if said else 2) if label else (1 if said else 3)
        slot[index] += 1
        if index in (1, 2):
            kept = missed["false_positives" if index == 1 else "false_negatives"]
            if len(kept) < MISSES_KEPT:
                kept.append(text)
        if progress is not None:
            progress(number)
    total = [sum(slot[i] for slot in counts.values()) for i in range(4)]
    return {
        **_figures(total),
        "ms_per_message": round(1000 * seconds / number, 3) if number else 0.0,
        "by_language": {lang: _figures(counts[lang]) for lang in sorted(counts)},
        "misses": missed,
    }


def _figures(slot: list[int]) -> dict[str, Any]:
    tp, fp, fn, tn = slot
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "n": tp + fp + fn + tn,
        "questions": tp + fn,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "false_positive_rate": round(fp / (fp + tn), 4) if fp + tn else 0.0,
    }
