"""A copy of each sent acknowledgment in the Sent folder, so agents see what the customer was told.

Exactly one copy: an APPEND whose answer was lost (a crash, a dropped connection) may or
may not have landed, so after a start or a failed append the folder is asked, by
Message-ID, before anything is appended again.
"""

from __future__ import annotations

import logging

from responder.errors import CommandRefused, TransientError
from responder.service.imap import Mailbox
from responder.service.ledger import Ledger
from responder.service.lookup import message_ids_in

log = logging.getLogger("responder")


class SentCopier:
    def __init__(self, mailbox: Mailbox, ledger: Ledger, configured_folder: str) -> None:
        self.mailbox = mailbox
        self.ledger = ledger
        self.configured_folder = configured_folder
        self.folder: str | None = None
        self._must_look = True  # nothing is known about the folder yet

    def copy_acks(self) -> None:
        """A failure here is retried on the next pass; the acknowledgment itself is long sent."""
        copies = self.ledger.uncopied_acks()
        if not copies:
            return
        if self.folder is None:
            self.folder = self.mailbox.sent_folder(self.configured_folder)
        present: set[str] = set()
        if self._must_look:
            present = message_ids_in(self.mailbox, self.folder, [mid for _, mid, _ in copies])
        missing = [raw for _, mid, raw in copies if mid not in present]
        try:
            self.mailbox.append(self.folder, missing)
        except (TransientError, CommandRefused):
            self._must_look = True
            raise
        self._must_look = False
        with self.ledger.transaction():
            self.ledger.mark_copied([key for key, _, _ in copies])
