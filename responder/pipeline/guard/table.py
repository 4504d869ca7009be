"""The guard's rule table, in order, and judge(): the first rule that matches refuses.

Read the `kind` column before adding a rule: "content+" rules (phrases) refuse only
together with a second, non-content machine signal; every other kind refuses alone.
"""

from __future__ import annotations

from responder.pipeline.guard import headers as h
from responder.pipeline.guard import machine as m
from responder.pipeline.guard.bounce import bounce_detector
from responder.pipeline.guard.facts import Facts
from responder.pipeline.guard.model import GuardContext, Rule, Verdict
from responder.pipeline.parse import ParsedMessage

RULES: tuple[Rule, ...] = (
    Rule("no-sender", "sender", "no usable sender address to answer", h.no_sender),
    Rule(
        "multiple-senders", "sender", "more than one From or Reply-To address", h.multiple_senders
    ),
    Rule("own-address", "loop", "sent by, or replying to, one of our own addresses", h.own_address),
    Rule("x-loop", "loop", "X-Loop names one of our addresses: it has been through us", h.x_loop),
    Rule(
        "exchange-rules-loop",
        "loop",
        "Exchange inbox rules already acted on it",
        h.exchange_rules_loop,
    ),
    Rule(
        "delivery-report",
        "structure",
        "a delivery status notification (bounce, DSN)",
        h.report("delivery-report", "delivery-status"),
    ),
    Rule(
        "read-receipt",
        "structure",
        "a message disposition notification (read receipt, MDN)",
        h.report("read-receipt", "disposition-notification"),
    ),
    Rule(
        "abuse-report",
        "structure",
        "an abuse feedback report (ARF)",
        h.report("abuse-report", "feedback-report"),
    ),
    Rule(
        "calendar-reply", "structure", "a calendar invitation's automatic reply", h.calendar_reply
    ),
    Rule(
        "auto-submitted",
        "headers",
        "Auto-Submitted says a machine sent it (RFC 3834)",
        h.auto_submitted,
    ),
    Rule(
        "autoreply-header",
        "headers",
        "a vendor auto-reply header (X-Autoreply and kin)",
        h.autoreply_header,
    ),
    Rule(
        "auto-response-suppress",
        "headers",
        "the sender asked for no auto-responses",
        h.auto_response_suppress,
    ),
    Rule("precedence", "headers", "Precedence bulk, junk, list or auto_reply", h.precedence),
    Rule("list-header", "headers", "sent through a mailing list (List-* header)", h.list_header),
    Rule(
        "null-return-path", "sender", "empty envelope sender: a system message", h.null_return_path
    ),
    Rule("system-sender", "sender", "a mail system or list robot address", h.system_sender),
    Rule("noreply-sender", "sender", "the sender says not to reply", h.noreply_sender),
    Rule("spam", "headers", "the spam filter flagged it", h.spam),
    # Machine mail without RFC 3834 headers (issue #11).
    Rule("any-report", "structure", "a multipart/report of any report-type, or none", m.any_report),
    Rule("ndr-header", "headers", "a header only non-delivery reports carry", m.ndr_header),
    Rule(
        "robot-header",
        "headers",
        "a header only list managers and challenge-response robots write",
        m.robot_header,
    ),
    Rule(
        "system-return-path",
        "sender",
        "envelope sender MAILER-DAEMON/postmaster, or a null path written oddly",
        m.system_return_path,
    ),
    Rule(
        "delivery-system-sender",
        "sender",
        "From names a delivery system or mail gateway robot",
        m.delivery_system_sender,
    ),
    Rule(
        "bounce-detector",
        "detector+",
        "flufl.bounce finds failed recipients, and a second machine signal confirms it",
        bounce_detector,
    ),
    Rule(
        "quoted-rejected-message",
        "structure+content",
        "a returned message (rfc822 or rfc822-headers part) under a delivery-failure phrase",
        m.quoted_rejected_message,
    ),
    Rule(
        "abuse-complaint",
        "structure+content",
        "multipart/mixed with the offending message attached, under a complaint phrase",
        m.abuse_complaint,
    ),
    Rule(
        "machine-subject",
        "content+",
        "a bounce, vacation or complaint subject, and a second machine signal",
        m.machine_subject,
    ),
    Rule(
        "machine-notice",
        "content+opening",
        "a bounce or vacation subject, and a body that opens with the same kind of notice",
        m.machine_notice,
    ),
    Rule(
        "machine-body",
        "content+",
        "a bounce or vacation phrase in the body, and a second machine signal",
        m.machine_body,
    ),
)


def judge(message: ParsedMessage, context: GuardContext) -> Verdict:
    """The first matching rule refuses; no rule matching means we may reply.

    Either way the verdict carries evidence: the refusing rule's, or the signals that fired
    on mail we answer (a vacation phrase without a second machine signal, for instance).
    """
    facts = Facts(message, context)
    for rule in RULES:
        found = rule.check(facts, context)
        if found:
            return Verdict(False, rule.name, found)
    return Verdict(True, None, m.lone_signals(facts))
