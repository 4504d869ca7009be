"""Parse: raw bytes of one mail into the few facts the later stages need.

Real mail is hostile: broken MIME, unknown charsets, NUL bytes, 100 KB header
lines, deep nesting, huge attachments. Nothing here may raise on any input,
and the work is bounded: only the first MAX_PARSE_BYTES are parsed, structured
header parsing sees at most MAX_HEADER_CHARS, and the MIME walk stops at
MAX_PARTS parts or MAX_DEPTH levels.
"""

from __future__ import annotations

import email
import email.policy
import functools
import hashlib
import re
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses
from typing import Any

from responder.pipeline.htmltext import html_to_text
from responder.pipeline.quotes import split_new_text

MAX_PARSE_BYTES = 4 * 1024 * 1024
MAX_HEADER_CHARS = 4096
MAX_PARTS = 200
MAX_DEPTH = 60
MAX_TEXT_CHARS = 64 * 1024
# RFC 5322 dot-atom, ASCII only: a reply to an internationalised or quoted address would need
# SMTPUTF8 or quoting end to end, and such senders are almost always forged.
_ADDRESS = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$")
_MSGID = re.compile(r"<[^<>\s]{1,250}>")
_UNFOLD = re.compile(r"\r?\n(?=[ \t])")
_SURROGATES = re.compile("[\udc80-\udcff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class Address:
    name: str
    address: str  # lower-cased domain, local part as written; "" when unusable

    def __str__(self) -> str:
        return self.address


@dataclass(frozen=True)
class ParsedMessage:
    """What the guard, router, language detector and renderer need of one mail."""

    headers: dict[str, list[str]]  # lower-case name -> raw values, in order
    senders: tuple[Address, ...]  # every usable address in From
    reply_to: tuple[Address, ...]
    subject: str  # decoded, one line, control characters removed
    message_id: str | None  # "<...>" or None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    new_text: str  # what the customer wrote now: no quoted history, no signature
    content_types: tuple[str, ...]  # every part's type, top first
    report_type: str  # multipart/report's report-type, lower case, "" if none
    calendar_methods: tuple[str, ...]  # METHOD of each text/calendar part
    key: str  # the ledger key: Message-ID + digest of From/Date/Subject, else a hash of the bytes
    defects: tuple[str, ...] = field(default=())
    # The parsed MIME tree, for the guard's bounce detector (flufl.bounce reads whole
    # messages); it lives only as long as the decision does.
    mime: Message | None = field(default=None, repr=False, compare=False)

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None

    @property
    def reply_target(self) -> tuple[Address, ...]:
        """Where an answer goes: Reply-To when it has usable addresses, else From."""
        return self.reply_to or self.senders


def parse(raw: bytes) -> ParsedMessage:
    """Parse one message; never raises."""
    defects: list[str] = []
    body = raw[:MAX_PARSE_BYTES]
    if len(raw) > MAX_PARSE_BYTES:
        defects.append("truncated")
    body = body.replace(b"\x00", b"")
    message = _message_from_bytes(body, defects)
    headers = _raw_headers(message)
    subject = _clean_line(_decode_text(_first(headers, "subject")))
    message_id = _first_msgid(_first(headers, "message-id"))
    walk = _walk(message)
    text = _body_text(walk.text_part, walk.html_part)
    return ParsedMessage(
        headers=headers,
        senders=_addresses(headers.get("from", [])),
        reply_to=_addresses(headers.get("reply-to", [])),
        subject=subject,
        message_id=message_id,
        in_reply_to=tuple(_MSGID.findall(_first(headers, "in-reply-to")[:MAX_HEADER_CHARS])),
        references=tuple(
            _MSGID.findall(" ".join(headers.get("references", []))[: MAX_HEADER_CHARS * 4])
        ),
        new_text=split_new_text(text),
        content_types=walk.content_types,
        report_type=walk.report_type,
        calendar_methods=walk.calendar_methods,
        key=_ledger_key(message_id, headers, raw),
        defects=tuple(defects + walk.defects),
        mime=message,
    )


def _ledger_key(message_id: str | None, headers: dict[str, list[str]], raw: bytes) -> str:
    """Message-ID plus a digest of who, when and what: contact forms and broken clients reuse
    one Message-ID for different customers, and each of those is a new message. A redelivered
    copy of the same mail has the same headers, so the same key."""
    if not message_id:
        return "sha256:" + hashlib.sha256(raw).hexdigest()
    identity = "\n".join(
        " ".join(_first(headers, name).split()) for name in ("from", "date", "subject")
    )
    digest = hashlib.sha256(identity.encode("utf-8", "replace")).hexdigest()[:16]
    return f"{message_id} {digest}"


class _Policy(email.policy.EmailPolicy):
    """policy.default, remembering parsed header values.

    The feed parser asks for a part's Content-Type dozens of times while it
    walks the structure, and policy.default parses the header anew each time:
    that was half the cost of parsing a typical mail.
    """

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if hasattr(value, "name"):
            return value
        if len(value) > 1000:  # rare, and must not pin megabytes in the cache
            return self.header_factory(name, "".join(value.splitlines()))
        return _parsed_header(self.header_factory, name, value)


@functools.lru_cache(maxsize=1024)
def _parsed_header(factory: Any, name: str, value: str) -> Any:
    return factory(name, "".join(value.splitlines()))


POLICY = _Policy()


def _message_from_bytes(body: bytes, defects: list[str]) -> Message:
    """Full MIME parse; where the stdlib gives up (it recurses per nesting level), headers only."""
    try:
        return email.message_from_bytes(body, policy=POLICY)
    except Exception:
        defects.append("unparseable-mime")
    try:
        return BytesParser(policy=POLICY).parsebytes(body, headersonly=True)
    except Exception:
        return BytesParser(policy=email.policy.compat32).parsebytes(body, headersonly=True)


def _raw_headers(message: Message) -> dict[str, list[str]]:
    """Header values unparsed: the guard only needs names and plain text, and raw access never raises."""
    headers: dict[str, list[str]] = {}
    for name, value in message.raw_items():
        text = _UNFOLD.sub(" ", str(value))
        if _SURROGATES.search(text):  # raw 8-bit header bytes: most often UTF-8
            text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        headers.setdefault(name.strip().lower(), []).append(text)
    return headers


def _first(headers: dict[str, list[str]], name: str) -> str:
    values = headers.get(name)
    return values[0] if values else ""


def _first_msgid(value: str) -> str | None:
    found = _MSGID.search(value[:MAX_HEADER_CHARS])
    return found.group(0) if found else None


def _clean_line(text: str) -> str:
    """One line, no control characters: a subject can never inject a header."""
    text = re.sub(r"[\r\n\t]+", " ", text)
    return re.sub(r" {2,}", " ", _CONTROL.sub("", text)).strip()


def _decode_text(value: str) -> str:
    """RFC 2047 decode a header, tolerating unknown charsets and broken encoded words."""
    value = value[:MAX_HEADER_CHARS]
    try:
        return str(make_header(decode_header(value)))
    except (LookupError, UnicodeError, ValueError, email.errors.HeaderParseError):
        pieces = []
        for chunk, charset in decode_header(value):
            if isinstance(chunk, bytes):
                pieces.append(_decode_bytes(chunk, charset))
            else:
                pieces.append(chunk)
        return "".join(pieces)


def _decode_bytes(data: bytes, charset: str | None) -> str:
    for candidate in (charset, "utf-8"):
        if candidate:
            try:
                return data.decode(candidate)
            except (LookupError, UnicodeDecodeError):
                continue
    return data.decode("latin-1")


def _addresses(values: list[str]) -> tuple[Address, ...]:
    """Real addresses only: `"boss@bank.example" <x@evil.example>` yields x@evil.example, never the name."""
    decoded = [_decode_text(value) for value in values]
    found = []
    for name, address in getaddresses(decoded):
        address = address.strip()
        if not _ADDRESS.match(address):
            continue
        local, _, domain = address.rpartition("@")
        found.append(Address(_clean_line(name), f"{local}@{domain.lower()}"))
    return tuple(found)


@dataclass
class _Walk:
    content_types: tuple[str, ...] = ()
    report_type: str = ""
    calendar_methods: tuple[str, ...] = ()
    text_part: Message | None = None
    html_part: Message | None = None
    defects: list[str] = field(default_factory=list)


def _walk(root: Message) -> _Walk:
    """Iterative, bounded MIME walk (no recursion, so 50 or 5000 levels cost the same)."""
    result = _Walk()
    types: list[str] = []
    methods: list[str] = []
    stack: list[tuple[Message, int]] = [(root, 0)]
    while stack and len(types) < MAX_PARTS:
        part, depth = stack.pop()
        ctype = part.get_content_type()
        types.append(ctype)
        if ctype == "multipart/report" and not result.report_type:
            result.report_type = str(part.get_param("report-type", "") or "").lower()
        if ctype == "text/calendar":
            methods.append(_calendar_method(part))
        if part.is_multipart():
            if depth >= MAX_DEPTH:
                result.defects.append("too-deep")
                continue
            children = part.get_payload()
            if isinstance(children, list):
                stack.extend(
                    (child, depth + 1) for child in reversed(children) if isinstance(child, Message)
                )
            continue
        if part.get_content_maintype() == "multipart":  # a multipart the stdlib left unsplit
            recovered = _recover_multipart(part)
            if recovered is not None:
                result.defects.append("boundary-recovered")
                stack.append((recovered, depth + 1))
            continue
        if _is_attachment(part):
            continue
        if ctype == "text/plain" and result.text_part is None:
            result.text_part = part
        elif ctype == "text/html" and result.html_part is None:
            result.html_part = part
    if stack:
        result.defects.append("too-many-parts")
    result.content_types = tuple(types)
    result.calendar_methods = tuple(methods)
    return result


_BOUNDARY_LINE = re.compile(r"^--([0-9A-Za-z'()+_,./:=?-]{1,70}?)[ \t]*\r?$", re.MULTILINE)


def _recover_multipart(part: Message) -> Message | None:
    """Split a multipart whose boundary the stdlib could not read, by its delimiter lines.

    Gateways and old clients write `boundary=` on an unfolded line of its own, so Python keeps
    the whole body as one string and the customer's text (or a bounce's) would be lost. The
    first `--token` line of the body is the delimiter; it must come back at least once more.
    """
    if not isinstance(part.get_payload(), str):
        return None
    try:  # the bytes as received (get_payload() would have replaced 8-bit text with U+FFFD)
        data = part.get_payload(decode=True)
    except Exception:
        return None
    if not isinstance(data, bytes):
        return None
    text = data[:MAX_PARSE_BYTES].decode("ascii", "surrogateescape")
    found = _BOUNDARY_LINE.search(text)
    if found is None:
        return None
    boundary = found.group(1).removesuffix("--")
    if text.count("--" + boundary) < 2:
        return None
    header = f'Content-Type: multipart/mixed; boundary="{boundary}"\n\n'
    raw = (header + text).encode("utf-8", "surrogateescape")
    try:
        return email.message_from_bytes(raw, policy=POLICY)
    except Exception:
        return None


def _is_attachment(part: Message) -> bool:
    disposition = str(part.get("content-disposition", "") or "").split(";")[0].strip().lower()
    return disposition == "attachment"


def _calendar_method(part: Message) -> str:
    method = str(part.get_param("method", "") or "")
    if not method:
        found = re.search(r"^METHOD:(\S+)", part_text(part)[:4096], re.MULTILINE | re.IGNORECASE)
        method = found.group(1) if found else ""
    return method.upper()


def part_text(part: Message, limit: int = MAX_TEXT_CHARS) -> str:
    """A leaf part's text, about `limit` characters at most; hostile transfer encodings and
    unknown charsets give "" or replacement characters, never an exception."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        return ""
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    return _decode_bytes(payload[: limit * 4], charset)


def _body_text(text_part: Message | None, html_part: Message | None) -> str:
    if text_part is not None:
        text = part_text(text_part)
        if text.strip():
            return text[:MAX_TEXT_CHARS]
    if html_part is not None:
        return html_to_text(part_text(html_part))[:MAX_TEXT_CHARS]
    return ""
