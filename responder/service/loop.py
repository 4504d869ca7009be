"""The service: fetch → parse → guard → route → render → record → send → file, for as long as it runs.

Stages are ordered so that a crash at any point resumes correctly (see ledger.py): a
batch of messages is decided and recorded — acknowledgments rendered, their Message-IDs
chosen — in one transaction; only then are the acknowledgments sent, each journalled the
moment the relay answers, and only then do the messages leave the INBOX. Whatever
happens while a batch is filed, its acknowledgments in flight are collected before the
batch unwinds. Failures are isolated per message: a message that keeps failing goes to
Quarantine and the service goes on; a failing pass backs off instead of spinning.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Iterator

from tenacity import Retrying, retry_if_exception_type, wait_exponential, wait_random

from responder.config import Config
from responder.errors import CommandRefused, TransientError
from responder.pipeline.decide import Pipeline
from responder.service import auth, metrics
from responder.service.conversation import History
from responder.service.escalation import PromiseKeeper
from responder.service.filing import Filer, Plan
from responder.service.imap import Mailbox
from responder.service.journal import SendJournal
from responder.service.learning import Learner
from responder.service.ledger import Ledger
from responder.service.outbox import Outbox
from responder.service.record import Recorder
from responder.service.retry import interruptible_sleep, log_retry
from responder.service.sentcopy import SentCopier
from responder.service.smtp import SenderPool
from responder.service.systemd import Notifier

log = logging.getLogger("responder")
RECONNECT_CAP = 5.0  # seconds between IMAP reconnection attempts, at most
PASS_RETRY_CAP = 60.0  # seconds between passes that keep failing after a good login, at most
BATCH_BYTES = 8 * 1024 * 1024  # raw mail fetched per round trip, at most (one may exceed it)
DAY = 86400.0


class Service:
    def __init__(self, config: Config, ledger: Ledger, pipeline: Pipeline | None = None) -> None:
        self.config = config
        self.ledger = ledger
        self.pipeline = pipeline or Pipeline(config)
        auth.install(config)  # OAuth token sources, one per account (none for passwords)
        self.history = History(ledger, config.limits)
        self.mailbox = Mailbox(config.imap, config.folders.inbox)
        self.notifier = Notifier()
        self.stop_requested = threading.Event()
        self._sleep = interruptible_sleep(self.stop_requested, self.notifier.watchdog)
        self.senders = SenderPool(
            config.smtp, config.reply.envelope_sender, config.service.smtp_connections
        )
        self.journal = SendJournal(ledger.path.with_name("acks.journal"))
        self.outbox = Outbox(
            ledger, self.senders, self._sleep, self.journal, config.service.uncertain_resend_after
        )
        self.filer = Filer(config.folders, self.mailbox, ledger)
        self.promises = PromiseKeeper.for_service(config, ledger, self.pipeline)  # issue 15
        self.learning = Learner.for_service(config, ledger.db, self.pipeline)  # issue 12
        if self.learning is not None:  # agents' moves between queues, from the same watcher
            self.promises.subscribe(self.learning.observe, *self.learning.folders)
        self.recorder = Recorder(
            config, ledger, self.pipeline, self.history, self.filer, self.promises.record_ack
        )
        self.sent = SentCopier(self.mailbox, ledger, config.folders.sent)
        self._failed_passes = 0
        self._retry_inbox_at: float | None = None  # messages left in the INBOX after a failure
        self._pruned_at = 0.0

    # --- the loop ---

    def run(self, once: bool = False) -> int:
        ready = False
        self.outbox.replay_journal()
        while not self.stop_requested.is_set():
            try:
                self.connect()
                if not ready:  # the watcher's first look comes before the first ack, so an
                    self.promises.tick()  # agent's reply to it can never land before its baseline
                self.drain()
                if not self.stop_requested.is_set():
                    self.outbox.flush_pending()
                self.sent.copy_acks()
                self.promises.tick()
                self._housekeeping()
                self._failed_passes = 0
                if not ready:
                    self.notifier.ready("watching " + self.config.folders.inbox)
                    ready = True
                if once:
                    break
                self.mailbox.wait_for_mail(
                    self._wait_time(),
                    self.stop_requested.is_set,
                    self.notifier.watchdog,
                    use_idle=self.config.service.idle,
                )
            except (TransientError, CommandRefused) as exc:
                self._failed_pass(exc)
        self.notifier.stopping()
        self.close()
        return 0

    def close(self) -> None:
        """Idempotent: `run` closes on its way out, and the daemon again after a crash of it."""
        self.mailbox.close()
        self.senders.close()
        self.journal.close()
        self.promises.close()

    def _failed_pass(self, exc: Exception) -> None:
        """Back off between passes that fail after a good login: a server that keeps saying
        NO must not get hundreds of logins a minute, nor the log thousands of lines."""
        self._failed_passes += 1
        wait = min(PASS_RETRY_CAP, 0.5 * 2 ** min(self._failed_passes - 1, 10))
        wait *= random.uniform(0.8, 1.2)
        level = logging.WARNING if self._failed_passes <= 3 else logging.DEBUG
        if self._failed_passes in (4, 20):
            level = logging.ERROR
        log.log(level, "%s; reconnecting in %.1fs (failure %d)", exc, wait, self._failed_passes)
        self.mailbox.close()
        self._sleep(wait)

    def connect(self) -> None:
        """(Re)connect to IMAP with capped exponential backoff; gives up only on a stop request."""
        if self.mailbox.connected:
            return
        for attempt in Retrying(
            retry=retry_if_exception_type(TransientError),
            wait=wait_exponential(multiplier=0.5, max=RECONNECT_CAP) + wait_random(0, 0.5),
            stop=lambda _: self.stop_requested.is_set(),
            sleep=self._sleep,
            before_sleep=log_retry(f"IMAP connection to {self.config.imap.endpoint}"),
            reraise=True,
        ):
            with attempt:
                self.mailbox.connect()

    def _wait_time(self) -> float:
        service = self.config.service
        limit = (
            service.idle_renew
            if service.idle and self.mailbox.has("IDLE")
            else service.poll_interval
        )
        limit = min(limit, self.promises.interval)
        for due in (self.outbox.next_attempt_at(), self._retry_inbox_at):
            if due is not None:
                limit = min(limit, max(1.0, due - time.time()))
        return limit

    def _housekeeping(self) -> None:
        """Once a day: acknowledgment bodies older than the retention go from the ledger."""
        now = time.time()
        if now - self._pruned_at < DAY:
            return
        self._pruned_at = now
        with self.ledger.transaction():
            pruned = self.ledger.prune_ack_bodies(now - self.config.service.retention_days * DAY)
        if pruned:
            log.info("retention: dropped the bodies of %d old acknowledgments", pruned)

    # --- one pass over the INBOX ---

    def drain(self) -> int:
        """Handle everything in the INBOX now; returns how many messages were handled."""
        handled = 0
        self._retry_inbox_at = None
        uids = self.mailbox.search_all()
        sizes = self.mailbox.sizes(uids) if len(uids) > 1 else {}
        for batch in batches(uids, sizes, self.config.service.batch_size, BATCH_BYTES):
            if self.stop_requested.is_set():
                break
            self.notifier.watchdog()  # a long backlog must not look like a hang
            handled += self.process(batch)
        return handled

    def process(self, uids: list[int]) -> int:
        fetched = self._fetch(uids)
        metrics.seen(len(fetched))
        uidvalidity = self.mailbox.uidvalidity
        arrived = self.mailbox.arrived_at
        with self.ledger.transaction():
            plans = [
                plan
                for uid in uids
                if uid in fetched
                if (plan := self.recorder.plan(uidvalidity, uid, fetched[uid], arrived.get(uid)))
            ]
            if len(plans) < len(uids):
                self._retry_soon()
        # Filing may overlap sending: every acknowledgment is already durably queued.
        sending = self.outbox.submit([(p.key, *p.ack) for p in plans if p.ack is not None])
        try:
            refused = self.filer.file(plans)
        finally:
            self.outbox.collect(sending)  # never leave an acknowledgment in flight
        if refused:
            self._filing_refused(refused)
        self.sent.copy_acks()
        return len(plans)

    def _fetch(self, uids: list[int]) -> dict[int, bytes]:
        """The batch in one FETCH; if the server refuses it, one by one, so that only the
        messages it will not give us are counted against (and end in Quarantine)."""
        try:
            return self.mailbox.fetch(uids)
        except CommandRefused:
            if len(uids) == 1:
                raise
        fetched: dict[int, bytes] = {}
        for uid in uids:
            try:
                fetched |= self.mailbox.fetch([uid])
            except CommandRefused as exc:
                with self.ledger.transaction():
                    plan = self.recorder.failed(self.mailbox.uidvalidity, uid, str(exc))
                if plan is not None:
                    self._filing_refused(self.filer.file([plan]))
        return fetched

    def _filing_refused(self, refused: list[tuple[Plan, str]]) -> None:
        """Messages the server would not file stay in the INBOX, counted; at the limit they
        go to Quarantine (and if even that is refused, they stay, and the log says why)."""
        self._retry_soon()
        for why in dict.fromkeys(why for _, why in refused):  # one line per reason, not per uid
            count = sum(1 for _, reason in refused if reason == why)
            log.error("%d message(s) left in the INBOX for now: %s", count, why)
        with self.ledger.transaction():
            quarantine = [
                plan
                for failed, why in refused
                if failed.folder != self.config.folders.quarantine
                if (
                    plan := self.recorder.failed(
                        self.mailbox.uidvalidity, failed.uid, why, quiet=True
                    )
                )
            ]
        for plan, why in self.filer.file(quarantine):
            log.error("uid %d: cannot even be quarantined, left in the INBOX: %s", plan.uid, why)

    def _retry_soon(self) -> None:
        wait = min(PASS_RETRY_CAP, 2.0 * 2 ** min(self._failed_passes, 5))
        self._retry_inbox_at = time.time() + wait


def batches(
    uids: list[int], sizes: dict[int, int], max_count: int, max_bytes: int
) -> Iterator[list[int]]:
    """Consecutive runs of at most `max_count` messages and `max_bytes` (a bigger message
    goes alone): memory then depends on the batch, not on the size of the backlog."""
    batch: list[int] = []
    total = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if batch and (len(batch) >= max_count or total + size > max_bytes):
            yield batch
            batch, total = [], 0
        batch.append(uid)
        total += size
    if batch:
        yield batch
