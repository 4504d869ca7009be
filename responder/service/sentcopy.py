"""A copy of each sent acknowledgment in the Sent folder, so agents see what the customer was told.

Exactly one copy: an APPEND whose answer was lost (a crash, a dropped connection) may or
may not have landed, so after a start or a failed append the folder is asked, by
Message-ID, before anything is appended again.
"""

from __future__ import annotations

import logging
import re

from responder.errors import CommandRefused, TransientError
from responder.service.imap import Mailbox
from responder.service.ledger import Ledger

log = logging.getLogger("responder")
_MESSAGE_ID = re.compile(rb"<[^<>\s]+>")
SEARCH_CHUNK = 25  # Message-IDs per SEARCH (an OR chain): short commands, few round trips


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
            present = self.present(self.folder, [mid for _, mid, _ in copies])
        missing = [raw for _, mid, raw in copies if mid not in present]
        try:
            self.mailbox.append(self.folder, missing)
        except (TransientError, CommandRefused):
            self._must_look = True
            raise
        self._must_look = False
        with self.ledger.transaction():
            self.ledger.mark_copied([key for key, _, _ in copies])

    def present(self, folder: str, message_ids: list[str]) -> set[str]:
        """Which of these Message-IDs the folder already holds (the INBOX stays selected)."""
        found: set[str] = set()
        self.mailbox.ensure_folder(folder)
        for start in range(0, len(message_ids), SEARCH_CHUNK):
            chunk = message_ids[start : start + SEARCH_CHUNK]
            found |= self._search(folder, chunk)
        return found

    def _search(self, folder: str, message_ids: list[str]) -> set[str]:
        criteria: list[str] = []
        for index, message_id in enumerate(message_ids):
            if index < len(message_ids) - 1:
                criteria.append("OR")
            criteria += ["HEADER", "Message-ID", message_id]

        def look(client):  # type: ignore[no-untyped-def]
            client.select_folder(folder, readonly=True)
            try:
                uids = client.search(criteria)
                headers = (
                    client.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"]) if uids else {}
                )
            finally:
                client.select_folder(self.mailbox.inbox)
            return headers

        fetched = self.mailbox._call(f"search {folder}", look)
        found: set[str] = set()
        for item in fetched.values():
            for value in item.values():
                if isinstance(value, bytes):
                    found.update(match.decode() for match in _MESSAGE_ID.findall(value))
        return found & set(message_ids)
