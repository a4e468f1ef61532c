"""Chat-platform faults, small runs of every case in tests/support/platform_faults.py: each message
gets
one reply or one honest notice, nothing is lost, nothing is answered twice.
`python benchmarks/faults.py` runs the same cases at size and prints the table."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_faults import assert_every_message_accounted_for, no_progress
from tests.support import platform_faults as faults
from tests.support.fault_harness import Tally


@pytest.mark.parametrize("name", list(faults.SLACK_FAULTS))
async def test_slack_platform_faults(name: str, tmp_path: Path) -> None:
    tally = await faults.slack_scenario(
        name, tmp_path, conversations=3, turns=3, progress=no_progress
    )
    assert_every_message_accounted_for(tally)
    assert tally.replies == tally.sent, tally  # the platform's faults never need a notice
    assert tally.faults > 0, tally  # the fault really happened


async def test_slack_socket_mode_redelivery(tmp_path: Path) -> None:
    tally = await faults.slack_socket_redelivery_scenario(
        tmp_path, conversations=2, turns=2, progress=no_progress
    )
    assert_every_message_accounted_for(tally)
    assert tally.faults == tally.sent == 4


async def test_discord_platform_faults(tmp_path: Path) -> None:
    tally = await faults.discord_scenario(tmp_path, conversations=3, turns=3, progress=no_progress)
    assert_every_message_accounted_for(tally)
    assert tally.faults > 0, tally


async def test_discord_429s_without_via_are_retried_once_or_end_in_a_notice(
    tmp_path: Path,
) -> None:
    tally = await faults.discord_no_via_scenario(
        tmp_path, conversations=4, turns=3, progress=no_progress
    )
    assert_every_message_accounted_for(tally)
    assert tally.faults == tally.sent == 12, tally
    assert tally.replies > 0, tally
    assert tally.replies + tally.notices == tally.sent, tally


async def test_discord_thread_deleted_mid_answer(tmp_path: Path) -> None:
    tally = await faults.discord_thread_deleted_scenario(
        tmp_path, conversations=2, progress=no_progress
    )
    assert (tally.sent, tally.faults, tally.nowhere) == (2, 2, 2), tally
    assert tally.duplicates == tally.lost == 0, tally


def test_a_partial_answer_counts_as_lost_and_two_answers_as_a_duplicate() -> None:
    """The counting itself can fail: what a broken adapter would show is caught."""
    tally = Tally("counting")
    whole, cut = faults.ANSWER, faults.ANSWER[:40]
    assert faults.count_turn(tally, [whole])
    assert not faults.count_turn(tally, [cut])
    assert not faults.count_turn(tally, [])
    assert faults.count_turn(tally, [whole, whole])
    assert faults.count_turn(tally, ["A person from our team will take it from here."])
    assert (tally.replies, tally.notices, tally.lost, tally.duplicates) == (2, 1, 2, 1)


async def test_discord_forum_posts_are_answered_once_under_429s_and_redelivery(
    tmp_path: Path,
) -> None:
    tally = await faults.discord_forum_scenario(
        tmp_path, conversations=6, turns=2, progress=no_progress
    )
    assert tally.faults > 0, tally
    assert tally.duplicates == 0, tally
    assert tally.lost == 0, tally  # every post tagged, every answer in the history
    assert tally.replies + tally.notices == tally.sent, tally
