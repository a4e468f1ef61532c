"""Fault injection, small runs of every case in tests/support/fault_harness.py: each message gets
one
reply or one honest notice, nothing is lost from the history, nothing is answered twice.
`python benchmarks/faults.py` runs the same cases at size and prints the table."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support import fault_harness as harness


def no_progress(line: str) -> None:
    pass


def assert_every_message_accounted_for(tally: harness.Tally) -> None:
    assert tally.duplicates == 0, tally
    assert tally.lost == 0, tally
    assert tally.replies + tally.notices == tally.sent, tally


@pytest.mark.parametrize("name", list(harness.LLM_FAULTS))
async def test_llm_faults(name: str, tmp_path: Path) -> None:
    tally = await harness.llm_scenario(
        name, tmp_path, conversations=4, turns=4, progress=no_progress
    )
    assert_every_message_accounted_for(tally)
    if name != "no faults":
        assert tally.faults > 0, tally  # the fault really happened


async def test_a_trickle_never_holds_a_turn_past_its_deadline(tmp_path: Path) -> None:
    name = next(n for n in harness.LLM_FAULTS if n.startswith("trickles"))
    tally = await harness.llm_scenario(
        name, tmp_path, conversations=4, turns=4, progress=no_progress
    )
    assert_every_message_accounted_for(tally)
    assert tally.faults > 0, tally
    assert tally.notices == tally.faults  # what was written, cut short, with the notice
    assert tally.longest < harness.TRICKLE_DEADLINE + 1.5, tally


async def test_llm_faults_without_faults_are_all_model_replies(tmp_path: Path) -> None:
    tally = await harness.llm_scenario(
        "no faults", tmp_path, conversations=2, turns=3, progress=no_progress
    )
    assert (tally.replies, tally.notices) == (6, 0)


async def test_redelivered_events_are_answered_once(tmp_path: Path) -> None:
    tally = await harness.redelivery_scenario(
        tmp_path, conversations=3, turns=3, progress=no_progress
    )
    assert_every_message_accounted_for(tally)
    assert tally.faults == tally.sent == 9


@pytest.mark.parametrize(("hold", "busy_ms"), [(0.3, 5_000), (0.5, 50)])
async def test_sqlite_locked_by_another_process(tmp_path: Path, hold: float, busy_ms: int) -> None:
    tally = await harness.sqlite_lock_scenario(
        tmp_path,
        conversations=2,
        turns=4,
        progress=no_progress,
        hold_seconds=hold,
        busy_timeout_ms=busy_ms,
    )
    assert_every_message_accounted_for(tally)
    assert tally.faults > 0
    if busy_ms > hold * 1000:
        assert tally.notices == 0, tally  # the store waited the lock out
    else:
        assert tally.notices > 0, tally  # honest "please send it again"


async def test_postgres_restarted_mid_run() -> None:
    if not (harness.PG_BIN / "initdb").exists():
        reason = f"no PostgreSQL binaries in {harness.PG_BIN} for a private cluster"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: this must not be skipped)")
        pytest.skip(reason)
    tally = await harness.postgres_restart_scenario(conversations=2, turns=4, progress=no_progress)
    assert_every_message_accounted_for(tally)
    assert tally.faults == 1


def test_sigkill_mid_turn_then_restart(tmp_path: Path) -> None:
    tally = harness.sigkill_scenario(tmp_path, kills=2, progress=no_progress)
    assert (tally.sent, tally.faults, tally.replies) == (2, 2, 2), tally
    assert tally.duplicates == 0, tally
    assert tally.lost == 0, tally
