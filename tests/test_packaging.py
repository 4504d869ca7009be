"""`pip install` alone gives a working service: the wheel carries templates, routing rules and
lint phrase lists, and `responder init` writes a starter configuration from them.

The wheel test builds the wheel, installs it into a fresh virtual environment outside the
checkout and runs `responder init`, `responder check` (against the test stack) and
`responder inspect` from a directory that has nothing of the source tree. To stay fast
and offline, the fresh venv borrows the *dependencies* (jinja2, lingua, …) from the
running environment through a .pth line; `responder` itself can only come from the wheel
(.pth files in a borrowed directory are not processed, so an editable install of the
checkout there stays invisible), and the test checks that it does.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from responder import config
from responder.cli import main
from responder.devstack.demo import environment_for
from responder.devstack.mailstack import MailStack

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "guard" / "answer_plain_thunderbird.eml"


def test_init_writes_an_editable_starter_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "etc" / "responder"
    assert main(["init", str(target)]) == 0
    assert "responder.env" in capsys.readouterr().out
    env = target / "responder.env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert "RESPONDER_IMAP_PASSWORD=change-me" in env.read_text()
    loaded = config.load(target / "responder.toml", environ={})
    assert loaded.reply.templates == str(target / "templates")
    assert loaded.routing.rules == str(target / "routing.toml")
    assert (target / "templates" / "es" / "ack.txt.j2").is_file()
    text = (target / "responder.toml").read_text()
    assert "# Signs the acknowledgment" in text  # the documented example, comments and all
    assert main(["init", str(target)]) != 0  # never overwrites an admin's edits
    assert "already exists" in capsys.readouterr().err


def test_defaults_are_read_from_the_package() -> None:
    from responder.config.defaults import LINT_PHRASES, ROUTING_RULES, TEMPLATES

    assert (TEMPLATES / "en" / "ack.txt.j2").is_file()
    assert (LINT_PHRASES / "en.toml").is_file() and ROUTING_RULES.is_file()
    assert config.load(environ={}).reply.templates == str(TEMPLATES)


def _run(argv: list[str], cwd: Path, env: dict[str, str], timeout: float = 180) -> str:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{argv}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.stack
def test_wheel_installed_outside_the_checkout_works(mailstack: MailStack, tmp_path: Path) -> None:
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("RESPONDER_", "PYTHON"))}
    source = tmp_path / "source"  # a copy, so the build leaves nothing in the checkout
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "responder", "templates", "config"):
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, symlinks=True)
        else:
            shutil.copy2(REPO / name, source / name)
    wheels = tmp_path / "wheels"
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(source)],
        tmp_path,
        base_env,
    )
    wheel = next(wheels.glob("responder-*.whl"))
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path, base_env)
    python = venv / "bin" / "python"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            str(wheel),
        ],
        tmp_path,
        base_env,
    )
    site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            tmp_path,
            base_env,
        ).strip()
    )
    borrowed = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (site / "borrowed_dependencies.pth").write_text("\n".join(sorted(borrowed)) + "\n")

    work = tmp_path / "elsewhere"
    work.mkdir()
    where = _run(
        [
            str(python),
            "-c",
            "import responder.config as c; print(c.__file__, c.load(environ={}).reply.templates)",
        ],
        work,
        base_env,
    )
    assert where.startswith(str(venv)), where  # the wheel's code and the wheel's templates
    assert where.split()[1].startswith(str(venv)), where

    responder = str(venv / "bin" / "responder")
    etc = tmp_path / "etc"
    _run([responder, "init", str(etc)], work, base_env)
    checked = _run(
        [responder, "check"],
        work,
        base_env
        | environment_for(mailstack, tmp_path / "state")
        | {"RESPONDER_CONFIG": str(etc / "responder.toml")},
    )
    assert f"ok   templates ({etc / 'templates'}" in checked, checked
    assert "ok   IMAP" in checked and "ok   SMTP" in checked, checked

    eml = work / "mail.eml"
    shutil.copyfile(FIXTURE, eml)
    decision = json.loads(_run([responder, "inspect", "--json", str(eml)], work, base_env))
    assert decision["auto_reply"] is True and decision["reply"]["subject"], decision
