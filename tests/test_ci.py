"""The README's two commands are what CI runs, and neither touches the system Python.

The real proof is .ci/run on a bare Debian 12 (Debian's python3 first on PATH, PEP 668);
these checks keep the pieces from drifting apart in the meantime.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _text(name: str) -> str:
    return (REPO / name).read_text(encoding="utf-8")


def test_ci_runs_exactly_the_readme_commands_without_help() -> None:
    readme_commands = re.findall(
        r"^(make \w+)\s", _text("README.md").split("## Two commands")[1].split("##")[0], re.M
    )
    assert readme_commands == ["make demo", "make test"]
    run = _text(".ci/run")
    steps = [line.strip() for line in run.splitlines() if line.strip().startswith("make ")]
    assert steps == readme_commands
    assert "PIP_BREAK_SYSTEM_PACKAGES=" not in run and "break-system-packages" not in run


def test_make_uses_a_venv_never_the_system_python() -> None:
    makefile = _text("Makefile")
    commands = [line for line in makefile.splitlines() if not line.startswith("#")]
    assert not [line for line in commands if "break-system-packages" in line]
    assert "-m venv $(VENV)" in makefile
    pip_lines = [line for line in makefile.splitlines() if "pip install" in line]
    assert pip_lines and all("$(VPY) -m pip" in line for line in pip_lines)
    for target in ("test", "demo", "bench"):
        recipe = makefile.split(f"\n{target}: $(STAMP)\n", 1)[1].split("\n\n", 1)[0]
        assert recipe.strip().startswith("$(VPY)"), target


def test_recipes_see_the_venv_scripts_first() -> None:
    assert "export PATH := $(abspath $(VENV))/bin:$(PATH)" in _text("Makefile")


def test_system_packages_include_the_venv_module() -> None:
    assert re.search(r"\bpython3-venv\b", _text(".ci/install-system-packages"))
