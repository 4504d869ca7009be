"""Conversations, not messages: one acknowledgment per conversation, and caps that stop robot loops.

A new message belongs to an existing conversation when (in this order) its
In-Reply-To/References name any message of it (the customer's or our
acknowledgment), its subject carries the conversation's reference
(`[#K7Q2M9XA]`), or, as a last resort, the same sender wrote with the same
normalised subject within `limits.thread_window`. Follow-ups get no second
acknowledgment and go to the conversation's queue.
"""

from __future__ import annotations

import sqlite3
import time
from collections import deque

from responder.config import LimitsConfig
from responder.pipeline.parse import ParsedMessage
from responder.pipeline.threads import (
    REFERENCE_TAG,
    Consultation,
    Thread,
    normalize_subject,
)
from responder.service.ledger import Ledger


class History:
    """Reads the ledger to place a message in a conversation and to apply the caps."""

    def __init__(self, ledger: Ledger, limits: LimitsConfig) -> None:
        self.ledger = ledger
        self.limits = limits
        # Acknowledgments of the last hour, oldest first: counting them in SQL for every
        # message would cost O(backlog) per message during a backlog drain.
        self._last_hour: deque[float] | None = None

    def consult(
        self, message: ParsedMessage, sender: str, now: float | None = None
    ) -> Consultation:
        now = time.time() if now is None else now
        thread = self.find_thread(message, sender, now)
        cap = None
        if self._acks_since(now - self.limits.per_sender_window, sender) >= self.limits.per_sender:
            cap = "sender-cap"
        elif len(self._acks_in_last_hour(now)) >= self.limits.global_per_hour:
            cap = "global-cap"
        return Consultation(thread, cap)

    def count_reply(self, now: float) -> None:
        """A reply is being sent at `now`: it counts towards the global cap from here on."""
        self._acks_in_last_hour(now).append(now)

    def _acks_in_last_hour(self, now: float) -> deque[float]:
        if self._last_hour is None:
            rows = self.ledger.db.execute(
                "SELECT arrived_at FROM messages WHERE ack_message_id IS NOT NULL"
                " AND arrived_at >= ? ORDER BY arrived_at",
                (now - 3600.0,),
            )
            self._last_hour = deque(row[0] for row in rows)
        while self._last_hour and self._last_hour[0] < now - 3600.0:
            self._last_hour.popleft()
        return self._last_hour

    def find_thread(self, message: ParsedMessage, sender: str, now: float) -> Thread | None:
        db = self.ledger.db
        ids = list(dict.fromkeys((*message.in_reply_to, *message.references)))[-50:]
        if ids:
            marks = ",".join("?" * len(ids))
            row = db.execute(
                f"SELECT conversation FROM thread_ids WHERE message_id IN ({marks}) LIMIT 1", ids
            ).fetchone()
            if row:
                return self._thread(row[0])
        for reference in REFERENCE_TAG.findall(message.subject):
            thread = self._thread(reference)
            if thread is not None:
                return thread
        subject = normalize_subject(message.subject)
        if subject and sender:
            row = db.execute(
                "SELECT conversation FROM messages WHERE sender = ? AND subject_norm = ?"
                " AND arrived_at >= ? AND conversation IS NOT NULL AND decision != 'refused'"
                " ORDER BY arrived_at DESC LIMIT 1",
                (sender, subject, now - self.limits.thread_window),
            ).fetchone()
            if row:
                return self._thread(row[0])
        return None

    def _thread(self, conversation: str) -> Thread | None:
        row = self.ledger.db.execute(
            "SELECT (SELECT queue FROM messages WHERE conversation = ?1 ORDER BY arrived_at LIMIT 1),"
            " MAX(priority) FROM messages WHERE conversation = ?1",
            (conversation,),
        ).fetchone()
        if row is None or row[0] is None:
            return None
        try:  # the promise still open in it, if any (an older read-only ledger has no table)
            due = self.ledger.db.execute(
                "SELECT MAX(due_at) FROM promises WHERE conversation = ?"
                " AND state IN ('open', 'answered-unverified')",
                (conversation,),
            ).fetchone()[0]
        except sqlite3.OperationalError:
            due = None
        return Thread(conversation, row[0], bool(row[1]), due)

    def _acks_since(self, since: float, sender: str) -> int:
        return self.ledger.count(
            "sender = ? AND ack_message_id IS NOT NULL AND arrived_at >= ?", (sender, since)
        )
