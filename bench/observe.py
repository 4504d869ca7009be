"""Watching the mail flow from outside: an IDLE observer, acknowledgments, warm-up.

The IDLE observer is a second IMAP client idling on support@'s INBOX. It receives Dovecot's
`* n EXISTS` push at about the moment the service does (each IDLE connection has its own
500 ms NOTIFY_DELAY), which splits a time-to-acknowledgment into "Dovecot told us" and "the
service answered". It never touches a message (the mailbox is EXAMINEd, read-only).
`rearm()` restarts its IDLE before each mail: otherwise the delay timer started by the
service's MOVE of the previous mail fires early and the observer sees the new mail sooner
than the service (whose own MOVE starts no timer) can.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Sequence
from email.parser import BytesHeaderParser
from pathlib import Path

from bench.inotify import NewFiles
from bench.mailgen import SUPPORT, Mail
from bench.stack import maildir_new, smtp
from responder.devstack.mailstack import MailStack


class IdleObserver:
    def __init__(self, stack: MailStack) -> None:
        self._client = stack.imap(SUPPORT)
        self._client.select_folder("INBOX", readonly=True)
        self._client.idle()
        self.exists_at: list[float] = []
        self._stop = threading.Event()
        self._rearm = threading.Event()
        self._rearmed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="idle-observer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._rearm.is_set():
                self._client.idle_done()
                self._client.idle()
                self._rearm.clear()
                self._rearmed.set()
            for response in self._client.idle_check(timeout=0.05):
                if len(response) > 1 and response[1] == b"EXISTS":
                    self.exists_at.append(time.perf_counter())

    def rearm(self, timeout: float = 5.0) -> None:
        """DONE + IDLE: a fresh IDLE with no delay timer pending, like the service's."""
        self._rearmed.clear()
        self._rearm.set()
        self._rearmed.wait(timeout)

    def first_after(self, moment: float) -> float | None:
        times = list(self.exists_at)
        index = bisect.bisect_left(times, moment)
        return times[index] if index < len(times) else None

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        try:
            self._client.idle_done()
            self._client.logout()
        except Exception:  # best effort at the end of a phase
            self._client.shutdown()


def in_reply_to(path: Path) -> str:
    """The In-Reply-To of an acknowledgment file (responder and Sieve vacation both set it)."""
    with path.open("rb") as handle:
        headers = BytesHeaderParser().parse(handle)
    return str(headers.get("In-Reply-To", "")).strip()


def warm_up(stack: MailStack, mails: Sequence[Mail], timeout: float = 20.0) -> int:
    """Send a few unmeasured mails and wait for their answers, so that Postfix's and Dovecot's
    worker processes exist and the service's SMTP session is open: steady state, as in
    production. Returns how many were answered."""
    senders = sorted({m.envelope_from for m in mails})
    with NewFiles({s: maildir_new(stack, s) for s in senders}) as watch:
        with smtp(stack) as session:
            for mail in mails:
                session.sendmail(mail.envelope_from, [SUPPORT], mail.raw)
        return len(watch.wait_for(None, len(mails), timeout))
