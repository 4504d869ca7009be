"""`responder status [--json]`: what the service did lately, read from its ledger.

The ledger is opened read-only (SQLite WAL lets a reader in while the service
writes), so this is safe against a running service and can never change it.
The last INBOX check comes from the heartbeat the running service leaves beside
the ledger (`health.json`, see `responder.service.monitor`).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from responder.config import Config
from responder.service.ledger import Ledger
from responder.service.monitor import HEARTBEAT, HEARTBEAT_EVERY

WINDOWS = {"last_hour": 3600.0, "last_day": 86400.0}
TOP_REASONS = 5
LISTED = 20  # pending / quarantined messages listed, at most (counts are always complete)


def status(config: Config, as_json: bool = False, now: float | None = None) -> int:
    report = gather(config, time.time() if now is None else now)
    print(json.dumps(report, ensure_ascii=False, indent=2) if as_json else render(report))
    return 0


def gather(config: Config, now: float) -> dict[str, Any]:
    state_dir = config.state_dir()
    ledger = Ledger.read_only(state_dir)
    try:
        db = ledger.db
        report: dict[str, Any] = {
            "state_dir": str(state_dir),
            "service": _service(state_dir, now),
            "pending": _pending(db),
            "quarantined": _failures(db, "attempts >= ?", config.service.max_attempts),
            "failing": _failures(db, "attempts < ?", config.service.max_attempts),
            "failed_acknowledgments": _failed_acks(db),
            "uncertain_acknowledgments": _failed_acks(db, "uncertain"),
        }
        for name, seconds in WINDOWS.items():
            report[name] = _window(db, now - seconds)
        report["top_refusal_reasons"] = _rows(
            db,
            "SELECT reason, COUNT(*) AS count FROM messages WHERE decision IN ('refused', 'capped')"
            " AND arrived_at >= ? GROUP BY reason ORDER BY count DESC, reason LIMIT ?",
            (now - WINDOWS["last_day"], TOP_REASONS),
        )
    finally:
        ledger.close()
    return report


def _service(state_dir: Path, now: float) -> dict[str, Any]:
    try:
        beat = json.loads((state_dir / HEARTBEAT).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"running": False, "last_check": None, "last_check_age_seconds": None}
    last = beat.get("last_check")
    return {
        "running": now - float(beat.get("written_at", 0)) < 3 * HEARTBEAT_EVERY,
        "pid": beat.get("pid"),
        "imap_connected": bool(beat.get("imap_connected")),
        "last_check": _iso(last),
        "last_check_age_seconds": round(now - last, 1) if last else None,
    }


def _pending(db: sqlite3.Connection) -> dict[str, Any]:
    return {
        "count": db.execute("SELECT COUNT(*) FROM messages WHERE ack_state = 'pending'").fetchone()[
            0
        ],
        "messages": [
            {**row, "next_attempt": _iso(row["next_attempt"]), "recorded": _iso(row["recorded"])}
            for row in _rows(
                db,
                "SELECT key, reference, queue, ack_to AS recipient, ack_attempts AS attempts,"
                " ack_next_at AS next_attempt, ack_error AS reason, arrived_at AS recorded"
                " FROM messages WHERE ack_state = 'pending' ORDER BY arrived_at LIMIT ?",
                (LISTED,),
            )
        ],
    }


def _failures(db: sqlite3.Connection, where: str, max_attempts: int) -> dict[str, Any]:
    count = db.execute(f"SELECT COUNT(*) FROM failures WHERE {where}", (max_attempts,)).fetchone()
    rows = _rows(
        db,
        "SELECT uidvalidity, uid, attempts, last_error AS reason FROM failures"
        f" WHERE {where} ORDER BY uid DESC LIMIT ?",
        (max_attempts, LISTED),
    )
    return {"count": count[0], "messages": rows}


def _failed_acks(db: sqlite3.Connection, state: str = "failed") -> dict[str, Any]:
    """Acknowledgments refused for good, or (state "uncertain") whose delivery is unknown."""
    rows = _rows(
        db,
        "SELECT key, reference, ack_to AS recipient, ack_error AS reason FROM messages"
        " WHERE ack_state = ? ORDER BY arrived_at DESC LIMIT ?",
        (state, LISTED),
    )
    count = db.execute("SELECT COUNT(*) FROM messages WHERE ack_state = ?", (state,)).fetchone()
    return {"count": count[0], "messages": rows}


def _window(db: sqlite3.Connection, since: float) -> dict[str, Any]:
    """Acknowledgments sent and messages refused since `since`, per queue."""
    acks = db.execute(
        "SELECT queue, COUNT(*) FROM messages WHERE ack_state = 'sent' AND acked_at >= ?"
        " GROUP BY queue ORDER BY queue",
        (since,),
    ).fetchall()
    refused = db.execute(
        "SELECT queue, COUNT(*) FROM messages WHERE decision IN ('refused', 'capped')"
        " AND arrived_at >= ? GROUP BY queue ORDER BY queue",
        (since,),
    ).fetchall()
    return {
        "acknowledgments": dict(acks),
        "refusals": dict(refused),
        "total_acknowledgments": sum(n for _, n in acks),
        "total_refusals": sum(n for _, n in refused),
    }


def _rows(db: sqlite3.Connection, sql: str, params: Sequence[object]) -> list[dict[str, Any]]:
    cursor = db.execute(sql, tuple(params))
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _iso(stamp: float | None) -> str | None:
    if not stamp:
        return None
    return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds")


def render(report: dict[str, Any]) -> str:
    service = report["service"]
    age = service["last_check_age_seconds"]
    state = "running" if service["running"] else "not running (no recent heartbeat)"
    lines = [
        f"state:        {report['state_dir']} (service {state})",
        f"last check:   {service['last_check'] or 'never'}"
        + (f" ({age:g}s ago)" if age is not None else ""),
    ]
    for name in WINDOWS:
        window = report[name]
        per_queue = ", ".join(f"{q} {n}" for q, n in window["acknowledgments"].items()) or "-"
        lines.append(
            f"{name.replace('_', ' ') + ':':13} {window['total_acknowledgments']} acknowledged"
            f" ({per_queue}), {window['total_refusals']} refused"
        )
    reasons = ", ".join(f"{r['reason']} {r['count']}" for r in report["top_refusal_reasons"])
    lines.append(f"refused for:  {reasons or '-'} (last day)")
    for title, key, label in (
        ("pending acknowledgments", "pending", "recipient"),
        ("quarantined", "quarantined", "uid"),
        ("failing, will retry", "failing", "uid"),
        ("acknowledgments refused for good", "failed_acknowledgments", "recipient"),
        ("acknowledgments of uncertain delivery", "uncertain_acknowledgments", "recipient"),
    ):
        section = report[key]
        lines.append(f"{title}: {section['count']}")
        lines += [f"  {m[label]}: {m['reason'] or '(no error yet)'}" for m in section["messages"]]
    return "\n".join(lines)
