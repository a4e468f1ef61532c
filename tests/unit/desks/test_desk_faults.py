"""Every help-desk fault row, small: one ticket per hand-off, each item once, nothing lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.desk_faults import DESK_FAULTS, desk_scenario


@pytest.mark.parametrize("name", DESK_FAULTS)
async def test_desk_faults(name: str, tmp_path: Path) -> None:
    tally = await desk_scenario(name, tmp_path, conversations=4, progress=lambda line: None)
    assert tally.duplicates == 0, tally
    assert tally.lost == 0, tally
    assert tally.replies == tally.sent, tally
    assert tally.faults > 0, tally  # the fault really happened
