"""`responder check` with each login mode: success says how it logged in, a failure is one
precise line; what the server lacks is said with what the service will do instead."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from oauthkit import PROJECT_ROOT, SUPPORT, oauth_env

from responder.devstack.demo import environment_for

pytestmark = pytest.mark.stack


def _check(stack: Any, tmp_path: Path, **overrides: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESPONDER_")}
    env |= environment_for(stack, tmp_path / "state") | {"PYTHONPATH": str(PROJECT_ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "responder", "check"],
        env=env | overrides,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in result.stdout + result.stderr
    return result


def _lines(result: subprocess.CompletedProcess[str], start: str) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith(start)]


@pytest.mark.parametrize(("imap", "smtp"), [("xoauth2", "xoauth2"), ("oauthbearer", "oauthbearer")])
def test_check_reports_the_oauth_login(
    oauth_stack: Any, fake_idp: Any, tmp_path: Path, imap: str, smtp: str
) -> None:
    result = _check(oauth_stack, tmp_path, **oauth_env(fake_idp, tmp_path, imap, smtp=smtp))
    assert result.returncode == 0, result.stdout + result.stderr
    (imap_line,) = [line for line in _lines(result, "ok   IMAP")]
    (smtp_line,) = [line for line in _lines(result, "ok   SMTP")]
    assert f"as {SUPPORT} ({imap.upper()}, token from token_command " in imap_line
    assert "valid 59 min" in imap_line or "valid 60 min" in imap_line
    assert f"as {SUPPORT} ({smtp.upper()}, token from token_command " in smtp_line
    assert "ok   copies of acknowledgments go to Sent" in result.stdout


def test_check_reports_password_login(oauth_stack: Any, tmp_path: Path) -> None:
    result = _check(oauth_stack, tmp_path)
    assert result.returncode == 0, result.stdout
    assert f"as {SUPPORT} (password):" in _lines(result, "ok   IMAP")[0]


def test_non_ascii_password_logs_in_to_imap_and_smtp(make_oauth_stack: Any, tmp_path: Path) -> None:
    """IMAP LOGIN and smtplib's AUTH carry ASCII only; UTF-8 credentials go through SASL PLAIN
    (this stack's Postfix authenticates through Dovecot, so both protocols are exercised)."""
    password = "Grüße-ñandú-€42"
    stack = make_oauth_stack(password=password)
    smtp = {"RESPONDER_SMTP_USERNAME": SUPPORT, "RESPONDER_SMTP_PASSWORD": password}
    result = _check(stack, tmp_path, **smtp)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"as {SUPPORT} (password):" in _lines(result, "ok   IMAP")[0]
    assert f"as {SUPPORT} (password)" in _lines(result, "ok   SMTP")[0]
    wrong = _check(stack, tmp_path, **smtp | {"RESPONDER_SMTP_PASSWORD": "Grüße-falsch"})
    assert wrong.returncode == 1
    (failure,) = _lines(wrong, "FAIL")
    assert "SMTP" in failure and "login failed" in failure


def test_server_without_the_mechanism(mailstack: Any, fake_idp: Any, tmp_path: Path) -> None:
    result = _check(mailstack, tmp_path, **oauth_env(fake_idp, tmp_path, "xoauth2"))
    assert result.returncode == 1
    imap_fail, smtp_fail = _lines(result, "FAIL")
    assert imap_fail == (
        f"FAIL IMAP 127.0.0.1:{mailstack.imap_port}: server does not offer AUTH=XOAUTH2 "
        "(offers: PLAIN, LOGIN)"
    )
    assert smtp_fail == (
        f"FAIL SMTP 127.0.0.1:{mailstack.smtp_port}: server does not offer AUTH XOAUTH2 (offers: none)"
    )


def test_refused_token_and_revoked_grant(oauth_stack: Any, fake_idp: Any, tmp_path: Path) -> None:
    env = oauth_env(fake_idp, tmp_path, "xoauth2")
    env["RESPONDER_IMAP_TOKEN_COMMAND"] = "echo not-a-token-the-server-knows"
    fake_idp.revoke(SUPPORT)  # and the SMTP client's grant is revoked
    result = _check(oauth_stack, tmp_path, **env)
    assert result.returncode == 1
    imap_fail, smtp_fail = _lines(result, "FAIL")
    assert imap_fail == (
        f"FAIL needs re-authorization: IMAP server refused a fresh token for {SUPPORT} "
        f"(IMAP 127.0.0.1:{oauth_stack.imap_port}: [AUTHENTICATIONFAILED] Authentication failed.); "
        "renew the grant behind imap.token_command, then run `responder check`"
    )
    assert smtp_fail == (
        "FAIL needs re-authorization: smtp.token_command failed: invalid_grant: AADSTS70000: "
        "The grant is expired or revoked.; renew the grant behind smtp.token_command, "
        "then run `responder check`"
    )
    assert "not-a-token" not in result.stdout + result.stderr


def test_missing_token_program(oauth_stack: Any, fake_idp: Any, tmp_path: Path) -> None:
    env = oauth_env(fake_idp, tmp_path, "xoauth2")
    env["RESPONDER_IMAP_TOKEN_COMMAND"] = "/nonexistent/get-token --user 'support desk'"
    result = _check(oauth_stack, tmp_path, **env)
    assert _lines(result, "FAIL")[0].startswith(
        "FAIL needs re-authorization: imap.token_command: /nonexistent/get-token not found"
    )


def test_server_without_keywords_is_reported(make_oauth_stack: Any, tmp_path: Path) -> None:
    stack = make_oauth_stack(keywords=False)
    result = _check(stack, tmp_path)
    assert result.returncode == 0, result.stdout
    notes = _lines(result, "note IMAP")
    assert "note IMAP no custom keywords (PERMANENTFLAGS lacks \\*): filing without tags" in notes
    assert "note IMAP \\Flagged not kept: priority is shown by the queue folder only" in notes
