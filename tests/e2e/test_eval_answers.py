"""`bots eval answers` end to end: the real engine against the fake LLM server, in seconds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import API_KEY
from tests.fakes.fake_llm import FakeLLMServer, Reply
from tests.support.cli_runner import clean_env, run_bots

ROWS = [
    {"question": "is there parking near the restaurant?", "cites": "parking"},
    {"question": "what's your phone number?", "cites": "contact"},
    {"question": "how much is the lamb?", "cites": "prices-signature-dishes"},
    {"question": "I want to talk to a real person", "handoff": True},
]
# What the fake model says to each question: two grounded answers and one that invents
# a price; the request for a person never reaches the model.
ANSWERS = {
    "parking": "The Mill Street car park is 2 minutes away: $1.50 an hour, free after 6pm "
    "[parking].",
    "phone": "Call us on 555-0134 or email hello@olive-and-thyme.example [contact].",
    "lamb": "The lamb shoulder kleftiko is $37 [prices-signature-dishes].",
}


def model_answer(body: dict[str, Any]) -> Reply:
    question = str(body["messages"][-1]["content"]).lower()
    for word, answer in ANSWERS.items():
        if word in question:
            return Reply(answer)
    return Reply("I don't know, sorry.")


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "questions.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in ROWS), encoding="utf-8")
    return path


def eval_answers(*args: str, **env: str) -> dict[str, Any]:
    result = run_bots(["eval", "answers", *args, "--json"], clean_env(**env), timeout=60)
    assert result.returncode == 0, result.stderr
    output: dict[str, Any] = json.loads(result.stdout)
    return output


def test_the_check_tells_grounded_answers_from_invented_ones(data: Path, tmp_path: Path) -> None:
    with FakeLLMServer() as server:
        server.default = model_answer
        run = eval_answers(
            "--data", str(data), OPENAI_API_KEY=API_KEY, OPENAI_BASE_URL=server.base_url
        )
    by_question = {q["question"]: q for q in run["questions"]}
    parking, phone, lamb, person = (by_question[row["question"]] for row in ROWS)
    assert (parking["cited_ok"], parking["grounded"], parking["passed"]) == (True, True, True)
    assert (phone["cited_ok"], phone["grounded"], phone["passed"]) == (True, True, True)
    assert (lamb["cited_ok"], lamb["grounded"], lamb["passed"]) == (True, False, False)
    assert lamb["ungrounded"] == ["$37"]
    assert (person["handed_off"], person["passed"]) == (True, True)
    figures = run["figures"]
    assert figures["questions"] == 4
    assert figures["pass_rate"] == 0.75
    assert figures["ungrounded_answers"] == 1
    assert figures["latency_p95_s"] < 10
    assert run["label"].startswith("restaurant (")


def test_faq_only_runs_and_compares_with_a_model_run(data: Path, tmp_path: Path) -> None:
    faq_only = tmp_path / "faq.json"
    faq_only.write_text(json.dumps(eval_answers("--data", str(data), "--label", "faq")))
    with FakeLLMServer() as server:
        server.default = model_answer
        model = eval_answers(
            "--data",
            str(data),
            "--label",
            "model",
            OPENAI_API_KEY=API_KEY,
            OPENAI_BASE_URL=server.base_url,
        )
    (tmp_path / "model.json").write_text(json.dumps(model))
    result = run_bots(
        ["eval", "answers", "--compare", str(faq_only), str(tmp_path / "model.json")],
        clean_env(),
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["faq", "model", "change"]
    pass_rate = next(line for line in lines if line.strip().startswith("pass_rate"))
    assert pass_rate.split() == ["pass_rate", "1.0", "0.75", "-0.25"]
    assert "how much is the lamb?" in result.stdout  # passed by the FAQ only


def test_a_bad_row_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"question": "parking?", "cites": "parkign"}\n', encoding="utf-8")
    result = run_bots(["eval", "answers", "--data", str(path)], clean_env(), timeout=60)
    assert result.returncode == 2
    assert "row 1: cites 'parkign', which is not an entry of the knowledge" in result.stderr
    assert "Traceback" not in result.stderr
