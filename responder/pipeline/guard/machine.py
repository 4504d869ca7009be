"""Rules for machine mail that carries none of the RFC 3834 / vendor headers.

Senders, envelope and structure refuse on their own. Content (a bounce, vacation or
complaint phrase) refuses only with a second, non-content machine signal, so a customer
who writes "my order was returned to sender" or forwards a bounce is still answered.
"""

from __future__ import annotations

import re

from responder.pipeline.guard.facts import Facts
from responder.pipeline.guard.model import Evidence, Found, GuardContext, short
from responder.pipeline.guard.phrases import sender_words
from responder.pipeline.textnorm import fold

_NDR_HEADERS = ("x-failed-recipients", "x-ms-exchange-message-is-ndr")
_SYSTEM_ENVELOPE = {"mailerdaemon", "maildaemon", "postmaster"}  # separators removed
_SEPARATORS = re.compile(r"[-._]")  # post_master@, Mailer.Daemon@: gateways vary the spelling
_COMMENT = re.compile(r"\([^()]*\)")
_ENVELOPE = re.compile(r"<\s*([^<>\s]*)\s*>|([^<>\s]+)")


def any_report(facts: Facts, _: GuardContext) -> Found:
    """multipart/report with any report-type, or none, or a misspelt one (RFC 6522)."""
    types, report_type = facts.outer
    if "multipart/report" in types:
        kind = report_type or "(missing)"
        return (
            Evidence(
                "any-report", "structure", "content-type", f"multipart/report; report-type={kind}"
            ),
        )
    return ()


def ndr_header(facts: Facts, _: GuardContext) -> Found:
    """Headers only a mail system writes on a non-delivery report (Exim, Exchange)."""
    for name in _NDR_HEADERS:
        if name in facts.message.headers:
            value = facts.message.headers[name][0] or "(present)"
            return (Evidence("ndr-header", "headers", name, short(value)),)
    return ()


def is_system_envelope(local: str) -> bool:
    """MAILER-DAEMON, postmaster and kin as envelope sender, whatever the separators."""
    return _SEPARATORS.sub("", local.lower()) in _SYSTEM_ENVELOPE


def robot_header(facts: Facts, _: GuardContext) -> Found:
    """A header only mailing-list managers and challenge-response robots write (data file)."""
    names = facts.book.robot_headers
    if not names.exact and not names.prefixes:
        return ()
    for name in facts.message.headers:
        if name in names.exact or name.startswith(names.prefixes):
            value = facts.message.headers[name][0] or "(present)"
            return (Evidence("robot-header", "headers", name, short(value)),)
    return ()


def system_return_path(facts: Facts, _: GuardContext) -> Found:
    """The envelope sender is a mail system: `< >`, `<> (comment)`, empty, MAILER-DAEMON@..."""
    for value in facts.message.headers.get("return-path", []):
        bare = _COMMENT.sub("", value).strip()
        match = _ENVELOPE.search(bare)
        address = (match.group(1) or match.group(2) or "") if match else ""
        local = address.rpartition("@")[0] if "@" in address else address
        if not address or is_system_envelope(local):
            return (
                Evidence("system-return-path", "sender", "return-path", short(value) or "(empty)"),
            )
    return ()


def delivery_system_sender(facts: Facts, _: GuardContext) -> Found:
    """From names a delivery system or gateway robot, by display name or local part."""
    book = facts.book
    for address in facts.message.senders:
        if address.name and sender_words(address.name) in book.display_names:
            return (Evidence("delivery-system-sender", "sender", "from", short(address.name)),)
        local = fold(address.address.rpartition("@")[0])
        if local in book.local_parts:
            return (Evidence("delivery-system-sender", "sender", "from", address.address),)
    return ()


def _failure_phrase(facts: Facts, rule: str) -> Found:
    book = facts.book
    return facts.phrase(rule, book.bounce_subject, "subject") or facts.phrase(
        rule, book.bounce_body, "body"
    )


def quoted_rejected_message(facts: Facts, _: GuardContext) -> Found:
    """A returned message or its headers attached, and a delivery-failure phrase on top.

    Only mail systems write text/rfc822-headers parts. A whole message/rfc822 is also what
    a person attaches ("delivery failed" above the shop's shipping mail), so then the phrase
    needs a confirming signal too.
    """
    part = facts.quoted_part
    if part is None or facts.is_forward:
        return ()
    phrase = _failure_phrase(facts, "quoted-rejected-message")
    if not phrase:
        return ()
    found = (Evidence("quoted-rejected-message", "structure", "mime", part), *phrase)
    if part != "message/rfc822":
        return found
    return (*found, facts.confirmations[0]) if facts.confirmations else ()


def abuse_complaint(facts: Facts, _: GuardContext) -> Found:
    """A provider's complaint without ARF: multipart/mixed, the offending message attached."""
    types = facts.outer[0]
    if not types or types[0] != "multipart/mixed" or "message/rfc822" not in types[1:]:
        return ()
    if facts.is_forward:
        return ()
    book = facts.book
    phrase = facts.phrase("abuse-complaint", book.complaint_subject, "subject") or facts.phrase(
        "abuse-complaint", book.complaint_body, "body"
    )
    if not phrase:
        return ()
    return (
        Evidence("abuse-complaint", "structure", "mime", "multipart/mixed + message/rfc822"),
        *phrase,
    )


def machine_subject(facts: Facts, _: GuardContext) -> Found:
    """A bounce, vacation or complaint subject, confirmed by a second machine signal."""
    book = facts.book
    phrase = (
        facts.phrase("machine-subject", book.bounce_subject, "subject")
        or facts.phrase("machine-subject", book.autoreply_subject, "subject")
        or facts.phrase("machine-subject", book.complaint_subject, "subject")
    )
    if not phrase or facts.is_forward:
        return ()
    second = facts.confirmations
    return (*phrase, second[0]) if second else ()


def machine_body(facts: Facts, _: GuardContext) -> Found:
    """A bounce or vacation phrase at the top of the body, confirmed by a second machine signal."""
    book = facts.book
    phrase = facts.phrase("machine-body", book.bounce_body, "body") or facts.phrase(
        "machine-body", book.autoreply_body, "body"
    )
    if not phrase or facts.is_forward:
        return ()
    second = facts.confirmations
    return (*phrase, second[0]) if second else ()


def machine_notice(facts: Facts, _: GuardContext) -> Found:
    """A bounce or vacation subject, and a body that OPENS with the same kind of notice.

    The one rule where content confirms content, and why it may: the two sit in different
    places and the second is positional. A notice's first sentence is the system (or the
    absent person) speaking: "Your message could not be delivered to", "I am out of the
    office until". A person writing to support opens with a greeting or their own words,
    and speaks of *their* parcel or *your* auto-reply, which these lists do not contain.
    Both must be the same kind: a bounce subject with a bounce opening.
    """
    if facts.is_forward:
        return ()
    book = facts.book
    for subject_phrases, opening_phrases in (
        (book.bounce_subject, book.bounce_opening),
        (book.autoreply_subject, book.autoreply_opening),
    ):
        subject = facts.phrase("machine-notice", subject_phrases, "subject")
        if not subject:
            continue
        opening = facts.phrase("machine-notice", opening_phrases, "opening")
        if opening:
            return (*subject, *opening)
    return ()


def lone_signals(facts: Facts) -> Found:
    """For mail we answer: the content and weak signals that fired without refusing it."""
    book = facts.book
    found: list[Evidence] = []
    for phrases, where in (
        (book.bounce_subject, "subject"),
        (book.autoreply_subject, "subject"),
        (book.complaint_subject, "subject"),
        (book.bounce_body, "body"),
        (book.autoreply_body, "body"),
    ):
        found.extend(facts.phrase("content-only", phrases, where))
    found.extend(facts.second_signals)
    return tuple(found)
