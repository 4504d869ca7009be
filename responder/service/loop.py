"""The service: fetch → parse → guard → route → render → record → send → file, for as long as it runs.

Stages are ordered so that a crash at any point resumes correctly (see
ledger.py): a batch of messages is decided and recorded — acknowledgments
rendered, their Message-IDs chosen — in one transaction; only then are the
acknowledgments sent, each marked sent as soon as the server accepts it, and
only then do the messages leave the INBOX. Failures are isolated per message:
a message that keeps failing goes to Quarantine and the service goes on.
"""

from __future__ import annotations

import fcntl
import logging
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TextIO

from tenacity import Retrying, retry_if_exception_type, wait_exponential, wait_random

from responder.config import Config
from responder.errors import ResponderError, TransientError
from responder.pipeline.decide import Decision, Pipeline
from responder.pipeline.parse import parse
from responder.pipeline.threads import normalize_subject
from responder.service.conversation import History
from responder.service.filing import Filer, Plan
from responder.service.imap import Mailbox
from responder.service.learning import MoveLearning
from responder.service.ledger import Ledger, NewMessage, Record
from responder.service.outbox import Outbox
from responder.service.retry import interruptible_sleep, log_retry
from responder.service.smtp import SenderPool
from responder.service.systemd import Notifier

log = logging.getLogger("responder")
RECONNECT_CAP = 5.0  # seconds between IMAP reconnection attempts, at most
BATCH_BYTES = (
    8 * 1024 * 1024
)  # raw mail fetched per round trip, at most (one message may exceed it)


class Service:
    def __init__(self, config: Config, ledger: Ledger, pipeline: Pipeline | None = None) -> None:
        self.config = config
        self.ledger = ledger
        self.pipeline = pipeline or Pipeline(config)
        self.history = History(ledger, config.limits)
        self.mailbox = Mailbox(config.imap, config.folders.inbox)
        self.notifier = Notifier()
        self.stop_requested = threading.Event()
        self._sleep = interruptible_sleep(self.stop_requested, self.notifier.watchdog)
        self.senders = SenderPool(
            config.smtp, config.reply.envelope_sender, config.service.smtp_connections
        )
        self.outbox = Outbox(ledger, self.senders, self._sleep)
        self.filer = Filer(config.folders, self.mailbox, ledger)
        self._sent_folder: str | None = None
        self.moves = MoveLearning(config, ledger.db, self.pipeline, self.mailbox.folder_path)

    # --- the loop ---

    def run(self, once: bool = False) -> int:
        ready = False
        while not self.stop_requested.is_set():
            try:
                self.connect()
                self.drain()
                if not self.stop_requested.is_set():
                    self.outbox.flush_pending()
                self.copy_acks_to_sent()
                self.moves.round()
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
            except TransientError as exc:
                log.warning("%s; reconnecting", exc)
                self.mailbox.close()
        self.notifier.stopping()
        self.moves.close()
        self.mailbox.close()
        self.senders.close()
        return 0

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
        limit = self.moves.wait_limit(limit)
        next_retry = self.ledger.next_pending_at()
        if next_retry is not None:
            limit = min(limit, max(1.0, next_retry - time.time()))
        return limit

    # --- one pass over the INBOX ---

    def drain(self) -> int:
        """Handle everything in the INBOX now; returns how many messages were handled."""
        handled = 0
        uids = self.mailbox.search_all()
        sizes = self.mailbox.sizes(uids) if len(uids) > 1 else {}
        for batch in batches(uids, sizes, self.config.service.batch_size, BATCH_BYTES):
            if self.stop_requested.is_set():
                break
            self.notifier.watchdog()  # a long backlog must not look like a hang
            handled += self.process(batch)
        return handled

    def process(self, uids: list[int]) -> int:
        fetched = self.mailbox.fetch(uids)
        with self.ledger.transaction():
            plans = [
                plan for uid in uids if uid in fetched if (plan := self._plan(uid, fetched[uid]))
            ]
        # Filing may overlap sending: every acknowledgment is already durably queued.
        sending = self.outbox.submit([(p.key, *p.ack) for p in plans if p.ack is not None])
        self.filer.file(plans)
        self.outbox.collect(sending)
        self.copy_acks_to_sent()
        return len(plans)

    def _plan(self, uid: int, raw: bytes) -> Plan | None:
        """Decide and record one message; a failure is counted and, when repeated, quarantined."""
        self.ledger.db.execute("SAVEPOINT message")
        try:
            plan = self._decide_and_record(uid, raw)
            self.ledger.db.execute("RELEASE message")
            return plan
        except Exception as exc:
            self.ledger.db.execute("ROLLBACK TO message")
            self.ledger.db.execute("RELEASE message")
            attempts = self.ledger.note_failure(
                self.mailbox.uidvalidity, uid, f"{type(exc).__name__}: {exc}"
            )
            log.error(
                "uid %d: processing failed (attempt %d): %s: %s",
                uid,
                attempts,
                type(exc).__name__,
                exc,
            )
            if attempts < self.config.service.max_attempts:
                return None
            log.error(
                "uid %d: moved to %s after %d failed attempts",
                uid,
                self.config.folders.quarantine,
                attempts,
            )
            self.ledger.bump("quarantined")
            return Plan(uid, "", self.config.folders.quarantine)

    def _decide_and_record(self, uid: int, raw: bytes) -> Plan:
        message = parse(raw)
        known = self.ledger.get(message.key)
        if known is not None:
            log.info(
                "uid %d: already handled (%s), filing without a second acknowledgment",
                uid,
                known.decision,
            )
            return self._plan_for(uid, known)
        decision = self.pipeline.decide_parsed(message, history=self.history)
        record = self._new_message(uid, decision)
        self.ledger.record(record)
        self._log_decision(uid, decision)
        ack = (record.ack_to, record.ack_bytes) if record.ack_to and record.ack_bytes else None
        flags = self.filer.flags_for(
            record.decision, decision.queue, decision.priority, decision.reference
        )
        return Plan(uid, record.key, record.folder, flags, ack)

    def _new_message(self, uid: int, decision: Decision) -> NewMessage:
        message = decision.message
        reply = decision.reply
        kind = (
            "follow-up"
            if decision.follow_up
            else "reply"
            if reply
            else _decision_kind(decision.reason)
        )
        sender = message.reply_target[0].address.lower() if message.reply_target else ""
        return NewMessage(
            key=decision.key,
            uidvalidity=self.mailbox.uidvalidity,
            uid=uid,
            decision=kind,
            reason=decision.reason,
            queue=decision.queue,
            priority=decision.priority,
            language=decision.language,
            reference=decision.reference,
            conversation=decision.reference if kind != "refused" else None,
            sender=sender,
            subject_norm=normalize_subject(message.subject),
            folder=self.filer.folder_for(kind, decision.reason, decision.queue),
            thread_ids=(message.message_id,) if message.message_id and kind != "refused" else (),
            ack_message_id=reply.headers["Message-ID"] if reply else None,
            ack_to=reply.to if reply else None,
            ack_bytes=reply.as_bytes() if reply else None,
            respond_by=decision.respond_by.timestamp() if decision.respond_by else None,
        )

    def _plan_for(self, uid: int, known: Record) -> Plan:
        folder = known.folder or self.filer.folder_for(known.decision, known.reason, known.queue)
        flags = self.filer.flags_for(known.decision, known.queue, known.priority, known.reference)
        return Plan(uid, known.key, folder, flags)

    def _log_decision(self, uid: int, decision: Decision) -> None:
        verdict = "acknowledge" if decision.auto_reply else f"no acknowledgment ({decision.reason})"
        log.info(
            "uid %d: %s; queue=%s priority=%s language=%s ref=%s",
            uid,
            verdict,
            decision.queue,
            "yes" if decision.priority else "no",
            decision.language,
            decision.reference,
        )

    def copy_acks_to_sent(self) -> None:
        """So agents see what the customer was told; a failure here is retried next pass."""
        copies = self.ledger.uncopied_acks()
        if not copies:
            return
        if self._sent_folder is None:
            self._sent_folder = self.mailbox.sent_folder(self.config.folders.sent)
        self.mailbox.append(self._sent_folder, [raw for _, raw in copies])
        with self.ledger.transaction():
            self.ledger.mark_copied([key for key, _ in copies])


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


def _decision_kind(reason: str | None) -> str:
    return {"follow-up": "follow-up", "sender-cap": "capped", "global-cap": "capped"}.get(
        reason or "", "refused"
    )


@contextmanager
def state_lock(state_dir: Path) -> Iterator[None]:
    """One service per state directory: two would acknowledge the same mail twice."""
    state_dir.mkdir(parents=True, exist_ok=True)
    handle: TextIO = (state_dir / "lock").open("w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise ResponderError(
            f"another responder is already running with state directory {state_dir}"
        ) from None
    try:
        yield
    finally:
        handle.close()


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def run(config: Config, once: bool = False) -> int:
    """`responder run`: lint the templates, take the state lock, serve until SIGTERM."""
    configure_logging(config.service.log_level)
    from responder.lint.preflight import require_valid_templates

    require_valid_templates(config)
    state_dir = config.state_dir()
    with state_lock(state_dir):
        ledger = Ledger.in_state_dir(state_dir)
        service = Service(config, ledger)
        _install_signal_handlers(service)
        log.info(
            "responder starting: %s as %s, state in %s",
            config.imap.endpoint,
            config.imap.username,
            state_dir,
        )
        try:
            return service.run(once=once)
        finally:
            ledger.close()
            log.info("responder stopped")


def _install_signal_handlers(service: Service) -> None:
    """First SIGTERM/SIGINT: finish the message in hand and exit; a second one: exit now."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        if service.stop_requested.is_set():
            raise SystemExit(128 + signum)
        log.info("signal %d: finishing the message in hand, then stopping", signum)
        service.stop_requested.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
