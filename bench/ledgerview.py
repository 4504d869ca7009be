"""The service's ledger, read-only, to see what it has done without asking the IMAP server.

Why the ledger: "every acknowledgment accepted by SMTP" is exactly `ack_state = 'sent'` (the
service marks it the moment Postfix says 250), and "filed" is `filed_at` (set after the MOVE).
Polling it costs one small read transaction; WAL mode means we never block the writer.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

_QUERY = """
SELECT COUNT(*),
       COUNT(filed_at),
       COALESCE(SUM(ack_state = 'pending'), 0),
       COALESCE(SUM(ack_state = 'sent'), 0),
       COALESCE(SUM(ack_state = 'failed'), 0),
       COUNT(ack_message_id)
FROM messages
"""


@dataclass(frozen=True)
class Progress:
    recorded: int  # rows: messages decided
    filed: int  # moved out of the INBOX
    pending: int  # acknowledgments recorded, not yet accepted by SMTP
    sent: int  # acknowledgments accepted by SMTP
    failed: int  # acknowledgments refused for good
    acks: int  # messages that got an acknowledgment at all
    quarantined: int  # the service's own counter


class LedgerView:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection | None:
        if self._db is None:
            if not self.path.exists():
                return None
            self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5)
        return self._db

    def progress(self) -> Progress:
        db = self._connect()
        if db is None:
            return Progress(0, 0, 0, 0, 0, 0, 0)
        try:
            row = db.execute(_QUERY).fetchone()
            counter = db.execute(
                "SELECT COALESCE(MAX(value), 0) FROM counters WHERE name = 'quarantined'"
            ).fetchone()
        except sqlite3.OperationalError:  # schema not created yet
            return Progress(0, 0, 0, 0, 0, 0, 0)
        recorded, filed, pending, sent, failed, acks = (int(v) for v in row)
        return Progress(recorded, filed, pending, sent, failed, acks, int(counter[0]))

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
