"""The project's habits, checked: a reason beside every lint exception, one version in the
package, pyproject.toml and the changelog, and pre-commit hooks that run scripts/check."""

from __future__ import annotations

import re
import tomllib

import yaml

import bots
from tests.support.paths import REPO_ROOT

CODE_FOLDERS = ("bots", "tests", "benchmarks")
_NOQA = re.compile(r"#\s*noqa(?::\s*[A-Z]+\d+(?:\s*,\s*[A-Z]+\d+)*)?(?P<reason>.*)$")


def test_every_noqa_says_why() -> None:
    bare = []
    for folder in CODE_FOLDERS:
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                match = _NOQA.search(line)
                if match and len(match.group("reason").strip(" -—()")) < 8:
                    bare.append(f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}")
    assert bare == []


def test_the_noqa_check_sees_a_bare_one() -> None:
    match = _NOQA.search("import x  # " + "noqa: F401")  # split, or this file would fail
    assert match is not None
    assert match.group("reason") == ""
    reasoned = _NOQA.search("import x  # noqa: E402 - after sys.path gains the checkout")
    assert reasoned is not None
    assert "sys.path" in reasoned.group("reason")


def test_every_ignored_ruff_rule_has_a_comment_saying_why() -> None:
    text = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    ignored = tomllib.loads(text)["tool"]["ruff"]["lint"].get("ignore", [])
    block = text[text.index("[tool.ruff.lint]") :]
    block = block[block.index("ignore = [") : block.index("]", block.index("ignore = [")) + 1]
    lines = block.splitlines()
    for rule in ignored:
        (at,) = [n for n, line in enumerate(lines) if f'"{rule}"' in line]
        beside = "#" in lines[at] or lines[at - 1].strip().startswith("#")
        assert beside, f"{rule} is ignored without a reason in pyproject.toml"


def test_one_version_in_the_package_pyproject_and_the_changelog() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    releases = re.findall(
        r"(?m)^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$",
        (REPO_ROOT / "CHANGELOG.md").read_text(encoding="utf-8"),
    )
    assert releases[0] == ("Unreleased", "")  # where new entries go (Keep a Changelog)
    newest, date = releases[1]
    assert project["project"]["version"] == bots.__version__ == newest
    assert date


def test_the_pre_commit_hooks_run_what_scripts_check_runs() -> None:
    config = yaml.safe_load((REPO_ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    entries = {hook["entry"] for hook in hooks}
    script = (REPO_ROOT / "scripts" / "check").read_text(encoding="utf-8")
    for command in re.findall(r'echo "== [^"]*"; (.+)$', script, re.MULTILINE):
        program = command.split()[0]
        if program == "pytest":
            (fast,) = [hook for hook in hooks if hook["entry"].startswith("pytest")]
            assert fast["entry"] == 'pytest -m "not slow"'
            assert "pre-push" in fast["stages"]
        else:
            assert command in entries, command
    assert all(hook["language"] == "system" for hook in hooks)
