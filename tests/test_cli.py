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


def test_inspect_with_state_reports_a_follow_up(tmp_path: Path) -> None:
    from responder.service.ledger import Ledger, NewMessage

    ledger = Ledger.in_state_dir(tmp_path / "state")
    with ledger.transaction():
        ledger.record(
            NewMessage(
                key="<cli-1@example.com>",
                uidvalidity=1,
                uid=1,
                decision="reply",
                reason=None,
                queue="billing",
                priority=False,
                language="en",
                reference="ABCDEFGH",
                conversation="ABCDEFGH",
                sender="ana@example.com",
                subject_norm="invoice wrong",
                folder="Queues/billing",
                thread_ids=("<cli-1@example.com>",),
                ack_message_id="<ack-1@example.test>",
                ack_to="ana@example.com",
                ack_bytes=b"x",
            )
        )
    ledger.close()
    reply = CUSTOMER.replace(b"Message-ID: <cli-1@example.com>", b"Message-ID: <cli-2@example.com>")
    reply = reply.replace(
        b"Subject: Invoice wrong",
        b"Subject: AW: Invoice wrong\r\nIn-Reply-To: <ack-1@example.test>",
    )
    (tmp_path / "reply.eml").write_bytes(reply)
    result = _responder("inspect", "reply.eml", "--json", "--state", "state", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["auto_reply"], data["reason"], data["queue"]) == (False, "follow-up", "billing")
    assert data["reference"] == "ABCDEFGH"
    without_state = json.loads(_responder("inspect", "reply.eml", "--json", cwd=tmp_path).stdout)
    assert without_state["auto_reply"] is True


def test_inspect_with_missing_state_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "a.eml").write_bytes(CUSTOMER)
    result = _responder("inspect", "a.eml", "--state", "nowhere", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "responder: no ledger in nowhere (expected ledger.sqlite3)"
