"""What the machine-mail rules look at, computed once per message and only when asked.

Most mail is refused or let through by the cheap header rules; folding the body, matching
phrase lists and running the bounce detector happen lazily, at most once per message.

The signals here are of two strengths. Content (a bounce or vacation phrase in the subject
or body) never refuses alone. The weak non-content signals below ("second signals": a
sender that looks like software, a server mailer, no Message-ID, RFC 3464 fields in the
text, an attached message) never
refuse alone either; a content rule refuses when one of them confirms it (`confirmations`:
all but the attached message, which only the structure rules use).
"""

from __future__ import annotations

import functools
import re
from email.message import Message

from responder.pipeline.guard.model import Evidence, Found, GuardContext, short
from responder.pipeline.guard.phrases import (
    PhraseBook,
    Phrases,
    load_phrasebook,
    sender_words,
    text_words,
)
from responder.pipeline.parse import MAX_PARTS, ParsedMessage, part_text
from responder.pipeline.textnorm import fold

BODY_CHARS = 3000  # notifications say what they are at the top
# A customer forwarding a bounce or an auto-reply they received: Fwd:, FW:, WG:, TR:, RV:, ...
_FORWARD = re.compile(
    r"^\s*(?:fwd?|wg|tr|rv|enc|doorst|vs|vb|pd|i|rif|fs)\s*:", re.IGNORECASE | re.UNICODE
)
_ADDRESS_IN = re.compile(r"<?\s*([^<>\s@]+)@[^<>\s]*>?")
# RFC 3464 per-recipient fields in a text part: a delivery report with mislabelled parts.
_DSN_FIELDS = re.compile(
    r"^[ \t]*Final-Recipient[ \t]*:.{0,200}?\n(?:.{0,200}\n){0,6}?[ \t]*"
    r"(?:Action[ \t]*:[ \t]*(?:failed|delayed)|Status[ \t]*:[ \t]*[45]\.\d{1,3}\.\d{1,3})",
    re.IGNORECASE | re.MULTILINE,
)
_OPENING_LINES = 12  # blank lines and banners a notice may put above its first sentence
_WORD = re.compile(r"\w\w", re.UNICODE)
_ENCLOSED = ("message/rfc822", "message/global")  # a whole message inside this one
QUOTED_PARTS = ("text/rfc822-headers", "message/rfc822-headers", "message/rfc822")


class Facts:
    """Lazy, per-message view for the rules (a plain class: cached_property needs a __dict__)."""

    def __init__(self, message: ParsedMessage, context: GuardContext) -> None:
        self.message = message
        self.context = context
        self.book: PhraseBook = context.phrases or load_phrasebook()

    @functools.cached_property
    def subject(self) -> str:
        return fold(self.message.subject)

    @functools.cached_property
    def body(self) -> str:
        text = self.message.new_text
        return fold(text[:BODY_CHARS])

    @functools.cached_property
    def subject_words(self) -> frozenset[str]:
        return text_words(self.subject)

    @functools.cached_property
    def body_words(self) -> frozenset[str]:
        return text_words(self.body)

    @functools.cached_property
    def is_forward(self) -> bool:
        return bool(_FORWARD.match(self.message.subject))

    @functools.cached_property
    def outer(self) -> tuple[tuple[str, ...], str]:
        """Part types outside any attached message, and the report-type among them.

        A report inside an attached message/rfc822 is a customer forwarding a bounce they
        received ("Forward as attachment"); only the message's own structure counts.
        """
        root = self.message.mime
        nested = any(t in _ENCLOSED for t in self.message.content_types[1:])
        if root is None or not nested:  # nothing attached: parse's flat view is the same
            return self.message.content_types, self.message.report_type
        types: list[str] = []
        report_type = ""
        stack = [root]
        while stack and len(types) < MAX_PARTS:
            part = stack.pop()
            ctype = part.get_content_type()
            types.append(ctype)
            if ctype == "multipart/report" and not report_type:
                report_type = str(part.get_param("report-type", "") or "").lower()
            if ctype.startswith("message/") or not part.is_multipart():
                continue
            children = part.get_payload()
            if isinstance(children, list):
                stack.extend(child for child in reversed(children) if isinstance(child, Message))
        return tuple(types), report_type

    @functools.cached_property
    def outer_texts(self) -> tuple[str, ...]:
        """The first few text/plain parts outside attached messages (DSN fields hide there)."""
        root = self.message.mime
        if root is None or len(self.message.content_types) == 1:
            return (self.message.new_text[:BODY_CHARS],)
        texts: list[str] = []
        stack = [root]
        while stack and len(texts) < 3:
            part = stack.pop()
            ctype = part.get_content_type()
            if part.is_multipart():
                if not ctype.startswith("message/"):
                    children = part.get_payload()
                    if isinstance(children, list):
                        stack.extend(c for c in reversed(children) if isinstance(c, Message))
            elif ctype == "text/plain":
                texts.append(part_text(part, BODY_CHARS)[:BODY_CHARS])
        return tuple(texts)

    @functools.cached_property
    def quoted_part(self) -> str | None:
        """A quoted message below the top level: a bounce's returned mail, a complaint's spam.

        Headers-only parts first: only mail systems write them.
        """
        types = self.outer[0][1:]
        for ctype in QUOTED_PARTS:
            if ctype in types:
                return ctype
        return None

    @functools.cached_property
    def opening(self) -> str:
        """The body's first line of words, banners and blank lines skipped (folded).

        A notice opens with what it is ("Your message could not be delivered to",
        "I am out of the office until"); a person opens with a greeting or their own
        words, and quotes a notice further down if at all.
        """
        for line in self.body.splitlines()[:_OPENING_LINES]:
            if _WORD.search(line):
                return line.strip()
        return ""

    def phrase(self, rule: str, phrases: Phrases, where: str) -> Found:
        if where == "subject":
            found = phrases.find(self.subject, self.subject_words)
        elif where == "opening":
            found = phrases.find(self.opening, text_words(self.opening))
        else:
            found = phrases.find(self.body, self.body_words)
        return (Evidence(rule, "content", where, found),) if found else ()

    @functools.cached_property
    def second_signals(self) -> Found:
        """Weak non-content machine signals: each is enough to confirm a content rule."""
        found: list[Evidence] = []
        found.extend(self._sender_tokens())
        mailer = self._server_mailer()
        if mailer:
            found.append(mailer)
        if self.quoted_part and not self.is_forward:
            found.append(Evidence("attached-message", "structure", "mime", self.quoted_part))
        if "message-id" not in self.message.headers:
            found.append(Evidence("no-message-id", "headers", "message-id", "(missing)"))
        for text in self.outer_texts:
            dsn = _DSN_FIELDS.search(text)
            if dsn:
                found.append(Evidence("dsn-fields", "structure", "body", short(dsn.group(0))))
                break
        return tuple(found)

    @functools.cached_property
    def confirmations(self) -> Found:
        """The second signals that may confirm a phrase or the bounce detector.

        Not an attached message: people attach mails too (a customer's "delivery failed"
        above the shop's shipping mail), and flufl.bounce reads attachments, so a forwarded
        bounce would confirm itself. An attached message counts only in the structure rules
        (quoted-rejected-message, abuse-complaint), which name the part they need.
        """
        return tuple(e for e in self.second_signals if e.rule != "attached-message")

    def _sender_tokens(self) -> Found:
        """A software word in From's display name or local part, or in the envelope sender."""
        candidates = [("from", a.name) for a in self.message.senders]
        candidates += [("from", a.address.rpartition("@")[0]) for a in self.message.senders]
        for value in self.message.headers.get("return-path", []):
            match = _ADDRESS_IN.search(value)
            if match:
                candidates.append(("return-path", match.group(1)))
        for where, value in candidates:
            token = self.book.sender_tokens.find(sender_words(value))
            if token:
                return (Evidence("software-sender", "sender", where, f"{short(value)} ({token})"),)
        return ()

    def _server_mailer(self) -> Evidence | None:
        for name in ("x-mailer", "user-agent"):
            for value in self.message.headers.get(name, []):
                folded = fold(value)
                for mailer in self.book.mailers:
                    if mailer in folded:
                        return Evidence("server-mailer", "headers", name, short(value))
        return None
