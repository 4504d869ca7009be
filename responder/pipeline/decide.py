"""The pure middle: raw bytes in, a decision out (parse → guard → language → route → render).

No network, no disk writes; `responder inspect`, the tests and the live service
all call `Pipeline.decide`, so what an admin sees in `inspect` is exactly what
the daemon does.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import make_msgid
from pathlib import Path
from typing import Any

from responder.config import Config
from responder.errors import ConfigError
from responder.pipeline import language
from responder.pipeline.authres import forged_sender
from responder.pipeline.deadline import Deadlines, localized_deadline
from responder.pipeline.echo import safe_name, safe_subject
from responder.pipeline.guard import Evidence, GuardContext, judge, load_phrasebook
from responder.pipeline.parse import ParsedMessage, parse
from responder.pipeline.render import (
    Reply,
    ReplyContext,
    TemplateSet,
    Threading,
    localized_duration,
    render_reply,
)
from responder.pipeline.routing import MessageFacts, Router, RouteResult, load_router
from responder.pipeline.threads import ConversationHistory

_REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud on the phone
REFERENCE_LENGTH = 8


def reference_for(key: str) -> str:
    """A short, stable reference for a message: the same mail always gets the same one."""
    number = int.from_bytes(hashlib.sha256(key.encode("utf-8", "replace")).digest()[:8], "big")
    chars = []
    for _ in range(REFERENCE_LENGTH):
        number, index = divmod(number, len(_REFERENCE_ALPHABET))
        chars.append(_REFERENCE_ALPHABET[index])
    return "".join(chars)


@dataclass(frozen=True)
class Decision:
    """What to do with one message, and why."""

    key: str
    auto_reply: bool
    reason: str | None
    queue: str
    priority: bool
    priority_reasons: tuple[str, ...]
    language: str
    rule: str | None
    reference: str
    message: ParsedMessage = field(repr=False)
    routing: RouteResult | None = None  # the rules' evidence and who decided the queue
    reply: Reply | None = None
    respond_by: datetime | None = None
    follow_up: bool = False  # continues a conversation that already has its acknowledgment
    evidence: tuple[Evidence, ...] = ()  # the guard's signals: why refused, or what fired anyway

    def as_json(self) -> dict[str, Any]:
        reply = None
        if self.reply is not None:
            reply = {
                "to": self.reply.to,
                "subject": self.reply.subject,
                "headers": dict(self.reply.headers),
                "body": self.reply.body,
            }
        return {
            "auto_reply": self.auto_reply,
            "reason": self.reason,
            "queue": self.queue,
            "priority": self.priority,
            "priority_reasons": list(self.priority_reasons),
            "routing": self._routing_json(),
            "language": self.language,
            "reference": self.reference,
            "follow_up": self.follow_up,
            "evidence": [signal.as_json() for signal in self.evidence],
            "reply": reply,
        }

    def _routing_json(self) -> dict[str, Any] | None:
        """The rules' evidence; the queue and source say who decided in the end."""
        if self.routing is None:
            return None
        decided = {"queue": self.queue}
        if self.rule in ("conversation", "forced"):
            decided["source"] = self.rule  # a follow-up joins its conversation's queue
        return self.routing.as_json() | decided


def _check_promise_queues(config: Config, queues: tuple[str, ...]) -> None:
    """A [promises.queues] name no rule routes to would silently keep the default window."""
    for name in config.promises.queues:
        if name != "priority" and name not in queues:
            raise ConfigError(
                f"promises.queues.{name}",
                f"no such queue in the routing rules (queues: {', '.join(queues)}, or priority)",
            )


class Pipeline:
    """Holds what is costly to build once (router, templates, detector) for many decisions."""

    def __init__(
        self,
        config: Config,
        router: Router | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.clock = clock  # injected, so deadlines can be tested on any Friday afternoon
        self.router = router or load_router(config.routing.rules)
        _check_promise_queues(config, self.router.queues)
        self.templates = TemplateSet(Path(config.reply.templates), config.reply.default_language)
        self.guard_context = GuardContext(
            config.mailbox.own_addresses, load_phrasebook(config.guard.phrases)
        )
        self.deadlines = Deadlines(config)

    def decide(self, raw: bytes, **options: Any) -> Decision:
        """Decide one message from its raw bytes; `options` as for decide_parsed()."""
        return self.decide_parsed(parse(raw), **options)

    def decide_parsed(
        self,
        message: ParsedMessage,
        *,
        now: datetime | None = None,
        history: ConversationHistory | None = None,
        force_language: str | None = None,
        force_queue: str | None = None,
    ) -> Decision:
        """Decide one parsed message.

        With `history` (the ledger), follow-ups and capped senders get no reply and
        follow-ups join their conversation's queue; the `force_*` arguments let an
        admin preview another language or queue.
        """
        now = now or datetime.fromtimestamp(self.clock(), UTC)
        verdict = judge(message, self.guard_context)
        reply_cfg = self.config.reply
        lang = force_language or language.detect(
            f"{message.subject}\n{message.new_text}",
            reply_cfg.languages,
            reply_cfg.default_language,
        )
        sender = message.reply_target[0].address.lower() if message.reply_target else ""
        route = self.router.route(MessageFacts(message.subject, message.new_text, sender, lang))
        if force_queue:
            route = replace(route, queue=force_queue, rule="forced")
        reason = verdict.reason
        if reason is None and forged_sender(message, self.config.mailbox.trusted_authserv_ids):
            reason = "unauthenticated"  # filed for a human, never answered
        conversation = reference_for(message.key)
        follow_up = False
        promised: float | None = None
        if history is not None and reason is None:
            consultation = history.consult(message, sender, now.timestamp())
            reason = consultation.cap
            if consultation.thread is not None:
                follow_up = True
                thread = consultation.thread
                conversation, promised = thread.conversation, thread.respond_by
                route = replace(
                    route,
                    queue=thread.queue,
                    rule="conversation",
                    priority=route.priority or thread.priority,
                    priority_reasons=route.priority_reasons
                    + (() if route.priority or not thread.priority else ("conversation",)),
                )
                if not self._sends_follow_up_notes(lang):
                    reason = "follow-up"
            if reason is None:
                history.count_reply(now.timestamp())
        decision = Decision(
            key=message.key,
            auto_reply=reason is None,
            reason=reason,
            queue=route.queue,
            priority=route.priority,
            priority_reasons=route.priority_reasons,
            language=lang,
            rule=route.rule,
            routing=route,
            reference=conversation,
            message=message,
            follow_up=follow_up,
            evidence=verdict.evidence,
        )
        if reason is not None:
            return decision
        return self._with_reply(decision, now, promised)

    def _sends_follow_up_notes(self, language: str) -> bool:
        """Notes are off by default; on, they need a followup template (else: silence, not an error)."""
        return self.config.limits.follow_up_note and (
            self.templates.find(self.templates.body_candidates(language, "", False, follow_up=True))
            is not None
        )

    def _with_reply(
        self, decision: Decision, now: datetime, promised: float | None = None
    ) -> Decision:
        message = decision.message
        # The window counts open hours only (promises.calendar): Friday 15:00 + 4 h is Monday.
        respond_by, policy = self.deadlines.due(decision.queue, decision.priority, now)
        if promised is not None and promised > now.timestamp():  # a follow-up note repeats it
            respond_by = datetime.fromtimestamp(promised, UTC)
        promise = policy.window
        target = message.reply_target[0]
        reply_language = self.templates.reply_language(decision.language)
        zone = self.deadlines.display_zone(policy)
        deadline = localized_deadline(respond_by, reply_language, zone, now)
        context = ReplyContext(
            customer_name=safe_name(
                target.name or (message.senders[0].name if message.senders else "")
            ),
            customer_address=target.address,
            subject=safe_subject(message.subject),
            queue=decision.queue,
            queue_name=self.templates.queue_name(reply_language, decision.queue),
            reference=decision.reference,
            response_time=localized_duration(promise, reply_language),
            respond_by=deadline,
            priority=decision.priority,
            language=reply_language,
            organization=self.config.mailbox.organization,
            support_address=self.config.mailbox.address,
            # The update's variables, defined here too: the linter allows them in every template.
            extra={"senior": policy.senior, "previous_respond_by": deadline, "late": False},
        )
        mailbox = self.config.mailbox
        reply = render_reply(
            self.templates,
            context,
            sender=mailbox.address,
            from_name=mailbox.from_name,
            message_id=make_msgid("ack", domain=mailbox.domain),
            threading=Threading(message.message_id, message.references),
            now=now,
            follow_up=decision.follow_up,
        )
        return replace(decision, reply=reply, respond_by=respond_by)
