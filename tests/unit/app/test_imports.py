"""The app's modules form no import circle, and each one imports on its own."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.support.paths import REPO_ROOT

APP = REPO_ROOT / "bots" / "app"


def app_imports(path: Path) -> set[str]:
    """The app modules `path` imports anywhere, also inside functions (a late import still
    makes a circle: it only hides it until the function runs)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    modules = {f"bots.app.{p.stem}" for p in APP.glob("*.py") if p.stem != "__init__"}
    return found & modules


def app_modules() -> list[str]:
    return sorted(f"bots.app.{p.stem}" for p in APP.glob("*.py") if p.stem != "__init__")


def test_the_app_modules_import_each_other_without_a_circle() -> None:
    graph = {name: app_imports(APP / f"{name.rsplit('.', 1)[1]}.py") for name in app_modules()}
    done: set[str] = set()

    def visit(module: str, trail: tuple[str, ...]) -> None:
        assert module not in trail, " -> ".join((*trail, module))
        if module not in done:
            for target in sorted(graph[module]):
                visit(target, (*trail, module))
            done.add(module)

    for module in graph:
        visit(module, ())
    assert "bots.app.wiring" in graph["bots.app.cli"]


def test_the_circle_check_sees_a_late_import(tmp_path: Path) -> None:
    module = tmp_path / "late.py"
    module.write_text("def run() -> None:\n    from bots.app.cli import main\n")
    assert app_imports(module) == {"bots.app.cli"}


def test_each_app_module_imports_on_its_own() -> None:
    # One fresh interpreter; before each module, every `bots` module is forgotten, so each
    # import starts from nothing, as `python -c "import bots.app.X"` would.
    script = (
        "import importlib, sys\n"
        f"for name in {app_modules()!r}:\n"
        "    for loaded in [m for m in sys.modules if m == 'bots' or m.startswith('bots.')]:\n"
        "        del sys.modules[loaded]\n"
        "    importlib.import_module(name)\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
