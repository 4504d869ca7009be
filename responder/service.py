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
import functools
import logging
import random
import signal
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import Future, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TextIO

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from responder.config import Config
from responder.conversation import History, normalize_subject
from responder.errors import PermanentError, ResponderError, TransientError
from responder.imap import Mailbox
from responder.ledger import Ledger, NewMessage, Record
from responder.parse import parse
from responder.pipeline import Decision, Pipeline
from responder.smtp import SenderPool
from responder.systemd import Notifier

log = logging.getLogger("responder")
SEND_ATTEMPTS = 3
ACK_RETRY_CAP = 300.0  # seconds between retries of a queued acknowledgment, at most
RECONNECT_CAP = 5.0  # seconds between IMAP reconnection attempts, at most


@dataclass
class Plan:
    """What to do with one INBOX message, once decided and recorded."""

    uid: int
    key: str
    folder: str
    flags: list[str] = field(default_factory=list)
    ack: tuple[str, bytes] | None = None  # (recipient, bytes) of a newly recorded acknowledgment


def _log_retry(what: str) -> Callable[[RetryCallState], None]:
    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "%s failed (attempt %d), retrying in %.1fs: %s", what, state.attempt_number, wait, error
        )

    return before_sleep


class Service:
    def __init__(self, config: Config, ledger: Ledger, pipeline: Pipeline | None = None) -> None:
        self.config = config
        self.ledger = ledger
        self.pipeline = pipeline or Pipeline(config)
        self.history = History(ledger, config.limits)
        self.mailbox = Mailbox(config.imap, config.folders.inbox)
        self.senders = SenderPool(
            config.smtp, config.reply.envelope_sender, config.service.smtp_connections
        )
        self.smtp_down = threading.Event()
        self.notifier = Notifier()
        self.stop_requested = threading.Event()
        self.smtp_paused_until = 0.0
        self._sent_folder: str | None = None

    # --- the loop ---

    def run(self, once: bool = False) -> int:
        ready = False
        while not self.stop_requested.is_set():
            try:
                self.connect()
                self.drain()
                self.flush_pending_acks()
                self.copy_acks_to_sent()
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
        self.mailbox.close()
        self.senders.close()
        return 0

    def connect(self) -> None:
        """(Re)connect to IMAP with capped exponential backoff; gives up only on a stop request."""
        if self.mailbox.connected:
            return
        for attempt in Retrying(
            retry=retry_if_exception_type(TransientError),
            wait=wait_exponential_jitter(initial=0.5, max=RECONNECT_CAP),
            stop=lambda _: self.stop_requested.is_set(),
            sleep=self._sleep,
            before_sleep=_log_retry(f"IMAP connection to {self.config.imap.endpoint}"),
            reraise=True,
        ):
            with attempt:
                self.mailbox.connect()

    def _sleep(self, seconds: float) -> None:
        """Sleep that wakes on a stop request and keeps the watchdog fed."""
        deadline = time.monotonic() + seconds
        while not self.stop_requested.is_set() and time.monotonic() < deadline:
            self.notifier.watchdog()
            self.stop_requested.wait(min(1.0, deadline - time.monotonic()))

    def _wait_time(self) -> float:
        service = self.config.service
        limit = (
            service.idle_renew
            if service.idle and self.mailbox.has("IDLE")
            else service.poll_interval
        )
        next_retry = self.ledger.next_pending_at()
        if next_retry is not None:
            limit = min(limit, max(1.0, next_retry - time.time()))
        return limit

    # --- one pass over the INBOX ---

    def drain(self) -> int:
        """Handle everything in the INBOX now; returns how many messages were handled."""
        handled = 0
        uids = self.mailbox.search_all()
        size = self.config.service.batch_size
        for start in range(0, len(uids), size):
            if self.stop_requested.is_set():
                break
            self.notifier.watchdog()  # a long backlog must not look like a hang
            handled += self.process(uids[start : start + size])
        return handled

    def process(self, uids: list[int]) -> int:
        fetched = self.mailbox.fetch(uids)
        with self.ledger.transaction():
            plans = [
                plan for uid in uids if uid in fetched if (plan := self._plan(uid, fetched[uid]))
            ]
        # Filing may overlap sending: every acknowledgment is already durably queued.
        sending = self._submit([(plan.key, *plan.ack) for plan in plans if plan.ack is not None])
        self.file(plans)
        self._collect(sending)
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
        return Plan(
            uid,
            record.key,
            record.folder,
            self._flags(decision.queue, decision.priority, decision.reference, record.decision),
            ack,
        )

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
            folder=self._folder(kind, decision.reason, decision.queue),
            thread_ids=(message.message_id,) if message.message_id and kind != "refused" else (),
            ack_message_id=reply.headers["Message-ID"] if reply else None,
            ack_to=reply.to if reply else None,
            ack_bytes=reply.as_bytes() if reply else None,
            respond_by=decision.respond_by.timestamp() if decision.respond_by else None,
        )

    def _plan_for(self, uid: int, known: Record) -> Plan:
        folder = known.folder or self._folder(known.decision, known.reason, known.queue)
        return Plan(
            uid,
            known.key,
            folder,
            self._flags(known.queue, known.priority, known.reference, known.decision),
        )

    def _folder(self, kind: str, reason: str | None, queue: str) -> str:
        folders = self.config.folders
        if kind == "refused":
            return folders.spam if reason == "spam" else folders.refused
        return self.mailbox.folder_path(folders.queue_prefix, queue)

    def _flags(self, queue: str, priority: bool, reference: str | None, kind: str) -> list[str]:
        """IMAP keywords agents see as tags (queue, priority, reference); \\Flagged for priority."""
        if kind == "refused":
            return []
        flags = [queue]
        if priority:
            flags += ["\\Flagged", "priority"]
        if reference and self.config.folders.reference_keywords:
            flags.append(f"#{reference}")
        return flags

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

    # --- sending ---

    def send_acks(self, acks: list[tuple[str, str, bytes]]) -> None:
        """Send recorded acknowledgments (key, recipient, bytes) and wait for the outcome."""
        self._collect(self._submit(acks))

    def _submit(self, acks: list[tuple[str, str, bytes]]) -> dict[Future[None], tuple[str, str]]:
        """Hand acknowledgments to the SMTP pool; each is marked sent by its worker the moment
        the server accepts it (the duplicate window stays one commit wide). After one fails
        for good, the rest are not tried: they stay queued and go out when SMTP is back."""
        if not acks or time.time() < self.smtp_paused_until:
            return {}
        self.smtp_down.clear()
        return {
            self.senders.submit(functools.partial(self._deliver, key, recipient, raw)): (
                key,
                recipient,
            )
            for key, recipient, raw in acks
        }

    def _collect(self, futures: dict[Future[None], tuple[str, str]]) -> None:
        for future in as_completed(futures):
            key, recipient = futures[future]
            error = future.exception()
            if error is not None:
                self._record_failure(key, recipient, error)

    def _deliver(self, key: str, recipient: str, raw: bytes) -> None:
        """Runs in a pool thread: send one acknowledgment, retrying transient failures."""
        if self.smtp_down.is_set():
            raise TransientError("not tried: SMTP unavailable")
        try:
            for attempt in Retrying(
                retry=retry_if_exception_type(TransientError),
                wait=wait_exponential_jitter(initial=0.2, max=2.0),
                stop=stop_after_attempt(SEND_ATTEMPTS),
                sleep=self._sleep,
                before_sleep=_log_retry(f"sending acknowledgment to {recipient}"),
                reraise=True,
            ):
                with attempt:
                    self.senders.sender().send(recipient, raw)
        except TransientError:
            self.smtp_down.set()
            raise
        self.ledger.mark_sent_concurrently(key)
        log.info("acknowledgment sent to %s", recipient)

    def _record_failure(self, key: str, recipient: str, error: BaseException) -> None:
        if isinstance(error, PermanentError):
            with self.ledger.transaction():
                self.ledger.mark_ack_failed(key, str(error), None)
            log.error("acknowledgment to %s refused for good: %s", recipient, error)
        else:
            retry_at = time.time() + self._ack_backoff(key)
            self.smtp_paused_until = max(self.smtp_paused_until, retry_at)
            with self.ledger.transaction():
                self.ledger.mark_ack_failed(key, str(error), retry_at)
            log.warning(
                "acknowledgment to %s queued for %.0fs: %s",
                recipient,
                retry_at - time.time(),
                error,
            )

    def _ack_backoff(self, key: str) -> float:
        attempts = self.ledger.db.execute(
            "SELECT ack_attempts FROM messages WHERE key = ?", (key,)
        ).fetchone()
        exponent = min(int(attempts[0]) if attempts else 0, 10)
        return float(min(ACK_RETRY_CAP, 2.0 * 2**exponent) * random.uniform(0.8, 1.2))

    def flush_pending_acks(self) -> None:
        """Send acknowledgments queued by an SMTP outage or interrupted by a crash."""
        pending = self.ledger.pending_acks(time.time())
        if pending and not self.stop_requested.is_set():
            if all(p.attempts == 0 for p in pending):
                self.smtp_paused_until = 0.0  # recorded before a crash, never tried: try now
            self.send_acks([(p.key, p.ack_to, p.ack_bytes) for p in pending])

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

    # --- filing ---

    def file(self, plans: list[Plan]) -> None:
        """Flag, then move each group of messages to its folder; then note them filed.

        One STORE per distinct flag (a queue name is shared by many messages), one
        MOVE per folder: the IMAP round trips of a batch do not grow with its size.
        """
        by_flag: dict[str, list[int]] = defaultdict(list)
        by_folder: dict[str, list[int]] = defaultdict(list)
        for plan in plans:
            by_folder[plan.folder].append(plan.uid)
            for flag in plan.flags:
                by_flag[flag].append(plan.uid)
        for flag, uids in by_flag.items():
            self.mailbox.add_flags(uids, [flag])
        for folder, uids in by_folder.items():
            self.mailbox.move(uids, folder)
        with self.ledger.transaction():
            self.ledger.mark_filed([plan.key for plan in plans if plan.key])


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
    from responder.preflight import require_valid_templates

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
