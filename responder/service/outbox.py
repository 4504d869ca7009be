"""Send: recorded acknowledgments go out over the SMTP pool; what cannot go out stays queued.

Every acknowledgment is in the ledger (bytes and Message-ID) before it gets
here, so an SMTP outage costs nothing but time: failed ones are rescheduled
with capped exponential backoff while routing and filing go on.
"""

from __future__ import annotations

import functools
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, as_completed

from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from responder.errors import PermanentError, TransientError
from responder.service import metrics
from responder.service.ledger import Ledger
from responder.service.retry import log_retry
from responder.service.smtp import SenderPool

log = logging.getLogger("responder")
SEND_ATTEMPTS = 3
ACK_RETRY_CAP = 300.0  # seconds between retries of a queued acknowledgment, at most
Sending = dict[Future[None], tuple[str, str]]


class Outbox:
    def __init__(self, ledger: Ledger, senders: SenderPool, sleep: Callable[[float], None]) -> None:
        self.ledger = ledger
        self.senders = senders
        self.sleep = sleep
        self.paused_until = 0.0  # after an outage: no new attempt before this time
        self._down = threading.Event()  # set by a worker that gave up: the others skip

    def send(self, acks: list[tuple[str, str, bytes]]) -> None:
        """Send recorded acknowledgments (key, recipient, bytes) and wait for the outcome."""
        self.collect(self.submit(acks))

    def submit(self, acks: list[tuple[str, str, bytes]]) -> Sending:
        """Hand acknowledgments to the pool; each is marked sent by its worker the moment the
        server accepts it (the duplicate window stays one commit wide). After one fails for
        good, the rest are not tried: they stay queued and go out when SMTP is back."""
        if not acks or time.time() < self.paused_until:
            return {}
        self._down.clear()
        return {
            self.senders.submit(functools.partial(self._deliver, key, to, raw)): (key, to)
            for key, to, raw in acks
        }

    def collect(self, sending: Sending) -> None:
        """Wait for submitted acknowledgments; record every failure (main thread)."""
        for future in as_completed(sending):
            error = future.exception()
            if error is not None:
                self._record_failure(*sending[future], error)

    def flush_pending(self) -> None:
        """Send acknowledgments queued by an SMTP outage or interrupted by a crash."""
        pending = self.ledger.pending_acks(time.time())
        if not pending:
            return
        if all(p.attempts == 0 for p in pending):
            self.paused_until = 0.0  # recorded before a crash, never tried: try now
        self.send([(p.key, p.ack_to, p.ack_bytes) for p in pending])

    def _deliver(self, key: str, recipient: str, raw: bytes) -> None:
        """Runs in a pool thread: send one acknowledgment, retrying transient failures."""
        if self._down.is_set():
            raise TransientError("not tried: SMTP unavailable")
        try:
            for attempt in Retrying(
                retry=retry_if_exception_type(TransientError),
                wait=wait_exponential(multiplier=0.2, max=2.0) + wait_random(0, 0.2),
                stop=stop_after_attempt(SEND_ATTEMPTS),
                sleep=self.sleep,
                before_sleep=log_retry(f"sending acknowledgment to {recipient}"),
                reraise=True,
            ):
                with attempt:
                    self.senders.sender().send(recipient, raw)
        except TransientError:
            self._down.set()
            raise
        self.ledger.mark_sent_concurrently(key)
        metrics.acknowledged(key)
        log.info("acknowledgment sent to %s", recipient, extra={"key": key})

    def _record_failure(self, key: str, recipient: str, error: BaseException) -> None:
        metrics.smtp_failed(permanent=isinstance(error, PermanentError))
        if isinstance(error, PermanentError):
            with self.ledger.transaction():
                self.ledger.mark_ack_failed(key, str(error), None)
            log.error("acknowledgment to %s refused for good: %s", recipient, error)
            return
        retry_at = time.time() + self._backoff(key)
        self.paused_until = max(self.paused_until, retry_at)
        with self.ledger.transaction():
            self.ledger.mark_ack_failed(key, str(error), retry_at)
        log.warning(
            "acknowledgment to %s queued for %.0fs: %s", recipient, retry_at - time.time(), error
        )

    def _backoff(self, key: str) -> float:
        exponent = min(self.ledger.ack_attempts(key), 10)
        return float(min(ACK_RETRY_CAP, 2.0 * 2**exponent) * random.uniform(0.8, 1.2))
