"""benchmarks/security_cases.py counts what hypothesis and pytest report, not what it is told."""

from __future__ import annotations

import importlib.util
import sys

from tests.support.cli_runner import ROOT

_spec = importlib.util.spec_from_file_location(
    "security_cases", ROOT / "benchmarks" / "security_cases.py"
)
assert _spec is not None
assert _spec.loader is not None
security_cases = importlib.util.module_from_spec(_spec)
sys.modules["security_cases"] = security_cases  # its dataclasses look their module up
_spec.loader.exec_module(security_cases)

STATISTICS = """tests/unit/test_fuzz.py::test_x:

  - during reuse phase (0.01 seconds):
    - Typical runtimes: ~ 1ms, of which < 1ms in data generation
    - 3 passing, 0 failing, and 0 invalid test cases

  - during generate phase (0.45 seconds):
    - Typical runtimes: ~ 0-6 ms, of which < 1ms in data generation
    - 197 passing, 0 failing, and 2 invalid test cases

  - Stopped because settings.max_examples=200"""


def test_examples_are_the_passing_ones_of_every_phase() -> None:
    assert security_cases.examples(STATISTICS) == 200
    assert security_cases.examples(None) == 0


def test_a_category_with_a_failure_fails_and_one_never_run_says_so() -> None:
    assert security_cases.Row("x", tests=3, cases=3, passed=2, failed=1).result == "FAIL"
    assert security_cases.Row("x").result == "not run"
    assert security_cases.Row("x", tests=2, cases=2, passed=1, xfailed=1).result == (
        "pass (1 known failures)"
    )
