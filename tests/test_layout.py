"""The tree shows the architecture: imports only point one way, and modules stay small.

Reads every module's imports with `ast` (function-level imports too: a lazy import is
still a dependency) and checks them against the layer order written in
`responder/__init__.py`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "responder"

# What each part may import from `responder`, besides itself.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "config": {"errors"},
    "pipeline": {"errors", "config"},
    "lint": {"errors", "config", "pipeline"},
    "service": {"errors", "config", "pipeline", "lint"},
    "commands": {"errors", "config", "pipeline", "lint", "service"},
    "devstack": {"errors", "config", "pipeline", "lint", "service", "commands"},
    "cli": {"errors", "config", "pipeline", "lint", "service", "commands", "devstack"},
    "__main__": {"cli"},
    "__init__": set(),
}
SUBPACKAGES = ("pipeline", "lint", "service", "commands", "devstack")
MAX_LINES = 350


def _part(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def _imported_parts(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parts: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "responder":
                names = [f"responder.{alias.name}" for alias in node.names]
            else:
                names = [node.module]
        for name in names:
            if name.startswith("responder."):
                parts.add(name.split(".")[1])
    return parts


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_one_way(path: Path) -> None:
    part = _part(path)
    assert part in ALLOWED, f"{path}: a new top-level part; add it to ALLOWED and the docs"
    forbidden = _imported_parts(path) - ALLOWED[part] - {part}
    assert not forbidden, f"{path.relative_to(PACKAGE)} ({part}) imports {sorted(forbidden)}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_small(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(PACKAGE)} has {lines} lines"


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_each_subpackage_says_what_belongs_there(name: str) -> None:
    init = PACKAGE / name / "__init__.py"
    doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
    assert doc and "import" in doc, f"{init} needs a docstring naming what it may import"


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("def f():\n    from responder.service.ledger import Ledger\n")
    assert _imported_parts(module) == {"service"}
