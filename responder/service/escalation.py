"""Keep the promise: the escalation ladder, run from the service loop with an injected clock.

Per promise, with W its window in business time (see promises.py for the states):
  warn_at × W    flag the customer's message \\Flagged + $PromiseWarn (removed again when kept)
  notify_at × W  a short, threaded note to the supervisor (also for answered-unverified)
  update_at × W  one honest update to the customer, a new promise (never twice per conversation)
  W              the deadline: record a breach; if the update never went out (the service
                 was down through that step), send it now, saying the promise was not kept

Every step is gated by a conditional UPDATE of its `*_at` column, so it happens once however
often `tick` runs; mail is recorded with its Message-ID before it is sent (promise_mail), so a
crash in between sends it once after the restart. Just before acting, the watcher is polled
again (forced) so nothing fires after a reply went out. People-facing steps wait while the
calendar says closed, unless the queue opts in (`after_hours`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from imapclient import IMAPClient

from responder.config import Config
from responder.config.duration import parse_duration
from responder.errors import ResponderError
from responder.pipeline.deadline import Deadlines
from responder.pipeline.decide import Decision, Pipeline
from responder.service.evidence import Recorder
from responder.service.ladder_mail import LadderMail
from responder.service.laddersend import LadderOutbox
from responder.service.ledger import Ledger
from responder.service.promises import NewPromise, OutgoingMail, Promise, PromiseBook
from responder.service.smtp import Sender
from responder.service.warnflag import WarnFlags
from responder.service.watcher import FolderWatcher, SeenMessage, open_client

log = logging.getLogger("responder.promises")


class PromiseKeeper:
    def __init__(
        self,
        config: Config,
        ledger: Ledger,
        queues: tuple[str, ...],
        clock: Callable[[], float] = time.time,
        connect: Callable[[], IMAPClient] | None = None,
        sender: Sender | None = None,
    ) -> None:
        self.config = config
        self.enabled = config.promises.enabled
        self.consumers: list[Callable[[list[SeenMessage]], None]] = []
        self.ledger = ledger
        self.clock = clock
        self.book = PromiseBook(ledger.db)
        self.deadlines = Deadlines(config)
        self.connect = connect or (lambda: open_client(config.imap))
        self.sender = sender or Sender(config.smtp, config.reply.envelope_sender)
        self.mail = LadderMail(config)
        self.queues = queues
        self.recorder = Recorder(config, self.book, ())
        self.watcher = FolderWatcher(
            self.connect, ledger.db, clock, config.promises.check_interval, config.imap.endpoint
        )
        self.flags = WarnFlags(self.connect, [], config.imap.endpoint)
        self.outbox = LadderOutbox(ledger, self.book, self.sender, self.flags, "Sent")
        self._folders_known = False

    def _find_folders(self) -> None:
        """Once, from the server: its hierarchy delimiter (Queues/billing or INBOX.Queues.billing)
        and its \\Sent folder, as the service's own session finds them."""
        if self._folders_known:
            return
        folders = self.config.folders
        delimiter, sent = self.flags.discover(folders.sent)
        queue_folders = [delimiter.join([folders.queue_prefix, q]) for q in self.queues]
        sent_like = [sent, *self.config.promises.evidence_folders]
        self.recorder.sent_folders = frozenset(sent_like)
        self.flags.folders = [folders.inbox, *queue_folders]
        self.outbox.sent_folder = sent
        if self.enabled:
            self.watcher.watch(*sent_like, folders.inbox, *queue_folders, folders.refused)
        self._folders_known = True

    @classmethod
    def for_service(cls, config: Config, ledger: Ledger, pipeline: Pipeline) -> PromiseKeeper:
        """The service's keeper: the pipeline's clock and queues (a no-op when disabled)."""
        return cls(config, ledger, pipeline.router.queues, pipeline.clock)

    @property
    def interval(self) -> float:
        """How long the service may wait (in IDLE) before the next tick."""
        watching = self.enabled or self.consumers
        return self.config.promises.check_interval if watching else float("inf")

    def subscribe(
        self, consumer: Callable[[list[SeenMessage]], None], *folders: str, backfill: bool = False
    ) -> None:
        """Another user of the one folder watcher (WATCHER.md): it gets every batch of changes."""
        self.watcher.watch(*folders, backfill=backfill)
        self.consumers.append(consumer)

    # --- promises made ---

    def record_ack(self, decision: Decision, now: float | None = None) -> None:
        """Record the promise an acknowledgment makes (inside the caller's transaction).
        A failure here costs the promise, never the message: it is logged, not raised."""
        if not self.enabled or decision.reply is None or decision.follow_up:
            return  # a follow-up note repeats an existing promise; it makes no new one
        self.ledger.db.execute("SAVEPOINT promise")
        try:
            self._record_ack(decision, self.clock() if now is None else now)
            self.ledger.db.execute("RELEASE promise")
        except Exception:
            self.ledger.db.execute("ROLLBACK TO promise")
            self.ledger.db.execute("RELEASE promise")
            log.exception("promise for %s not recorded; the acknowledgment goes out", decision.key)

    def _record_ack(self, decision: Decision, now: float) -> None:
        reply, message = decision.reply, decision.message
        if reply is None or decision.respond_by is None:
            return
        policy = self.deadlines.policy(decision.queue, decision.priority)
        calendar = self.deadlines.calendar(policy)
        made = _moment(now)
        window = policy.window

        def step(fraction: float) -> float:
            return calendar.add(made, window * fraction).timestamp()

        self.book.add(
            NewPromise(
                message_key=decision.key,
                message_id=(message.message_id or "").strip("<>") or None,
                conversation=decision.reference,
                queue=decision.queue,
                priority=decision.priority,
                language=reply.headers.get("Content-Language", decision.language),
                customer=reply.to,
                customer_name=message.reply_target[0].name if message.reply_target else "",
                subject=message.subject,
                calendar=policy.calendar,
                window=window.total_seconds(),
                made_at=now,
                due_at=decision.respond_by.timestamp(),
                text=reply.body,
                sent_message_id=reply.headers["Message-ID"],
                warn_due=step(policy.warn_at),
                notify_due=step(policy.notify_at),
                update_due=step(policy.update_at),
            )
        )

    # --- the ladder ---

    def tick(self, now: float | None = None) -> None:
        """Look for answers (cheaply), take the steps that are due, send what is recorded.
        A server failure is logged and the round skipped: every step is retried next tick."""
        if not (self.enabled or self.consumers):
            return
        try:
            self._tick(self.clock() if now is None else now)
        except ResponderError as exc:  # the server said no, or is away: every step waits
            log.warning("promises: %s; trying again next round", exc)
        except Exception:  # a fault here must never stop acknowledgments
            log.exception("promises: unexpected failure; the service goes on")

    def _tick(self, now: float) -> None:
        self._find_folders()
        self._observe(self._poll(False), now)
        if not self.enabled:
            return
        if any(self._due(p, now) for p in self.book.active() + self.book.late_owed()):
            self._observe(self._poll(True), now)  # re-check just before acting
            for promise in self.book.active() + self.book.late_owed():
                if self._due(promise, now):
                    self._act(promise, now)
        self.flush(now)

    def _poll(self, force: bool) -> list[SeenMessage]:
        changes = self.watcher.poll(force=force)
        for consumer in self.consumers if changes else ():
            try:
                consumer(changes)
            except Exception:  # one consumer's fault must not starve the others
                log.exception("folder watcher consumer %r failed", consumer)
        return changes

    def _observe(self, changes: list[SeenMessage], now: float) -> None:
        if not self.enabled:
            return
        with self.ledger.transaction():
            kept = self.recorder.observe(changes, now)
        for promise_id in kept:
            promise = self.book.get(promise_id)
            if promise is not None and promise.warned_at is not None:
                self.flags.clear(promise)

    def _due(self, p: Promise, now: float) -> bool:
        steps = [
            (p.warn_due, p.warned_at, p.state == "open"),
            (p.notify_due, p.notified_at, bool(self.config.promises.supervisor)),
            (p.update_due, p.updated_at, p.state == "open" and not p.is_update),
            (p.due_at, p.broken_at, p.state == "open"),
            (p.due_at, p.updated_at, p.late_update_owed),
        ]
        return any(
            due is not None and now >= due and done is None and ok for due, done, ok in steps
        )

    def _act(self, p: Promise, now: float) -> None:
        policy = self.deadlines.policy(p.queue, p.priority)
        calendar = self.deadlines.calendars[p.calendar]
        if p.state == "open" and now >= p.due_at:
            with self.ledger.transaction():
                if self.book.take_step(p.id, "broken", now):
                    self.book.set_state(p.id, "broken", ("open",))
                    log.warning(
                        "promise %d to %s broken (due %s)", p.id, p.customer, _iso(p.due_at)
                    )
            p = self.book.get(p.id) or p
            if not p.late_update_owed:
                return
        if not (policy.after_hours or calendar.is_open(_moment(now))):
            return  # nobody is there: a reminder at midnight helps no one
        if p.late_update_owed:  # down through the update step: the customer still hears
            self._update(p, now, policy.senior, late=True)  # from us, honestly and late
        if (
            p.state == "open"
            and p.warn_due is not None
            and now >= p.warn_due
            and p.warned_at is None
        ):
            self._warn(p, now)
        if p.notify_due is not None and now >= p.notify_due and p.notified_at is None:
            self._notify(p, now)
        if (
            p.state == "open"
            and not p.is_update
            and p.update_due is not None
            and now >= p.update_due
            and p.updated_at is None
        ):
            self._update(p, now, policy.senior)

    def _warn(self, p: Promise, now: float) -> None:
        found = self.flags.warn(p)
        with self.ledger.transaction():
            if found is not None:
                self.book.locate(p.message_id or "", found.folder, found.uid)
                self.book.note_flagged(p.id, found.added_flagged)
            self.book.take_step(p.id, "warned", now)
        log.info("promise %d: 75%% of the window used, flagged (%s)", p.id, found or "not found")

    def _notify(self, p: Promise, now: float) -> None:
        if not self.config.promises.supervisor:
            return
        zone = self.deadlines.calendars[p.calendar].spec.timezone
        soon = [
            o
            for o in self.book.active()
            if o.id != p.id and o.due_at <= now + 86400 and o.state == "open"
        ]
        message = self.mail.notice(p, soon[:20], zone, now)
        with self.ledger.transaction():
            if self.book.take_step(p.id, "notified", now):
                self.book.queue_mail(
                    OutgoingMail(
                        str(message["Message-ID"]),
                        p.id,
                        "notice",
                        self.config.promises.supervisor,
                        message.as_bytes(),
                    ),
                    now,
                )

    def _update(self, p: Promise, now: float, senior: str, late: bool = False) -> None:
        if not senior:
            log.warning("promise %d: no promises.senior configured, so no customer update", p.id)
            with self.ledger.transaction():
                self.book.take_step(p.id, "updated", now)
            return
        calendar = self.deadlines.calendars[p.calendar]
        setting = self.config.promises.update_window
        window = parse_duration(setting) if setting else timedelta(seconds=p.window)
        new_due = calendar.add(_moment(max(p.due_at, now)), window)
        reply = self.mail.update(p, new_due, window, senior, calendar.spec.timezone, now, late)
        message_id = reply.headers["Message-ID"]
        with self.ledger.transaction():
            if not self.book.take_step(p.id, "updated", now):
                return
            self.book.set_state(p.id, "updated", ("open",))
            self.book.queue_mail(
                OutgoingMail(message_id, p.id, "update", p.customer, reply.as_bytes()), now
            )
            self.book.add(
                NewPromise(
                    message_key=p.message_key,
                    message_id=p.message_id,
                    conversation=p.conversation,
                    queue=p.queue,
                    priority=p.priority,
                    language=p.language,
                    customer=p.customer,
                    customer_name=p.customer_name,
                    subject=p.subject,
                    calendar=p.calendar,
                    window=window.total_seconds(),
                    made_at=now,
                    due_at=new_due.timestamp(),
                    text=reply.body,
                    sent_message_id=message_id,
                    warn_due=None,
                    notify_due=None,
                    update_due=None,
                    is_update=True,
                    supersedes=p.id,
                    folder=p.folder,
                )
            )
            self.ledger.db.execute(
                "INSERT OR IGNORE INTO thread_ids (message_id, conversation) VALUES (?, ?)",
                (message_id, p.conversation),
            )
        log.info("promise %d: update recorded, new deadline %s", p.id, new_due.isoformat())

    def flush(self, now: float) -> None:
        """Send recorded ladder mail (also what a crash left unsent); copy updates to Sent."""
        self.outbox.flush(now)

    def close(self) -> None:
        if self.enabled or self.consumers:
            self.watcher.close()
        self.sender.close()


def _moment(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _iso(epoch: float) -> str:
    return _moment(epoch).isoformat()
