"""The shipped persona, unedited, against a real llama.cpp server (llama-cpp-python + SmolLM2).

This is the README's local-server recipe: the persona asks for 16,000 tokens, the server has
2,048 (or 1,024), and every question must still get a model answer, not the FAQ fallback.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.cli_runner import clean_env, run_bots
from tests.support.llama_server import QUESTIONS, ask_the_bot, llama_server, missing_reason

_MISSING = missing_reason()
if _MISSING is not None and os.environ.get("CI") != "true":
    pytest.skip(_MISSING, allow_module_level=True)  # CI must run it: there, it fails instead


@pytest.mark.parametrize("n_ctx", [2048, 1024])
async def test_every_question_gets_a_model_answer(n_ctx: int, tmp_path: Path) -> None:
    assert _MISSING is None, _MISSING
    with llama_server(n_ctx) as server:
        answers = await ask_the_bot(server.base_url, QUESTIONS[:6], tmp_path)

    not_from_the_model = [(a.question, a.source, a.text) for a in answers if a.source != "llm"]
    assert not_from_the_model == [], server.log_tail()
    assert all(a.text.strip() for a in answers)


def test_the_readme_recipe_bots_ask(tmp_path: Path) -> None:
    assert _MISSING is None, _MISSING
    with llama_server(2048) as server:
        env = clean_env(
            OPENAI_BASE_URL=server.base_url,
            OPENAI_API_KEY="unused",
            DATABASE_URL=f"sqlite:///{tmp_path / 'cli.sqlite3'}",
            BOTS_LOG_LEVEL="WARNING",
        )
        result = run_bots(["ask", "What time do you open on Sunday?"], env, timeout=180)

    assert result.returncode == 0, result.stderr
    assert "trouble with my answering service" not in result.stdout
    assert "Here's what our FAQ says" not in result.stdout
    assert "server context 2048 tokens" in result.stderr  # told once, in plain words
    assert "Traceback" not in result.stderr
