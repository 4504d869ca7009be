"""Sending the ladder's mail: what was recorded (promise_mail) goes out once.

Rows are written, bytes and Message-ID included, before this runs, so a crash before the
send leaves a `pending` row that the next tick sends. Just before the end of DATA the row
becomes `sending` (committed); a row still `sending` when the next flush starts belongs to a
process that died at the point of no return: the relay may have the mail, so it is marked
`uncertain` and never sent again (a second "we are late" mail is worse than a lost one that
the supervisor notice and the breach record still show). An update whose conversation was
answered meanwhile is cancelled, not sent.
"""

from __future__ import annotations

import logging

from responder.errors import PermanentError, TransientError, UncertainDelivery
from responder.service.ledger import Ledger
from responder.service.promises import OutgoingMail, PromiseBook
from responder.service.smtp import Sender
from responder.service.warnflag import WarnFlags

log = logging.getLogger("responder.promises")
MAX_MAIL_ATTEMPTS = 10


class LadderOutbox:
    def __init__(
        self, ledger: Ledger, book: PromiseBook, sender: Sender, flags: WarnFlags, sent: str
    ) -> None:
        self.ledger = ledger
        self.book = book
        self.sender = sender
        self.flags = flags
        self.sent_folder = sent
        self._recovered = False

    def flush(self, now: float) -> None:
        if not self._recovered:  # once per process: rows a dead process left at end of DATA
            self.ledger.db.execute(
                "UPDATE promise_mail SET state = 'uncertain',"
                " error = 'interrupted at the end of DATA' WHERE state = 'sending'"
            )
            self._recovered = True
        for mail in self.book.pending_mail():
            if mail.kind == "update" and self._answered_since(mail):
                with self.ledger.transaction():
                    self.book.mail_done(mail.message_id, "cancelled", now)
                log.info("update %s not sent: the customer was answered meanwhile", mail.message_id)
                continue
            self._send(mail, now)
        self._copy_updates()

    def _send(self, mail: OutgoingMail, now: float) -> None:
        def point_of_no_return() -> None:
            self.ledger.db.execute(
                "UPDATE promise_mail SET state = 'sending' WHERE message_id = ?",
                (mail.message_id,),
            )

        try:
            self.sender.send(mail.rcpt, mail.raw, point_of_no_return)
        except UncertainDelivery as exc:
            with self.ledger.transaction():
                self.book.mail_done(mail.message_id, "uncertain", now, str(exc))
            log.warning("%s to %s may or may not have arrived: %s", mail.kind, mail.rcpt, exc)
            return
        except (TransientError, PermanentError) as exc:
            with self.ledger.transaction():
                attempts = self.book.mail_failed(mail.message_id, str(exc))
                give_up = isinstance(exc, PermanentError) or attempts >= MAX_MAIL_ATTEMPTS
                self.ledger.db.execute(
                    "UPDATE promise_mail SET state = ? WHERE message_id = ?",
                    ("failed" if give_up else "pending", mail.message_id),
                )
            log.warning("%s to %s not sent: %s", mail.kind, mail.rcpt, exc)
            return
        with self.ledger.transaction():
            self.book.mail_done(mail.message_id, "sent", now)
        log.info("%s sent to %s", mail.kind, mail.rcpt)

    def _answered_since(self, mail: OutgoingMail) -> bool:
        replacement = self.book.all("supersedes = ? AND is_update = 1", (mail.promise,))
        return any(p.state == "kept" for p in replacement)

    def _copy_updates(self) -> None:
        """So agents see what the customer was told, as for acknowledgments."""
        copies = self.book.uncopied_updates()
        if not copies:
            return
        self.flags.append(self.sent_folder, [raw for _, raw in copies])
        with self.ledger.transaction():
            self.book.mark_copied([mid for mid, _ in copies])
