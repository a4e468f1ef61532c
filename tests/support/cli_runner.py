"""Running the real `bots` command line from tests: a clean environment, one subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence

from tests.support.paths import REPO_ROOT

ROOT = REPO_ROOT


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without the bot's own settings, plus `extra`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENAI_", "BOTS_", "SLACK_", "DISCORD_"))
    }
    env.update(extra)
    return env


def run_bots(
    args: Sequence[str],
    env: Mapping[str, str] | None = None,
    *,
    stdin: str = "",
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """`python -m bots ARGS` in the project folder; never raises on a non-zero exit."""
    return subprocess.run(
        [sys.executable, "-m", "bots", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=dict(env) if env is not None else clean_env(),
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )
