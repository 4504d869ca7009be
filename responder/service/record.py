"""Record: decide one INBOX message and write the decision, acknowledgment included, to the ledger.

Runs inside the batch's transaction, before anything is sent or moved. A message the
ledger already knows (a redelivery, a crash before filing) gets a filing plan from its
recorded decision and never a second acknowledgment. A message that fails here is
counted; after `service.max_attempts` it goes to Quarantine.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from responder.config import Config
from responder.pipeline.decide import Decision, Pipeline
from responder.pipeline.parse import ParsedMessage, parse
from responder.pipeline.threads import normalize_subject
from responder.service.conversation import History
from responder.service.filing import Filer, Plan
from responder.service.ledger import Ledger, NewMessage, Record

log = logging.getLogger("responder")


class Recorder:
    def __init__(
        self,
        config: Config,
        ledger: Ledger,
        pipeline: Pipeline,
        history: History,
        filer: Filer,
        on_record: Callable[[Decision], None] = lambda decision: None,
    ) -> None:
        self.config = config
        self.on_record = on_record  # the promise an acknowledgment makes, in the same transaction
        self.ledger = ledger
        self.pipeline = pipeline
        self.history = history
        self.filer = filer

    def plan(self, uidvalidity: int, uid: int, raw: bytes) -> Plan | None:
        """Decide and record one message; a failure is counted and, when repeated, quarantined."""
        self.ledger.db.execute("SAVEPOINT message")
        try:
            plan = self._decide_and_record(uidvalidity, uid, raw)
            self.ledger.db.execute("RELEASE message")
            return plan
        except Exception as exc:
            self.ledger.db.execute("ROLLBACK TO message")
            self.ledger.db.execute("RELEASE message")
            return self.failed(uidvalidity, uid, f"processing failed: {type(exc).__name__}: {exc}")

    def failed(self, uidvalidity: int, uid: int, why: str, quiet: bool = False) -> Plan | None:
        """Count a failure at one message; at the limit, plan its way to Quarantine."""
        attempts = self.ledger.note_failure(uidvalidity, uid, why)
        if not quiet:
            log.error("uid %d: %s (attempt %d)", uid, why, attempts)
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

    def _decide_and_record(self, uidvalidity: int, uid: int, raw: bytes) -> Plan:
        message = parse(raw)
        known = self._known(message)
        if known is not None:
            log.info(
                "uid %d: already handled (%s), filing without a second acknowledgment",
                uid,
                known.decision,
            )
            return self._plan_for(uid, known, message.message_id)
        decision = self.pipeline.decide_parsed(message, history=self.history)
        record = self._new_message(uidvalidity, uid, decision)
        self.ledger.record(record)
        self.on_record(decision)
        self._settle_uncertain(message, raw, record.decision)
        self._log_decision(uid, decision)
        ack = (record.ack_to, record.ack_bytes) if record.ack_to and record.ack_bytes else None
        flags = self.filer.flags_for(
            record.decision, decision.queue, decision.priority, decision.reference
        )
        return Plan(uid, record.key, record.folder, flags, ack)

    def _known(self, message: ParsedMessage) -> Record | None:
        known = self.ledger.get(message.key)
        if known is None and message.message_id:
            # Ledgers written before keys carried a digest: the same Message-ID from the same
            # sender with the same subject is the same message.
            sender = message.reply_target[0].address.lower() if message.reply_target else ""
            known = self.ledger.get_legacy(
                message.message_id, sender, normalize_subject(message.subject)
            )
        return known

    def _settle_uncertain(self, message: ParsedMessage, raw: bytes, kind: str) -> None:
        """An answer to an uncertain acknowledgment proves it arrived; a bounce quoting it,
        that it did not. Cheap: only looked for while something is uncertain."""
        uncertain = self.ledger.uncertain_message_ids()
        if not uncertain:
            return
        for message_id in (*message.in_reply_to, *message.references):
            key = uncertain.get(f"<{message_id.strip('<>')}>") or uncertain.get(message_id)
            if key and kind != "refused":
                self.ledger.settle_uncertain(key, True, "the customer answered it")
        if kind == "refused":
            for message_id, key in uncertain.items():
                if message_id.strip("<>").encode() in raw:
                    self.ledger.settle_uncertain(key, False, "a delivery report quotes it")

    def _new_message(self, uidvalidity: int, uid: int, decision: Decision) -> NewMessage:
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
            uidvalidity=uidvalidity,
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

    def _plan_for(self, uid: int, known: Record, message_id: str | None) -> Plan:
        folder = known.folder or self.filer.folder_for(known.decision, known.reason, known.queue)
        flags = self.filer.flags_for(known.decision, known.queue, known.priority, known.reference)
        return Plan(uid, known.key, folder, flags, message_id=message_id, again=not known.filed)

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


def _decision_kind(reason: str | None) -> str:
    """Refusals are filed aside; follow-ups, capped and unauthenticated mail reach a queue."""
    return {
        "follow-up": "follow-up",
        "sender-cap": "capped",
        "global-cap": "capped",
        "unauthenticated": "unacknowledged",
    }.get(reason or "", "refused")
