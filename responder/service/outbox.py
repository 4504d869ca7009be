"""Send: recorded acknowledgments go out over the SMTP pool; what cannot go out stays queued.

Every acknowledgment is in the ledger (bytes and Message-ID) before it gets here. What
happens to it depends on *where* the send failed, because that says what a retry would do:

- the relay refuses everyone (connect, greeting, EHLO, AUTH, MAIL FROM, a 421, a connection
  lost before the end of DATA): an **outage**. Nothing is marked failed; sending pauses with
  exponential backoff (one warning when it starts, one line when it ends) and everything
  still queued goes out when the relay is back.
- the relay refuses this message (RCPT, DATA or end of DATA): 4xx reschedules it with
  backoff, 5xx marks it `failed` (`responder requeue` sends it again on purpose).
- the reply to the end of DATA never came: **uncertain**. The relay probably has the mail,
  so it is not sent again at once. It is resent after `service.uncertain_resend_after`
  seconds (0: never) unless something says it arrived (the customer answered it) or
  bounced, in which case it is settled as `sent` or `failed`.

In-flight acknowledgments are always collected before a batch unwinds, and a worker
re-checks the ledger and the journal just before each send, so nothing is ever handed to
the relay twice by this process.
"""

from __future__ import annotations

import functools
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, as_completed

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_fixed

from responder.errors import (
    RecipientDeferred,
    RecipientRefused,
    RelayUnavailable,
    UncertainDelivery,
)
from responder.service.journal import ACCEPTED, NOT_ACCEPTED, SENDING, SendJournal
from responder.service.ledger import Ledger
from responder.service.retry import log_retry
from responder.service.smtp import SenderPool

log = logging.getLogger("responder")
ACK_RETRY_CAP = 300.0  # seconds between retries of one deferred acknowledgment, at most
OUTAGE_RETRY_CAP = 120.0  # seconds between attempts while the relay is unavailable, at most
Sending = dict[Future[str], tuple[str, str]]
SKIPPED = "skipped"  # the ledger or the journal says it is no longer ours to send


class Outbox:
    def __init__(
        self,
        ledger: Ledger,
        senders: SenderPool,
        sleep: Callable[[float], None],
        journal: SendJournal,
        uncertain_resend_after: float = 6 * 3600.0,
    ) -> None:
        self.ledger = ledger
        self.senders = senders
        self.sleep = sleep
        self.journal = journal
        self.uncertain_resend_after = uncertain_resend_after
        self.paused_until = 0.0  # during an outage: no new attempt before this time
        self.outage_since: float | None = None
        self._outages = 0  # consecutive failed attempts to reach the relay
        self._down = threading.Event()  # set by a worker that found the relay down
        self._journaled: dict[str, str] = {}  # this process's journal, mirrored
        self._lock = threading.Lock()

    # --- the main thread ---

    def send(self, acks: list[tuple[str, str, bytes]]) -> None:
        """Send recorded acknowledgments (key, recipient, bytes) and wait for the outcome."""
        self.collect(self.submit(acks))

    def submit(self, acks: list[tuple[str, str, bytes]]) -> Sending:
        """Hand acknowledgments to the pool; `collect` must follow, whatever happens between."""
        if not acks or time.time() < self.paused_until:
            return {}
        self._down.clear()
        return {
            self.senders.submit(functools.partial(self._deliver, key, to, raw)): (key, to)
            for key, to, raw in acks
        }

    def collect(self, sending: Sending) -> None:
        """Wait for every submitted acknowledgment and record each outcome in one transaction."""
        outcomes: list[tuple[str, str, str | BaseException]] = []
        for future in as_completed(sending):
            key, to = sending[future]
            error = future.exception()
            outcomes.append((key, to, error if error is not None else future.result()))
        if outcomes:
            with self.ledger.transaction():
                for key, to, outcome in outcomes:
                    self._record(key, to, outcome)
            down = [o for _, _, o in outcomes if isinstance(o, RelayUnavailable)]
            if down:
                self._relay_down(down[0])  # one attempt at the relay, however many acks
        self._fold_journal()

    def flush_pending(self) -> None:
        """Send what an outage, a deferral, or a crash left queued, and settle the uncertain."""
        now = time.time()
        if self.uncertain_resend_after > 0:
            for key in self.ledger.uncertain_due(now):
                log.warning(
                    "acknowledgment %s: still uncertain, sending it again as configured", key
                )
                with self.ledger.transaction():
                    self.ledger.requeue([key])
        if now < self.paused_until:
            return
        pending = self.ledger.pending_acks(now)
        if pending:
            self.send([(p.key, p.ack_to, p.ack_bytes) for p in pending])

    def next_attempt_at(self) -> float | None:
        """When the next queued acknowledgment may go out (for the service's wait)."""
        due = self.ledger.next_pending_at()
        if due is None:
            return None
        return max(due, self.paused_until)

    def replay_journal(self) -> None:
        """After a crash: what the workers knew and the ledger did not yet."""
        states = self.journal.states()
        if states:
            with self.ledger.transaction():
                for key, state in states.items():
                    if state == ACCEPTED:
                        self.ledger.mark_sent([key])
                    elif state == SENDING:
                        self._mark_uncertain(key, "the service stopped after the end of DATA")
        self.journal.clear()

    # --- pool threads ---

    def _deliver(self, key: str, recipient: str, raw: bytes) -> str:
        if self._down.is_set():
            raise RelayUnavailable("not tried: the relay is unavailable")
        with self._lock:
            journaled = self._journaled.get(key)
        if journaled in (SENDING, ACCEPTED) or self.ledger.ack_state_concurrently(key) != "pending":
            return SKIPPED
        try:
            for attempt in Retrying(
                retry=retry_if_exception_type(RelayUnavailable),
                wait=wait_fixed(0.2),
                stop=stop_after_attempt(2),  # a kept-open session the relay dropped: reconnect once
                sleep=self.sleep,
                before_sleep=log_retry(f"sending acknowledgment to {recipient}"),
                reraise=True,
            ):
                with attempt:
                    self.senders.sender().send(
                        recipient, raw, functools.partial(self._note, key, SENDING)
                    )
        except RelayUnavailable:
            self._down.set()
            raise
        except (RecipientDeferred, RecipientRefused):
            if self._journaled.get(key) == SENDING:
                self._note(key, NOT_ACCEPTED)
            raise
        self._note(key, ACCEPTED)
        return ACCEPTED

    def _note(self, key: str, state: str) -> None:
        self.journal.note(key, state)
        with self._lock:
            self._journaled[key] = state

    # --- recording outcomes (main thread, inside a transaction) ---

    def _record(self, key: str, recipient: str, outcome: str | BaseException) -> None:
        if outcome == ACCEPTED:
            self.ledger.mark_sent([key])
            log.info("acknowledgment sent to %s", recipient)
            self._relay_back()
        elif outcome == SKIPPED:
            return
        elif isinstance(outcome, RelayUnavailable):
            return  # stays pending, untouched: the outage is handled once per attempt
        elif isinstance(outcome, RecipientDeferred):
            retry_at = time.time() + self._backoff(self.ledger.ack_attempts(key), ACK_RETRY_CAP)
            self.ledger.mark_ack_failed(key, str(outcome), retry_at)
            log.warning("acknowledgment to %s deferred: %s", recipient, outcome)
            self._relay_back()
        elif isinstance(outcome, RecipientRefused):
            self.ledger.mark_ack_failed(key, str(outcome), None)
            log.error("acknowledgment to %s refused for good: %s", recipient, outcome)
            self._relay_back()
        elif isinstance(outcome, UncertainDelivery):
            self._mark_uncertain(key, str(outcome))
        else:
            raise outcome if isinstance(outcome, BaseException) else AssertionError(outcome)

    def _mark_uncertain(self, key: str, why: str) -> None:
        resend_at = (
            time.time() + self.uncertain_resend_after if self.uncertain_resend_after else None
        )
        if self.ledger.mark_uncertain(key, why, resend_at):
            log.warning("acknowledgment %s: delivery uncertain (%s); not resent now", key, why)

    def _relay_down(self, error: BaseException) -> None:
        self._outages += 1
        wait = self._backoff(self._outages - 1, OUTAGE_RETRY_CAP, base=1.0)
        self.paused_until = max(self.paused_until, time.time() + wait)
        if self.outage_since is None:
            self.outage_since = time.time()
            log.error("SMTP relay unavailable, acknowledgments stay queued: %s", error)
        else:
            log.info("SMTP relay still unavailable, next attempt in %.0fs", wait)

    def _relay_back(self) -> None:
        self._outages = 0
        self.paused_until = 0.0
        if self.outage_since is not None:
            log.warning("SMTP relay back after %.0fs", time.time() - self.outage_since)
            self.outage_since = None

    def _fold_journal(self) -> None:
        """Every outcome is in the ledger now (committed above), so the journal can go."""
        self.journal.clear()
        with self._lock:
            self._journaled.clear()

    @staticmethod
    def _backoff(exponent: int, cap: float, base: float = 2.0) -> float:
        return float(min(cap, base * 2 ** min(exponent, 10)) * random.uniform(0.8, 1.2))
