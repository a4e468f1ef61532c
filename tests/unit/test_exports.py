"""Each package exports its public names (`__all__`) lazily: importing it loads none of its
modules, and every exported name resolves to the object its module defines."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from tests.support.paths import REPO_ROOT

PACKAGE = REPO_ROOT / "bots"
STUBS = sorted(PACKAGE.rglob("__init__.pyi"))


def exported(stub_path: str) -> dict[str, str]:
    """name -> module, from a package's `__init__.pyi` (`from .module import name as name`)."""
    names: dict[str, str] = {}
    for node in ast.parse((REPO_ROOT / stub_path).read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom):
            assert node.level == 1
            assert node.module is not None
            for alias in node.names:
                assert alias.asname == alias.name  # explicit re-export, for mypy --strict
                names[alias.name] = node.module
    return names


def package_of(stub_path: str) -> str:
    return ".".join(("bots", *stub_path.split("/")[1:-1]))


def test_the_parts_that_own_names_export_them() -> None:
    packages = {package_of(str(stub.relative_to(REPO_ROOT))) for stub in STUBS}
    assert {"bots.knowledge", "bots.retrieval", "bots.llm", "bots.turn", "bots.app"} <= packages
    # bots/adapters/__init__.py imports nothing at all (docs/architecture.md, rule 2).
    assert not (PACKAGE / "adapters" / "__init__.pyi").exists()


@pytest.mark.parametrize(
    "stub_path", [str(stub.relative_to(REPO_ROOT)) for stub in STUBS], ids=package_of
)
def test_a_package_imports_cheaply_and_each_export_resolves(stub_path: str) -> None:
    package, names = package_of(stub_path), exported(stub_path)
    script = f"""
import importlib, sys
package = importlib.import_module({package!r})
early = sorted(m for m in sys.modules if m.startswith({package + "."!r}))
assert early == [], early
assert sorted(package.__all__) == sorted({sorted(names)!r}), package.__all__
for name, module in {names!r}.items():
    value = getattr(package, name)
    assert value is getattr(importlib.import_module({package!r} + "." + module), name), name
print("ok")
"""
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
