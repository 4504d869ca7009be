"""`responder status [--json]` against a ledger with sent, refused, pending and quarantined mail."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from responder.cli import main
from responder.service import metrics
from responder.service.ledger import Ledger, NewMessage
from responder.service.monitor import write_heartbeat

NOW = time.time()


def _message(key: str, decision: str = "reply", **fields: object) -> NewMessage:
    values: dict[str, object] = {
        "key": key,
        "uidvalidity": 1,
        "uid": int(key.strip("<>m")),
        "decision": decision,
        "reason": None,
        "queue": "billing",
        "priority": False,
        "language": "en",
        "reference": f"REF{key.strip('<>')}",
        "conversation": None,
        "sender": "customer1@example.test",
        "subject_norm": "subject",
        "folder": "Queues/billing",
    }
    if decision in ("reply", "follow-up"):
        values |= {
            "ack_message_id": f"<ack{key}>",
            "ack_to": "customer1@example.test",
            "ack_bytes": b"x",
        }
    values.update(fields)
    return NewMessage(**values)  # type: ignore[arg-type]


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    state_dir = tmp_path / "state"
    ledger = Ledger.in_state_dir(state_dir)
    with ledger.transaction():
        ledger.record(_message("<m1>"), now=NOW - 600)  # acknowledged 10 min ago
        ledger.record(_message("<m2>", queue="orders"), now=NOW - 7200)  # acknowledged 2 h ago
        ledger.record(_message("<m3>", queue="orders"), now=NOW - 60)  # pending: SMTP down
        ledger.record(_message("<m4>", "refused", reason="delivery-report"), now=NOW - 300)
        ledger.record(_message("<m5>", "refused", reason="delivery-report"), now=NOW - 5000)
        ledger.record(_message("<m6>", "refused", reason="list-header"), now=NOW - 300)
        ledger.record(_message("<m7>", "capped", reason="sender-cap"), now=NOW - 100)
        ledger.record(_message("<m8>", "refused", reason="spam"), now=NOW - 3 * 86400)  # too old
        ledger.mark_ack_failed("<m3>", "SMTP 127.0.0.1:25: connect: Connection refused", NOW + 60)
    ledger.mark_sent(["<m1>"])
    ledger.mark_sent(["<m2>"])
    ledger.close()
    db = sqlite3.connect(state_dir / "ledger.sqlite3")
    db.execute("UPDATE messages SET acked_at = ? WHERE key = '<m2>'", (NOW - 7000,))
    db.commit()
    db.close()
    ledger = Ledger.in_state_dir(state_dir)
    for _ in range(3):  # quarantined: failed service.max_attempts (3) times
        ledger.note_failure(1, 41, "UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff")
    ledger.note_failure(1, 42, "TransientError: IMAP 127.0.0.1:143: fetch: EOF")  # will retry
    ledger.close()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RESPONDER_STATE_DIR", str(state_dir))
    monkeypatch.delenv("RESPONDER_CONFIG", raising=False)
    return state_dir


def test_status_json_reports_pending_quarantined_and_windows(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    metrics.imap_connected()
    write_heartbeat(state)
    before = (state / "ledger.sqlite3").stat().st_mtime_ns
    assert main(["status", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (state / "ledger.sqlite3").stat().st_mtime_ns == before  # read-only
    assert report["service"]["running"] is True
    assert report["service"]["imap_connected"] is True
    assert report["service"]["last_check_age_seconds"] < 60
    assert report["pending"]["count"] == 1
    pending = report["pending"]["messages"][0]
    assert pending["key"] == "<m3>" and pending["queue"] == "orders" and pending["attempts"] == 1
    assert "Connection refused" in pending["reason"]
    assert report["quarantined"]["count"] == 1
    assert report["quarantined"]["messages"][0]["uid"] == 41
    assert "UnicodeDecodeError" in report["quarantined"]["messages"][0]["reason"]
    assert [m["uid"] for m in report["failing"]["messages"]] == [42]
    assert report["last_hour"]["acknowledgments"] == {"billing": 1}
    assert report["last_day"]["acknowledgments"] == {"billing": 1, "orders": 1}
    assert report["last_hour"]["total_refusals"] == 3
    assert report["last_day"]["total_refusals"] == 4
    assert report["top_refusal_reasons"][0] == {"reason": "delivery-report", "count": 2}
    assert {r["reason"] for r in report["top_refusal_reasons"]} == {
        "delivery-report",
        "list-header",
        "sender-cap",
    }


def test_status_text_without_a_running_service(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "not running" in out and "last check:   never" in out
    assert "pending acknowledgments: 1" in out and "quarantined: 1" in out
    assert "delivery-report 2" in out


def test_status_without_a_ledger_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RESPONDER_STATE_DIR", str(tmp_path / "nothing"))
    assert main(["status"]) != 0
    err = capsys.readouterr().err.strip()
    assert err.startswith("responder: no ledger in") and "\n" not in err
