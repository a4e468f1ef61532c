"""The Procfile: every process type is a command the bot understands; honcho runs `release`."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from honcho.environ import parse_procfile

from bots.app.cli import _parser
from tests.support.cli_runner import clean_env
from tests.support.paths import REPO_ROOT

ROOT = REPO_ROOT


def test_each_process_type_is_a_valid_bots_command() -> None:
    procfile = parse_procfile((ROOT / "Procfile").read_text())
    assert set(procfile.processes) >= {"release", "web", "slack"}
    for name, command in procfile.processes.items():
        argv = shlex.split(command.replace("$PORT", "5000"))
        assert argv[0] == "bots", name
        _parser().parse_args(argv[1:])  # exits (fails the test) on an unknown option
    assert procfile.processes["release"] == "bots db upgrade"
    assert "--http" in procfile.processes["web"]
    assert "--http" not in procfile.processes["slack"]  # Socket Mode


def test_honcho_runs_the_release_step(tmp_path: Path) -> None:
    env = clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'release.sqlite3'}")
    # `bots` lives beside this interpreter (the virtual environment), active or not.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    result = subprocess.run(
        [sys.executable, "-m", "honcho", "-f", str(ROOT / "Procfile"), "start", "release"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "database is at schema version" in result.stdout
    assert (tmp_path / "release.sqlite3").exists()
