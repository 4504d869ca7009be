"""The field's bounce detector: flufl.bounce, the library GNU Mailman uses.

flufl.bounce runs one detector per MTA format (RFC 3464 DSN, Exim, Postfix, qmail,
Sendmail/SimpleMatch, Exchange, GroupWise, Yahoo, AOL, SMTP32, Netscape, ...) and
returns the recipients that failed. We rely on all of them, but never on their say alone:
their generic detectors (SimpleMatch, SimpleWarning) match notification wording
anywhere in the message, so they also fire on a customer who forwards a bounce they
received. The rule therefore needs a second, non-content machine signal (see facts.py).

It is also the costliest check (about 5 ms a message on the fixture corpus, against
well under 1 ms for all the others, and seconds on megabytes of text), so it runs only when
the message already has such a second signal, no cheaper rule has refused it, and the
message holds at most MAX_TEXT_BYTES of text.
"""

from __future__ import annotations

import logging
from email.message import Message

from flufl.bounce import all_failures

from responder.pipeline.guard.facts import Facts
from responder.pipeline.guard.model import Evidence, Found, GuardContext
from responder.pipeline.parse import MAX_PARTS

# flufl.bounce logs every detector it runs at INFO, and an exception in a detector at ERROR.
logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)
# Its detectors read every text line of every part, attached messages included: 4 MB of text
# takes it about 8 s. Notifications are small; past this much text we rely on our own rules.
MAX_TEXT_BYTES = 128 * 1024


def _text_size(root: Message) -> int:
    """Characters of text in the whole MIME tree, counted without decoding (bounded walk)."""
    size = 0
    for count, part in enumerate(root.walk()):
        if count >= MAX_PARTS or size > MAX_TEXT_BYTES:
            return MAX_TEXT_BYTES + 1
        if not part.is_multipart() and part.get_content_maintype() in ("text", "message"):
            payload = part.get_payload()
            size += len(payload) if isinstance(payload, str | bytes) else 0
    return size


def failed_recipients(facts: Facts) -> int:
    """How many failed recipients flufl.bounce finds (0 when none, or when it cannot parse)."""
    mime = facts.message.mime
    if mime is None or _text_size(mime) > MAX_TEXT_BYTES:
        return 0
    try:
        temporary, permanent = all_failures(mime)
    except Exception:  # a detector choking on hostile MIME must not stop the guard
        return 0
    return len(temporary) + len(permanent)


def bounce_detector(facts: Facts, _: GuardContext) -> Found:
    second = facts.confirmations
    if not second or facts.is_forward:
        return ()
    count = failed_recipients(facts)
    if not count:
        return ()
    found = Evidence(
        "bounce-detector", "detector", "body", f"flufl.bounce: {count} failed recipient(s)"
    )
    return (found, second[0])
