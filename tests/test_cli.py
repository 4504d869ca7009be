"""`responder inspect` and `preview` as an admin runs them: JSON, several files, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CUSTOMER = (
    b"From: Ana <ana@example.com>\r\nTo: support@example.test\r\nSubject: Invoice wrong\r\n"
    b"Message-ID: <cli-1@example.com>\r\n\r\nHello, my invoice shows the wrong amount.\r\n"
)
BOUNCE = (
    b"From: MAILER-DAEMON@example.net\r\nTo: support@example.test\r\nSubject: Undelivered\r\n"
    b"Auto-Submitted: auto-replied\r\n\r\nDelivery failed.\r\n"
)


def _responder(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "responder", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )


def test_inspect_json_fields(tmp_path: Path) -> None:
    (tmp_path / "a.eml").write_bytes(CUSTOMER)
    result = _responder("inspect", "a.eml", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"auto_reply", "reason", "queue", "priority", "language", "reply"} <= set(data)
    assert data["auto_reply"] is True and data["reason"] is None and data["language"] == "en"
    assert data["reply"]["to"] == "ana@example.com"
    assert data["reply"]["headers"]["In-Reply-To"] == "<cli-1@example.com>"
    assert set(data["reply"]) == {"to", "subject", "headers", "body"}


def test_inspect_several_files_one_json_object_per_line(tmp_path: Path) -> None:
    (tmp_path / "a.eml").write_bytes(CUSTOMER)
    (tmp_path / "b.eml").write_bytes(BOUNCE)
    result = _responder("inspect", "a.eml", "b.eml", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(d["file"], d["auto_reply"], d["reason"]) for d in lines] == [
        ("a.eml", True, None),
        ("b.eml", False, "auto-submitted"),
    ]
    assert lines[1]["reply"] is None


def test_inspect_unreadable_file_is_one_line_and_nonzero(tmp_path: Path) -> None:
    result = _responder("inspect", "missing.eml", "--json", cwd=tmp_path)
    assert result.returncode != 0
    assert result.stderr.strip() == "responder: cannot read missing.eml: No such file or directory"
    assert result.stdout == ""


def test_inspect_directory_instead_of_file(tmp_path: Path) -> None:
    result = _responder("inspect", ".", cwd=tmp_path)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_preview_shows_what_the_customer_reads(tmp_path: Path) -> None:
    (tmp_path / "a.eml").write_bytes(CUSTOMER)
    result = _responder("preview", "a.eml", "--lang", "es", "--queue", "billing", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "To: Ana <ana@example.com>" in result.stdout
    assert "Subject: Re: Invoice wrong" in result.stdout
    assert "Content-Language: es" in result.stdout


def test_preview_of_a_refused_message_says_why(tmp_path: Path) -> None:
    (tmp_path / "b.eml").write_bytes(BOUNCE)
    result = _responder("preview", "b.eml", cwd=tmp_path)
    assert result.returncode == 0
    assert "no acknowledgment would be sent: auto-submitted" in result.stdout
