"""Promises in the ledger: what we told each customer, by when, and what became of it.

A promise is written in the same transaction as the acknowledgment that makes it, so there is
never an acknowledgment without its promise. States:

- `open`: nobody has answered yet;
- `kept`: strong evidence that a person answered (threaded reply in Sent, agent's copy);
- `answered-unverified`: only the \\Answered flag: no customer update, but the supervisor hears;
- `updated`: we told the customer it would be late; a new promise (`is_update`) replaces it;
- `broken`: the deadline passed with no answer.

Each ladder step has a `*_due` time (computed when the promise is made, in business time) and a
`*_at` time set once, by a conditional UPDATE, so a step can never be taken twice.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

# Created with the ledger (ledger.py runs it with its own schema); additive only.
SCHEMA = r"""
CREATE TABLE IF NOT EXISTS promises (          -- every deadline we gave a customer (promises.py)
    id             INTEGER PRIMARY KEY,
    message_key    TEXT NOT NULL,      -- the customer's message (messages.key)
    message_id     TEXT,               -- its Message-ID without <>: found in any folder
    conversation   TEXT NOT NULL,
    queue          TEXT NOT NULL,
    priority       INTEGER NOT NULL DEFAULT 0,
    language       TEXT NOT NULL,
    customer       TEXT NOT NULL,
    customer_name  TEXT NOT NULL DEFAULT '',
    subject        TEXT NOT NULL DEFAULT '',
    calendar       TEXT NOT NULL,
    window         REAL NOT NULL,      -- seconds of open time
    made_at        REAL NOT NULL,
    due_at         REAL NOT NULL,      -- UTC epoch
    text           TEXT NOT NULL,      -- the exact text sent
    sent_message_id TEXT,              -- the acknowledgment or update that made the promise
    state          TEXT NOT NULL DEFAULT 'open',  -- open|kept|answered-unverified|updated|broken
    is_update      INTEGER NOT NULL DEFAULT 0,
    supersedes     INTEGER,
    warn_due       REAL, notify_due REAL, update_due REAL,
    warned_at      REAL, notified_at REAL, updated_at REAL, broken_at REAL,
    flagged_by_us  INTEGER NOT NULL DEFAULT 0,   -- we set \Flagged (so we may remove it)
    answered_at    REAL,
    evidence       TEXT,
    folder         TEXT,               -- where the customer's message was last seen
    uid            INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS promises_once ON promises(message_key) WHERE is_update = 0;
CREATE INDEX IF NOT EXISTS promises_state ON promises(state, due_at);
CREATE INDEX IF NOT EXISTS promises_conversation ON promises(conversation);
CREATE TABLE IF NOT EXISTS promise_mail (      -- ladder mail, recorded before it is sent
    message_id     TEXT PRIMARY KEY,
    promise        INTEGER NOT NULL,
    kind           TEXT NOT NULL,      -- notice | update
    rcpt           TEXT NOT NULL,
    raw            BLOB NOT NULL,
    state          TEXT NOT NULL,      -- pending | sent | cancelled | failed
    attempts       INTEGER NOT NULL DEFAULT 0,
    error          TEXT,
    created_at     REAL NOT NULL,
    sent_at        REAL,
    copied         INTEGER NOT NULL DEFAULT 0,
    UNIQUE (promise, kind)
);
"""
ACTIVE = ("open", "answered-unverified")
# Broken with no update sent: the service was down through the update step (see escalation).
LATE_OWED = "state = 'broken' AND is_update = 0 AND update_due IS NOT NULL AND updated_at IS NULL"
STEPS = ("warned", "notified", "updated", "broken")
_COLUMNS = (
    "id, message_key, message_id, conversation, queue, priority, language, customer, customer_name, subject,"
    " calendar, window, made_at, due_at, text, sent_message_id, state, is_update, supersedes,"
    " warn_due, notify_due, update_due, warned_at, notified_at, updated_at, broken_at,"
    " flagged_by_us, answered_at, evidence, folder, uid"
)


@dataclass(frozen=True)
class Promise:
    id: int
    message_key: str
    message_id: str | None
    conversation: str
    queue: str
    priority: bool
    language: str
    customer: str
    customer_name: str
    subject: str
    calendar: str
    window: float
    made_at: float
    due_at: float
    text: str
    sent_message_id: str | None
    state: str
    is_update: bool
    supersedes: int | None
    warn_due: float | None
    notify_due: float | None
    update_due: float | None
    warned_at: float | None
    notified_at: float | None
    updated_at: float | None
    broken_at: float | None
    flagged_by_us: bool
    answered_at: float | None
    evidence: str | None
    folder: str | None
    uid: int | None

    @property
    def late_update_owed(self) -> bool:
        """Broken with no update sent: the service was down through the update step."""
        return (
            self.state == "broken"
            and not self.is_update
            and self.update_due is not None
            and (self.updated_at is None)
        )


@dataclass(frozen=True)
class NewPromise:
    message_key: str
    message_id: str | None
    conversation: str
    queue: str
    priority: bool
    language: str
    customer: str
    customer_name: str
    subject: str
    calendar: str
    window: float
    made_at: float
    due_at: float
    text: str
    sent_message_id: str | None
    warn_due: float | None
    notify_due: float | None
    update_due: float | None
    is_update: bool = False
    supersedes: int | None = None
    folder: str | None = None


@dataclass(frozen=True)
class OutgoingMail:
    message_id: str
    promise: int
    kind: str
    rcpt: str
    raw: bytes


def _promise(row: tuple[Any, ...]) -> Promise:
    values = list(row)
    for index in (5, 17, 26):  # priority, is_update, flagged_by_us
        values[index] = bool(values[index])
    return Promise(*values)


class PromiseBook:
    """Reads and writes the `promises` and `promise_mail` tables (the caller holds transactions)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    # --- promises ---

    def add(self, new: NewPromise) -> int | None:
        """Record a promise; None if this message already has one (a restart, a redelivery)."""
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO promises (message_key, message_id, conversation, queue, priority,"
            " language, customer, customer_name, subject, calendar, window, made_at, due_at, text,"
            " sent_message_id, warn_due, notify_due, update_due, is_update, supersedes, folder)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                new.message_key,
                new.message_id,
                new.conversation,
                new.queue,
                int(new.priority),
                new.language,
                new.customer,
                new.customer_name,
                new.subject,
                new.calendar,
                new.window,
                new.made_at,
                new.due_at,
                new.text,
                new.sent_message_id,
                new.warn_due,
                new.notify_due,
                new.update_due,
                int(new.is_update),
                new.supersedes,
                new.folder,
            ),
        )
        return cursor.lastrowid if cursor.rowcount == 1 else None

    def get(self, promise_id: int) -> Promise | None:
        row = self.db.execute(
            f"SELECT {_COLUMNS} FROM promises WHERE id = ?", (promise_id,)
        ).fetchone()
        return _promise(row) if row else None

    def active(self) -> list[Promise]:
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM promises WHERE state IN (?, ?) ORDER BY due_at", ACTIVE
        ).fetchall()
        return [_promise(row) for row in rows]

    def all(self, where: str = "1", params: tuple[Any, ...] = ()) -> list[Promise]:
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM promises WHERE {where} ORDER BY due_at", params
        ).fetchall()
        return [_promise(row) for row in rows]

    def late_owed(self, conversation: str | None = None) -> list[Promise]:
        if conversation is None:
            return self.all(LATE_OWED)
        return self.all(f"conversation = ? AND {LATE_OWED}", (conversation,))

    def active_in(self, conversation: str) -> list[Promise]:
        return self.all("conversation = ? AND state IN (?, ?)", (conversation, *ACTIVE))

    def by_message_id(self, message_id: str) -> list[Promise]:
        return self.all("message_id = ? AND state IN (?, ?)", (message_id, *ACTIVE))

    def conversation_of(self, message_ids: list[str]) -> str | None:
        """The conversation any of these Message-IDs (with or without <>) belongs to."""
        for mid in message_ids:
            row = self.db.execute(
                "SELECT conversation FROM thread_ids WHERE message_id IN (?, ?)",
                (f"<{mid}>", mid),
            ).fetchone()
            if row:
                return str(row[0])
        return None

    def is_ours(self, message_id: str) -> bool:
        """One of our own mails: an acknowledgment, an update or a supervisor notice."""
        bracketed = f"<{message_id}>"
        return bool(
            self.db.execute(
                "SELECT 1 FROM messages WHERE ack_message_id = ? UNION ALL"
                " SELECT 1 FROM promise_mail WHERE message_id IN (?, ?) LIMIT 1",
                (bracketed, bracketed, message_id),
            ).fetchone()
        )

    def take_step(self, promise_id: int, step: str, now: float) -> bool:
        """Mark a ladder step taken; False if it already was (the exactly-once gate)."""
        assert step in STEPS
        cursor = self.db.execute(
            f"UPDATE promises SET {step}_at = ? WHERE id = ? AND {step}_at IS NULL",
            (now, promise_id),
        )
        return cursor.rowcount == 1

    def settle(self, promise_id: int, state: str, evidence: str, now: float) -> bool:
        """Kept or answered-unverified, from evidence; a stronger state is never weakened."""
        allowed = ("open",) if state == "answered-unverified" else ACTIVE
        cursor = self.db.execute(
            f"UPDATE promises SET state = ?, evidence = ?, answered_at = COALESCE(answered_at, ?)"
            f" WHERE id = ? AND state IN ({','.join('?' * len(allowed))})",
            (state, evidence, now, promise_id, *allowed),
        )
        return cursor.rowcount == 1

    def set_state(self, promise_id: int, state: str, expected: tuple[str, ...]) -> bool:
        cursor = self.db.execute(
            f"UPDATE promises SET state = ? WHERE id = ? AND state IN ({','.join('?' * len(expected))})",
            (state, promise_id, *expected),
        )
        return cursor.rowcount == 1

    def note_flagged(self, promise_id: int, by_us: bool) -> None:
        self.db.execute(
            "UPDATE promises SET flagged_by_us = ? WHERE id = ?", (int(by_us), promise_id)
        )

    def locate(self, message_id: str, folder: str, uid: int) -> None:
        """Where the customer's message is now (an agent may have moved it to another queue)."""
        self.db.execute(
            "UPDATE promises SET folder = ?, uid = ? WHERE message_id = ?",
            (folder, uid, message_id),
        )

    # --- ladder mail, recorded before it is sent ---

    def queue_mail(self, mail: OutgoingMail, now: float) -> bool:
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO promise_mail (message_id, promise, kind, rcpt, raw, state,"
            " created_at) VALUES (?, ?, ?, ?, ?, 'pending', ?)",
            (mail.message_id, mail.promise, mail.kind, mail.rcpt, mail.raw, now),
        )
        return cursor.rowcount == 1

    def pending_mail(self) -> list[OutgoingMail]:
        rows = self.db.execute(
            "SELECT message_id, promise, kind, rcpt, raw FROM promise_mail WHERE state = 'pending'"
            " ORDER BY created_at"
        ).fetchall()
        return [OutgoingMail(*row) for row in rows]

    def mail_done(self, message_id: str, state: str, now: float, error: str = "") -> None:
        self.db.execute(
            "UPDATE promise_mail SET state = ?, sent_at = ?, error = ?, attempts = attempts + 1"
            " WHERE message_id = ?",
            (state, now, error[:500] or None, message_id),
        )

    def mail_failed(self, message_id: str, error: str) -> int:
        self.db.execute(
            "UPDATE promise_mail SET attempts = attempts + 1, error = ? WHERE message_id = ?",
            (error[:500], message_id),
        )
        row = self.db.execute(
            "SELECT attempts FROM promise_mail WHERE message_id = ?", (message_id,)
        ).fetchone()
        return int(row[0]) if row else 0

    def uncopied_updates(self) -> list[tuple[str, bytes]]:
        rows = self.db.execute(
            "SELECT message_id, raw FROM promise_mail WHERE kind = 'update' AND state = 'sent'"
            " AND copied = 0"
        ).fetchall()
        return [(row[0], row[1]) for row in rows]

    def mark_copied(self, message_ids: list[str]) -> None:
        self.db.executemany(
            "UPDATE promise_mail SET copied = 1 WHERE message_id = ?", [(m,) for m in message_ids]
        )

    def mail_count(self, kind: str, state: str = "sent") -> int:
        row = self.db.execute(
            "SELECT COUNT(*) FROM promise_mail WHERE kind = ? AND state = ?", (kind, state)
        ).fetchone()
        return int(row[0])
