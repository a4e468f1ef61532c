"""The design rules that keep the core portable, checked by walking the imports with `ast`."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "bots"
CHAT_SDKS = {"discord", "slack_bolt", "slack_sdk", "aiohttp", "fastapi", "starlette", "flask"}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module)
    return roots


def forbidden_imports(path: Path) -> list[str]:
    return sorted(name for name in imported_roots(path) if name.split(".")[0] in CHAT_SDKS)


def core_modules() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if "adapters" not in p.parts and p.name != "cli.py"]


def test_there_are_core_modules_to_check() -> None:
    names = {p.name for p in core_modules()}
    assert {"engine.py", "models.py", "llm.py", "prompt.py"} <= names


def test_core_never_imports_a_chat_sdk_or_web_framework() -> None:
    offenders = {str(path.relative_to(PACKAGE)): forbidden_imports(path) for path in core_modules()}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_adapters_package_imports_nothing() -> None:
    assert imported_roots(PACKAGE / "adapters" / "__init__.py") == set()


def test_adapters_do_not_import_each_other() -> None:
    adapters = {p.stem for p in (PACKAGE / "adapters").glob("*.py") if p.stem != "__init__"}
    for name in adapters:
        # One adapter may span modules sharing its prefix (slack, slack_format, slack_api...).
        family = name.split("_")[0]
        others = {f"bots.adapters.{o}" for o in adapters if o.split("_")[0] != family}
        imports = imported_roots(PACKAGE / "adapters" / f"{name}.py")
        assert not imports & others, name


def test_checker_catches_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "leaky.py"
    module.write_text(
        "import json\nfrom slack_sdk.web import WebClient\nimport discord.ext\n", encoding="utf-8"
    )
    assert forbidden_imports(module) == ["discord.ext", "slack_sdk.web"]


def test_no_module_reads_the_environment_except_the_edge() -> None:
    readers = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if "os.environ" in p.read_text(encoding="utf-8") or "getenv(" in p.read_text("utf-8")
    ]
    assert readers == ["cli.py"]


def test_every_module_opens_with_a_docstring() -> None:
    missing = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if ast.get_docstring(ast.parse(p.read_text(encoding="utf-8"))) is None
    ]
    assert missing == []
