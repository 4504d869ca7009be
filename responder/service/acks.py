"""The acknowledgment queue inside the ledger: pending, sent, failed, uncertain.

States of `messages.ack_state`:

- `pending`: recorded, not yet accepted by the relay (`ack_next_at`: not before then);
- `sent`: the relay answered 250 to the end of DATA;
- `failed`: the relay refused this message for good (5xx), or it bounced; `responder
  requeue` makes it `pending` again;
- `uncertain`: the end of DATA went out and no answer came back (a lost connection, a
  crash). `ack_next_at` is when it may be resent unless settled before (NULL: never).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PendingAck:
    key: str
    ack_message_id: str
    ack_to: str
    ack_bytes: bytes
    attempts: int


class AckQueue:
    db: sqlite3.Connection
    path: Path
    _local: threading.local
    _lock: threading.Lock
    _worker_dbs: list[sqlite3.Connection]

    # --- reading ---

    def pending_acks(self, now: float, limit: int = 200) -> list[PendingAck]:
        rows = self.db.execute(
            "SELECT key, ack_message_id, ack_to, ack_bytes, ack_attempts FROM messages"
            " WHERE ack_state = 'pending' AND (ack_next_at IS NULL OR ack_next_at <= ?)"
            " AND ack_bytes IS NOT NULL ORDER BY arrived_at LIMIT ?",
            (now, limit),
        ).fetchall()
        return [PendingAck(*row) for row in rows]

    def ack_attempts(self, key: str) -> int:
        row = self.db.execute("SELECT ack_attempts FROM messages WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

    def next_pending_at(self) -> float | None:
        row = self.db.execute(
            "SELECT MIN(COALESCE(ack_next_at, 0)) FROM messages WHERE ack_state = 'pending'"
        ).fetchone()
        return None if row[0] is None else float(row[0])

    def uncopied_acks(self, limit: int = 200) -> list[tuple[str, str, bytes]]:
        """(key, Message-ID, bytes) of sent acknowledgments not yet copied to Sent."""
        rows = self.db.execute(
            "SELECT key, ack_message_id, ack_bytes FROM messages WHERE ack_state = 'sent'"
            " AND ack_copied = 0 AND ack_bytes IS NOT NULL ORDER BY acked_at LIMIT ?",
            (limit,),
        ).fetchall()
        return [(row[0], row[1], row[2]) for row in rows]

    def uncertain_due(self, now: float) -> list[str]:
        rows = self.db.execute(
            "SELECT key FROM messages WHERE ack_state = 'uncertain' AND ack_next_at IS NOT NULL"
            " AND ack_next_at <= ?",
            (now,),
        ).fetchall()
        return [row[0] for row in rows]

    def uncertain_message_ids(self) -> dict[str, str]:
        """Message-ID -> key of every uncertain acknowledgment (usually none)."""
        rows = self.db.execute(
            "SELECT ack_message_id, key FROM messages WHERE ack_state = 'uncertain'"
        ).fetchall()
        return {row[0]: row[1] for row in rows if row[0]}

    def ack_state_concurrently(self, key: str) -> str | None:
        """The acknowledgment's state, read from a pool thread on that thread's own connection
        (a WAL reader never waits for the writer)."""
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(
                f"file:{self.path}?mode=ro", uri=True, timeout=30, check_same_thread=False
            )
            self._local.db = db
            with self._lock:
                self._worker_dbs.append(db)
        row = db.execute("SELECT ack_state FROM messages WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    # --- writing (main thread, inside a transaction) ---

    def mark_sent(self, keys: list[str], now: float | None = None) -> None:
        stamp = time.time() if now is None else now
        self.db.executemany(
            "UPDATE messages SET ack_state = 'sent', acked_at = COALESCE(acked_at, ?),"
            " ack_error = NULL, ack_next_at = NULL WHERE key = ? AND ack_state != 'sent'",
            [(stamp, key) for key in keys],
        )

    def mark_ack_failed(self, key: str, error: str, retry_at: float | None) -> None:
        """A transient failure reschedules (`retry_at`); a permanent one (None) gives up, recorded."""
        self.db.execute(
            "UPDATE messages SET ack_attempts = ack_attempts + 1, ack_error = ?, ack_next_at = ?,"
            " ack_state = CASE WHEN ? IS NULL THEN 'failed' ELSE ack_state END WHERE key = ?",
            (error[:500], retry_at, retry_at, key),
        )

    def mark_uncertain(self, key: str, error: str, resend_at: float | None) -> bool:
        cursor = self.db.execute(
            "UPDATE messages SET ack_state = 'uncertain', ack_error = ?, ack_next_at = ?,"
            " ack_attempts = ack_attempts + 1 WHERE key = ? AND ack_state = 'pending'",
            (error[:500], resend_at, key),
        )
        return cursor.rowcount > 0

    def settle_uncertain(self, key: str, delivered: bool, why: str) -> None:
        """Something showed what became of an uncertain acknowledgment: it arrived, or bounced."""
        self.db.execute(
            "UPDATE messages SET ack_state = ?, ack_error = ?, ack_next_at = NULL,"
            " acked_at = CASE WHEN ? THEN COALESCE(acked_at, ?) ELSE acked_at END"
            " WHERE key = ? AND ack_state = 'uncertain'",
            ("sent" if delivered else "failed", why[:500], delivered, time.time(), key),
        )

    def requeue(self, keys: list[str]) -> int:
        """Failed or uncertain acknowledgments go out again (on purpose: `responder requeue`)."""
        changed = 0
        for key in keys:
            cursor = self.db.execute(
                "UPDATE messages SET ack_state = 'pending', ack_next_at = NULL, ack_error = NULL"
                " WHERE key = ? AND ack_state IN ('failed', 'uncertain') AND ack_bytes IS NOT NULL",
                (key,),
            )
            changed += cursor.rowcount
        return changed

    def mark_copied(self, keys: list[str]) -> None:
        self.db.executemany(
            "UPDATE messages SET ack_copied = 1 WHERE key = ?", [(k,) for k in keys]
        )

    def prune_ack_bodies(self, older_than: float) -> int:
        """Retention: the bytes of old acknowledgments go; the decision and its Message-ID stay."""
        cursor = self.db.execute(
            "UPDATE messages SET ack_bytes = NULL WHERE ack_bytes IS NOT NULL"
            " AND arrived_at < ? AND (ack_state = 'failed' OR (ack_state = 'sent' AND ack_copied = 1))",
            (older_than,),
        )
        return cursor.rowcount
