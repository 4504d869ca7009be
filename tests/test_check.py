"""`responder check` against the real stack: each problem is one clear line and a non-zero exit."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from responder.devstack.demo import environment_for
from responder.devstack.mailstack import MailStack

pytestmark = pytest.mark.stack


def _check(stack: MailStack, tmp_path: Path, **overrides: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESPONDER_")}
    env |= environment_for(stack, tmp_path / "state") | overrides
    return subprocess.run(
        [sys.executable, "-m", "responder", "check"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_check_passes_against_the_stack(mailstack: MailStack, tmp_path: Path) -> None:
    result = _check(mailstack, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        "IDLE=yes" in result.stdout
        and "MOVE=yes" in result.stdout
        and "SPECIAL-USE=yes" in result.stdout
    )
    assert "FAIL" not in result.stdout


def test_wrong_password_is_one_clear_line(mailstack: MailStack, tmp_path: Path) -> None:
    result = _check(mailstack, tmp_path, RESPONDER_IMAP_PASSWORD="wrong")
    assert result.returncode == 1
    failures = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert len(failures) == 1
    assert "login failed" in failures[0] and f"127.0.0.1:{mailstack.imap_port}" in failures[0]
    assert "Traceback" not in result.stdout + result.stderr


def test_unreachable_hosts_are_one_clear_line_each(mailstack: MailStack, tmp_path: Path) -> None:
    imap_port, smtp_port = _closed_port(), _closed_port()
    result = _check(
        mailstack,
        tmp_path,
        RESPONDER_IMAP_PORT=str(imap_port),
        RESPONDER_SMTP_PORT=str(smtp_port),
        RESPONDER_IMAP_TIMEOUT="3",
    )
    assert result.returncode == 1
    failures = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert len(failures) == 2, result.stdout
    assert f"IMAP 127.0.0.1:{imap_port}" in failures[0] and "refused" in failures[0]
    assert f"SMTP 127.0.0.1:{smtp_port}" in failures[1] and "refused" in failures[1]
    assert "Traceback" not in result.stdout + result.stderr


def test_imaps_with_certificate_verification(mailstack: MailStack, tmp_path: Path) -> None:
    trusted = _check(
        mailstack,
        tmp_path,
        RESPONDER_IMAP_PORT=str(mailstack.imaps_port),
        RESPONDER_IMAP_SECURITY="tls",
        RESPONDER_IMAP_CA_FILE=str(mailstack.cafile),
    )
    assert trusted.returncode == 0, trusted.stdout
    untrusted = _check(
        mailstack,
        tmp_path,
        RESPONDER_IMAP_PORT=str(mailstack.imaps_port),
        RESPONDER_IMAP_SECURITY="tls",
    )
    assert untrusted.returncode == 1
    assert "certificate not trusted" in untrusted.stdout


def test_bad_setting_is_one_line_naming_the_key(mailstack: MailStack, tmp_path: Path) -> None:
    result = _check(mailstack, tmp_path, RESPONDER_SMTP_SECURITY="ssl")
    assert result.returncode == 2
    assert result.stderr.strip() == "responder: smtp.security: must be one of tls, starttls, plain"


def _broken_templates(tmp_path: Path) -> Path:
    import shutil

    from responder.config import PROJECT_ROOT

    copy = tmp_path / "templates"
    shutil.copytree(PROJECT_ROOT / "templates", copy)
    ack = copy / "es" / "ack.txt.j2"
    ack.write_text(ack.read_text(encoding="utf-8") + "\n{% if %}\n", encoding="utf-8")
    return copy


def test_broken_template_blocks_check(mailstack: MailStack, tmp_path: Path) -> None:
    result = _check(mailstack, tmp_path, RESPONDER_REPLY_TEMPLATES=str(_broken_templates(tmp_path)))
    assert result.returncode == 1
    failures = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert failures and all("es/ack.txt.j2" in line for line in failures), result.stdout
    assert "syntax" in failures[0]


def test_broken_template_blocks_run(mailstack: MailStack, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESPONDER_")}
    env |= environment_for(mailstack, tmp_path / "state")
    env["RESPONDER_REPLY_TEMPLATES"] = str(_broken_templates(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "responder", "run", "--once"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "templates fail lint" in result.stderr and "es/ack.txt.j2" in result.stderr
    assert "Traceback" not in result.stderr
