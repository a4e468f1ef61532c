"""The design rules of docs/architecture.md, checked by walking the imports with `ast`.

The parts and what each may import are read from the table in docs/architecture.md, so the
page and this test share one list.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.support.paths import REPO_ROOT

PACKAGE = REPO_ROOT / "bots"
ARCHITECTURE = REPO_ROOT / "docs" / "architecture.md"
CHAT_SDKS = {
    "discord",
    "slack_bolt",
    "slack_sdk",
    "aiohttp",
    "fastapi",
    "starlette",
    "flask",
    "jinja2",
    "uvicorn",
}
# The studio serves its own pages: its web stack, and only that, is allowed there.
STUDIO_WEB_STACK = {"starlette", "jinja2", "uvicorn"}
MAX_TOP_LEVEL_MODULES = 15


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module)
            # `from bots import text` imports the module bots.text
            roots.update(f"{node.module}.{alias.name}" for alias in node.names)
    return roots


def forbidden_imports(path: Path) -> list[str]:
    return sorted(name for name in imported_modules(path) if name.split(".")[0] in CHAT_SDKS)


def part_of(module: str) -> str | None:
    """The part (table row) a dotted `bots.…` module belongs to; None outside the package."""
    pieces = module.split(".")
    if pieces[0] != "bots" or len(pieces) == 1:
        return None
    if (PACKAGE / pieces[1]).is_dir():
        if (
            pieces[1] == "adapters"
            and len(pieces) > 2
            and (PACKAGE / "adapters" / pieces[2]).is_dir()
        ):
            return f"adapters.{pieces[2]}"
        return pieces[1]
    return pieces[1] if (PACKAGE / f"{pieces[1]}.py").exists() else None


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def parts_table() -> dict[str, set[str]]:
    """`part -> parts it may import`, from docs/architecture.md's table."""
    rows: dict[str, set[str]] = {}
    for line in ARCHITECTURE.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] in {"part", ""} or set(cells[0]) <= {"-"}:
            continue
        rows[cells[0]] = {name for name in re.split(r"[,\s]+", cells[2]) if name}
    return rows


def all_modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def core_modules() -> list[Path]:
    return [
        p for p in all_modules() if p.relative_to(PACKAGE).parts[0] not in {"adapters", "studio"}
    ]


def studio_modules() -> list[Path]:
    return sorted((PACKAGE / "studio").rglob("*.py"))


def test_the_table_names_every_part_and_only_real_ones() -> None:
    table = parts_table()
    found = {part_of(module_name(p)) for p in all_modules()} - {None, "__init__", "__main__"}
    assert found == set(table)
    for allowed in table.values():
        assert allowed <= set(table)


def test_every_import_between_parts_is_allowed_by_the_table() -> None:
    table = parts_table()
    breaches = []
    for path in all_modules():
        source = part_of(module_name(path))
        if source in {None, "__init__", "__main__"}:
            continue
        for module in imported_modules(path):
            target = part_of(module)
            if target not in {None, source} and target not in table[source]:
                breaches.append(f"{path.relative_to(PACKAGE)} imports {module} ({target})")
    assert breaches == []


def test_the_parts_form_no_cycle() -> None:
    table = parts_table()
    done: set[str] = set()

    def visit(part: str, trail: tuple[str, ...]) -> None:
        assert part not in trail, " -> ".join((*trail, part))
        if part not in done:
            for target in table[part]:
                visit(target, (*trail, part))
            done.add(part)

    for part in table:
        visit(part, ())


def test_the_checker_sees_a_forbidden_import_between_parts() -> None:
    table = parts_table()
    assert "turn" not in table["knowledge"]
    assert part_of("bots.turn.engine") == "turn"
    assert part_of("bots.adapters.slack.adapter") == "adapters.slack"
    assert part_of("bots.text") == "text"


def test_top_level_keeps_to_the_shared_base() -> None:
    modules = [p.name for p in PACKAGE.glob("*.py")]
    assert len(modules) <= MAX_TOP_LEVEL_MODULES, sorted(modules)


def test_every_package_says_what_it_owns() -> None:
    for init in PACKAGE.rglob("__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc, init


def test_there_are_core_modules_to_check() -> None:
    names = {str(p.relative_to(PACKAGE)) for p in core_modules()}
    assert {"turn/engine.py", "models.py", "llm/client.py", "turn/prompt.py"} <= names


def test_core_never_imports_a_chat_sdk_or_web_framework() -> None:
    offenders = {str(path.relative_to(PACKAGE)): forbidden_imports(path) for path in core_modules()}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_only_the_studio_imports_its_web_stack_and_no_chat_sdk() -> None:
    assert studio_modules()
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(
            name for name in forbidden_imports(path) if name.split(".")[0] not in STUDIO_WEB_STACK
        )
        for path in studio_modules()
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_studio_exception_is_narrow(tmp_path: Path) -> None:
    module = tmp_path / "leaky.py"
    module.write_text("import starlette\nimport jinja2\n", encoding="utf-8")
    assert forbidden_imports(module) == ["jinja2", "starlette"]  # still refused in the core


def test_adapters_package_imports_nothing() -> None:
    assert imported_modules(PACKAGE / "adapters" / "__init__.py") == set()


@pytest.mark.parametrize(("platform", "other"), [("slack", "discord"), ("discord", "slack")])
def test_adapters_do_not_import_each_other(platform: str, other: str) -> None:
    for path in (PACKAGE / "adapters" / platform).rglob("*.py"):
        imports = imported_modules(path)
        assert not {m for m in imports if m.startswith(f"bots.adapters.{other}")}, path
        assert "bots.adapters.console" not in imports, path


def test_checker_catches_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "leaky.py"
    module.write_text(
        "import json\nfrom slack_sdk.web import WebClient\nimport discord.ext\n", encoding="utf-8"
    )
    assert forbidden_imports(module) == ["discord.ext", "slack_sdk.web", "slack_sdk.web.WebClient"]


def test_no_module_reads_the_environment_except_the_edge() -> None:
    readers = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if "os.environ" in p.read_text(encoding="utf-8") or "getenv(" in p.read_text("utf-8")
    ]
    assert readers == ["app/cli.py"]


def test_every_module_opens_with_a_docstring() -> None:
    missing = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if ast.get_docstring(ast.parse(p.read_text(encoding="utf-8"))) is None
    ]
    assert missing == []
