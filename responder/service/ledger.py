"""The ledger: what happened to every message, durable before anything irreversible happens.

One SQLite file (WAL) in the state directory. A message's row is written, with
its acknowledgment fully rendered and its Message-ID chosen, *before* the
acknowledgment is sent and before the message leaves the INBOX. So after a
crash at any point:

- a message still in the INBOX that has a row is filed by the recorded decision
  and never acknowledged a second time (rows are keyed by Message-ID, so a
  UIDVALIDITY change or a redelivery changes nothing);
- an acknowledgment recorded but not marked sent is sent on restart, with the
  same bytes and the same Message-ID.

The only window for a duplicate is between the SMTP server accepting an
acknowledgment and the `sent` mark being committed (one fsync); we prefer a
rare duplicate to a lost acknowledgment.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from responder.errors import ResponderError
from responder.service.acks import AckQueue
from responder.service.promises import SCHEMA as PROMISES_SCHEMA

SCHEMA = r"""
CREATE TABLE IF NOT EXISTS messages (
    key            TEXT PRIMARY KEY,   -- Message-ID, else sha256 of the raw bytes
    uidvalidity    INTEGER,
    uid            INTEGER,
    decision       TEXT NOT NULL,      -- reply | refused | follow-up | capped | quarantined
    reason         TEXT,
    queue          TEXT,
    priority       INTEGER NOT NULL DEFAULT 0,
    language       TEXT,
    reference      TEXT,
    conversation   TEXT,
    sender         TEXT,
    subject_norm   TEXT,
    folder         TEXT,               -- where the message is filed
    ack_message_id TEXT,
    ack_to         TEXT,
    ack_state      TEXT,               -- NULL (no ack) | pending | sent | failed
    ack_bytes      BLOB,
    ack_attempts   INTEGER NOT NULL DEFAULT 0,
    ack_next_at    REAL,
    ack_error      TEXT,
    ack_copied     INTEGER NOT NULL DEFAULT 0,   -- copy appended to the Sent folder
    respond_by     REAL,
    arrived_at     REAL NOT NULL,
    acked_at       REAL,
    filed_at       REAL
);
CREATE INDEX IF NOT EXISTS messages_pending ON messages(ack_state, ack_next_at);
CREATE INDEX IF NOT EXISTS messages_sender ON messages(sender, arrived_at);
CREATE INDEX IF NOT EXISTS messages_conversation ON messages(conversation);
CREATE TABLE IF NOT EXISTS thread_ids (       -- every Message-ID of a conversation, ours included
    message_id   TEXT PRIMARY KEY,
    conversation TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS failures (          -- messages that could not be processed, by UID
    uidvalidity  INTEGER NOT NULL,
    uid          INTEGER NOT NULL,
    attempts     INTEGER NOT NULL,
    last_error   TEXT,
    PRIMARY KEY (uidvalidity, uid)
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


def private_directory(directory: Path) -> None:
    """The ledger holds customers' addresses and what they were told: 0700, files 0600."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    status = directory.stat()
    if status.st_uid == os.geteuid() and status.st_mode & 0o077:
        directory.chmod(0o700)


@dataclass(frozen=True)
class Record:
    """One message's row, as the service needs it back."""

    key: str
    decision: str
    reason: str | None
    queue: str
    priority: bool
    reference: str | None
    conversation: str | None
    folder: str | None
    ack_state: str | None
    filed: bool


@dataclass(frozen=True)
class NewMessage:
    """Everything recorded about a message when it is first decided."""

    key: str
    uidvalidity: int
    uid: int
    decision: str
    reason: str | None
    queue: str
    priority: bool
    language: str
    reference: str
    conversation: str | None
    sender: str
    subject_norm: str
    folder: str
    thread_ids: tuple[str, ...] = ()
    ack_message_id: str | None = None
    ack_to: str | None = None
    ack_bytes: bytes | None = None
    respond_by: float | None = None


class Ledger(AckQueue):
    def __init__(self, path: Path, read_only: bool = False) -> None:
        self.path = path
        self._local = threading.local()
        self._lock = threading.Lock()
        self._worker_dbs: list[sqlite3.Connection] = []
        if read_only:
            if not path.is_file():
                raise ResponderError(f"no ledger in {path.parent} (expected {path.name})")
            self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
            return
        private_directory(path.parent)
        self.db = sqlite3.connect(path, isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit survives power loss, not just a process crash; costs one fsync per commit.
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA + PROMISES_SCHEMA)
        for companion in (
            path,
            path.with_name(path.name + "-wal"),
            path.with_name(path.name + "-shm"),
        ):
            if companion.exists():
                companion.chmod(0o600)

    @classmethod
    def in_state_dir(cls, state_dir: Path) -> Ledger:
        return cls(state_dir / "ledger.sqlite3")

    @classmethod
    def read_only(cls, state_dir: Path) -> Ledger:
        """The ledger of a (possibly running) service, opened so nothing can be changed by mistake."""
        return cls(state_dir / "ledger.sqlite3", read_only=True)

    def close(self) -> None:
        with self._lock:
            for db in self._worker_dbs:
                db.close()
            self._worker_dbs.clear()
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # --- reading ---

    def get(self, key: str) -> Record | None:
        return self._record_where("key = ?", (key,))

    def get_legacy(self, message_id: str, sender: str, subject_norm: str) -> Record | None:
        """A row keyed by the bare Message-ID (ledgers before keys carried a digest)."""
        return self._record_where(
            "key = ? AND sender = ? AND subject_norm = ?", (message_id, sender, subject_norm)
        )

    def _record_where(self, where: str, params: tuple[object, ...]) -> Record | None:
        row = self.db.execute(
            "SELECT key, decision, reason, queue, priority, reference, conversation, folder,"
            f" ack_state, filed_at IS NOT NULL FROM messages WHERE {where}",
            params,
        ).fetchone()
        if row is None:
            return None
        key, decision, reason, queue, priority, reference, conversation, folder, ack, filed = row
        return Record(
            key, decision, reason, queue, bool(priority), reference, conversation, folder, ack,
            bool(filed),
        )  # fmt: skip

    def count(self, where: str = "1", params: tuple[object, ...] = ()) -> int:
        return int(
            self.db.execute(f"SELECT COUNT(*) FROM messages WHERE {where}", params).fetchone()[0]
        )

    # --- writing ---

    def record(self, message: NewMessage, now: float | None = None) -> None:
        """Record a decided message (inside the caller's transaction)."""
        now = time.time() if now is None else now
        self.db.execute(
            "INSERT INTO messages (key, uidvalidity, uid, decision, reason, queue, priority, language,"
            " reference, conversation, sender, subject_norm, folder, ack_message_id, ack_to, ack_state,"
            " ack_bytes, respond_by, arrived_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                message.key,
                message.uidvalidity,
                message.uid,
                message.decision,
                message.reason,
                message.queue,
                int(message.priority),
                message.language,
                message.reference,
                message.conversation,
                message.sender,
                message.subject_norm,
                message.folder,
                message.ack_message_id,
                message.ack_to,
                "pending" if message.ack_bytes is not None else None,
                message.ack_bytes,
                message.respond_by,
                now,
            ),
        )
        ids = [*message.thread_ids, *([message.ack_message_id] if message.ack_message_id else [])]
        self.db.executemany(
            "INSERT OR IGNORE INTO thread_ids (message_id, conversation) VALUES (?, ?)",
            [(mid, message.conversation) for mid in ids if message.conversation],
        )
        self.db.execute(
            "DELETE FROM failures WHERE uidvalidity = ? AND uid = ?",
            (message.uidvalidity, message.uid),
        )

    def mark_filed(self, keys: list[str], now: float | None = None) -> None:
        stamp = time.time() if now is None else now
        self.db.executemany(
            "UPDATE messages SET filed_at = COALESCE(filed_at, ?) WHERE key = ?",
            [(stamp, k) for k in keys],
        )

    def note_failure(self, uidvalidity: int, uid: int, error: str) -> int:
        """Count a failed attempt at one INBOX message; returns how many there have been."""
        self.db.execute(
            "INSERT INTO failures (uidvalidity, uid, attempts, last_error) VALUES (?, ?, 1, ?)"
            " ON CONFLICT (uidvalidity, uid) DO UPDATE SET attempts = attempts + 1, last_error = ?",
            (uidvalidity, uid, error[:500], error[:500]),
        )
        row = self.db.execute(
            "SELECT attempts FROM failures WHERE uidvalidity = ? AND uid = ?", (uidvalidity, uid)
        ).fetchone()
        return int(row[0])

    def bump(self, name: str, amount: int = 1) -> None:
        self.db.execute(
            "INSERT INTO counters (name, value) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET value = value + ?",
            (name, amount, amount),
        )

    def counter(self, name: str) -> int:
        row = self.db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        return int(row[0]) if row else 0
