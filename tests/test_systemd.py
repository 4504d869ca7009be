"""The systemd units: accepted by systemd-analyze, and hardened (exposure score ≤ 2.5)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import require

UNITS = Path(__file__).resolve().parent.parent / "systemd"


@pytest.fixture(scope="module")
def analyze() -> str:
    return require(shutil.which("systemd-analyze"), "systemd-analyze (Debian package systemd)")


def _installed(tmp_path: Path, name: str) -> Path:
    """The unit as installed: ExecStart pointing at this environment's `responder`."""
    executable = shutil.which("responder")
    assert executable, "the responder console script is not installed (pip install -e .)"
    text = (
        (UNITS / name).read_text(encoding="utf-8").replace("/usr/local/bin/responder", executable)
    )
    target = tmp_path / name
    target.write_text(text, encoding="utf-8")
    return target


@pytest.mark.parametrize("name", ["responder.service", "responder@.service"])
def test_units_verify(analyze: str, tmp_path: Path, name: str) -> None:
    unit = _installed(tmp_path, name)
    if "@" in name:  # a template is verified through an instance of it
        unit = unit.with_name("responder@mailbox.service")
        unit.write_text((tmp_path / name).read_text(encoding="utf-8"), encoding="utf-8")
    result = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "responder" not in result.stderr, result.stderr  # no warnings about our unit


def test_security_exposure_is_at_most_2_5(analyze: str, tmp_path: Path) -> None:
    unit = _installed(tmp_path, "responder.service")
    result = subprocess.run(
        [analyze, "security", "--offline=yes", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert found, result.stdout + result.stderr
    print(f"\nsystemd-analyze security: {found.group(1)}")
    assert float(found.group(1)) <= 2.5


def test_units_are_type_notify_with_watchdog_and_hardening() -> None:
    for name in ("responder.service", "responder@.service"):
        text = (UNITS / name).read_text(encoding="utf-8")
        for directive in (
            "Type=notify",
            "WatchdogSec=",
            "Restart=on-failure",
            "EnvironmentFile=",
            "StateDirectory=responder",
            "DynamicUser=yes",
            "ProtectSystem=strict",
            "NoNewPrivileges=yes",
            "PrivateTmp=yes",
            "ProtectHome=yes",
            "RestrictAddressFamilies=",
        ):
            assert directive in text, (name, directive)
