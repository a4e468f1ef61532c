"""`bots eval retrieval`: the contract's JSON, train phrasings, persona mode, bad input."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from bots.evals.handoff import load_jsonl
from bots.evals.retrieval import Query, evaluate_retrieval, faq_entries, split_queries
from bots.retrieval.search import Retriever
from tests.support.cli_runner import clean_env, run_bots
from tests.support.paths import REPO_ROOT

ROOT = REPO_ROOT
DATA = ROOT / "tests" / "data" / "retrieval"
CONTRACT_KEYS = {
    "n",
    "recall_at_1",
    "recall_at_3",
    "mrr",
    "ms_per_query",
    "n_out_of_scope",
    "abstain_rate_out_of_scope",
    "false_abstain_rate",
    "answered_right",
    "answered_wrong",
}


def bots(*args: str) -> subprocess.CompletedProcess[str]:
    env = clean_env(
        BOTS_PERSONAS_DIR=str(ROOT / "tests" / "data" / "personas"),
        BOTS_KNOWLEDGE_DIR=str(ROOT / "tests" / "data" / "knowledge"),
        # The figures below are the lexical retriever's; semantic mode has its own tests.
        BOTS_SEMANTIC="off",
    )
    return run_bots(["eval", "retrieval", *args], env, timeout=60)


def test_json_has_the_contract_keys_and_right_counts() -> None:
    result = bots(
        "--faq",
        str(DATA / "faq.jsonl"),
        "--queries",
        str(DATA / "queries.jsonl"),
        "--train-as-phrasings",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert set(figures) >= CONTRACT_KEYS
    assert figures["n"] == 4  # test rows with an entry
    assert figures["n_out_of_scope"] == 1
    assert figures["recall_at_1"] == 1.0
    assert figures["abstain_rate_out_of_scope"] == 1.0
    assert figures["retriever"] == "lexical"
    assert [point["min_confidence"] for point in figures["tradeoff"]][:3] == [0.0, 0.05, 0.1]


def test_without_train_phrasings_every_row_is_scored() -> None:
    result = bots(
        "--faq", str(DATA / "faq.jsonl"), "--queries", str(DATA / "queries.jsonl"), "--json"
    )
    assert json.loads(result.stdout)["n"] == 6


def test_train_rows_become_phrasings() -> None:
    entries = faq_entries(load_jsonl(DATA / "faq.jsonl"))
    indexed, queries = split_queries(list(load_jsonl(DATA / "queries.jsonl")), entries, True)
    refund = next(e for e in indexed if e.id == "refund")
    assert refund.also_asked == ("money back please",)
    assert [q.text for q in queries][:1] == ["what time do you open on sunday"]


def test_persona_mode_uses_the_personas_own_knowledge() -> None:
    result = bots("--persona", "cafe", "--queries", str(DATA / "cafe_queries.jsonl"), "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert (figures["n"], figures["recall_at_1"], figures["n_out_of_scope"]) == (2, 1.0, 1)


def test_the_readable_report_lists_misses() -> None:
    result = bots("--faq", str(DATA / "faq.jsonl"), "--queries", str(DATA / "queries.jsonl"))
    assert result.returncode == 0
    assert "recall_at_1" in result.stdout
    assert "abstention trade-off" in result.stdout


def test_metrics_count_ranks() -> None:
    entries = faq_entries(load_jsonl(DATA / "faq.jsonl"))
    retriever = Retriever(entries)
    queries = [Query("free car park", frozenset({"parking"})), Query("zzz", frozenset({"wifi"}))]
    figures = evaluate_retrieval(retriever, queries).figures
    assert figures["recall_at_1"] == 0.5
    assert figures["false_abstain_rate"] == 0.5


def test_unknown_entry_in_queries_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "q.jsonl"
    bad.write_text('{"query": "x", "faq_id": "nope"}\n', encoding="utf-8")
    result = bots("--faq", str(DATA / "faq.jsonl"), "--queries", str(bad), "--json")
    assert result.returncode == 2
    assert "faq_id 'nope' is not an entry" in result.stderr
