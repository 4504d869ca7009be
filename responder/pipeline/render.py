"""Render: the acknowledgment, from admin-edited Jinja templates, always in the sandbox.

Customer text (name, subject) only ever enters a template as a variable, never
as template source, so `{{ 7*7 }}` in a subject comes back literally. Templates
are looked up by language, then queue, with a fallback chain (see
templates/README.md); StrictUndefined makes a misspelt variable an error at
lint time instead of a blank in a customer's mail.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.charset import QP, Charset
from email.header import Header
from email.headerregistry import Address
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.utils import format_datetime, formataddr, parseaddr
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from babel import Locale
from babel.dates import format_date, format_time, format_timedelta
from jinja2.sandbox import SandboxedEnvironment

from responder.errors import TemplateError
from responder.pipeline.sandbox import BoundedSandbox, bounded_render

MAX_REFERENCES = 20
_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP  # readable in any client's "view source", unlike base64
_LINE_BREAKS = re.compile(r"[\r\n\x00-\x08\x0b-\x1f\x7f]+")


@dataclass(frozen=True)
class Reply:
    """An acknowledgment, ready to send: every header decided, body rendered."""

    to: str  # the bare address
    subject: str
    headers: dict[str, str]  # in the order they are written, To and Subject included
    body: str
    html: str | None = None

    def as_bytes(self) -> bytes:
        """The wire form, built with the compat32 MIME classes: same bytes-on-the-wire rules,
        four times faster than EmailMessage's header parsing (this is on the hot path)."""
        body: Message = _text_part(self.body, "plain")
        if self.html is not None:
            alternative = MIMEMultipart("alternative")
            alternative.attach(body)
            alternative.attach(_text_part(self.html, "html"))
            body = alternative
        headers: Any = body  # typeshed allows only str values; compat32 takes Header objects too
        for name, value in self.headers.items():
            headers[name] = _encoded_header(name, value)
        return body.as_bytes()


# Only in the honest update before a promise is missed (templates/<lang>/update.txt.j2), passed
# through ReplyContext.extra: the named senior person who has the case now, and the deadline
# that will not be kept (`late`: that has already passed, the service was down through the
# update step). `respond_by` is then the new deadline.
UPDATE_VARIABLES = ("senior", "previous_respond_by", "late")


@dataclass(frozen=True)
class ReplyContext:
    """Everything a template may use; see templates/README.md for each variable."""

    customer_name: str
    customer_address: str
    subject: str
    queue: str
    queue_name: str
    reference: str
    response_time: str
    respond_by: str
    priority: bool
    language: str
    organization: str
    support_address: str
    extra: Mapping[str, Any] = field(default_factory=dict)

    def variables(self) -> dict[str, Any]:
        names = (
            "customer_name",
            "customer_address",
            "subject",
            "queue",
            "queue_name",
            "reference",
            "response_time",
            "respond_by",
            "priority",
            "language",
            "organization",
            "support_address",
        )
        return {name: getattr(self, name) for name in names} | dict(self.extra)


def make_environment(template_dir: str | Path) -> SandboxedEnvironment:
    """The one way templates are loaded: sandboxed and bounded, strict, HTML autoescaped."""
    return BoundedSandbox(
        loader=jinja2.FileSystemLoader(str(template_dir)),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
        keep_trailing_newline=True,
        trim_blocks=False,
        lstrip_blocks=True,
    )


@dataclass
class TemplateSet:
    """The templates of one directory, with the lookup order the renderer and the linter share."""

    directory: Path
    default_language: str
    _queue_names_cache: dict[str, dict[str, str]] = field(
        default_factory=dict, init=False, repr=False
    )

    @cached_property
    def environment(self) -> SandboxedEnvironment:
        return make_environment(self.directory)

    def body_candidates(
        self, language: str, queue: str, priority: bool, follow_up: bool = False
    ) -> list[str]:
        """Language first (a Spanish reply beats a more specific English one), then the most specific.

        A follow-up note (limits.follow_up_note) has its own template and no other.
        """
        names = ["followup"] if follow_up else (["priority"] if priority else []) + [queue, "ack"]
        languages = dict.fromkeys([language, self.default_language])
        return [f"{lang}/{name}.txt.j2" for lang in languages for name in names]

    def reply_language(self, language: str) -> str:
        """The language the reply will be written in: the customer's if we have templates for it."""
        return (
            language
            if (self.directory / language / "ack.txt.j2").is_file()
            else self.default_language
        )

    def subject_candidates(self, language: str) -> list[str]:
        return [
            f"{lang}/subject.txt.j2" for lang in dict.fromkeys([language, self.default_language])
        ]

    def find(self, candidates: Sequence[str]) -> str | None:
        return next((name for name in candidates if (self.directory / name).is_file()), None)

    def render(self, name: str, variables: Mapping[str, Any]) -> str:
        try:
            return bounded_render(self.environment.get_template(name).generate(**variables))
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(
                f"{self.directory / name}:{exc.lineno}: syntax error: {exc.message}"
            ) from None
        except jinja2.TemplateError as exc:
            raise TemplateError(f"{self.directory / name}: {type(exc).__name__}: {exc}") from None

    def queue_name(self, language: str, queue: str) -> str:
        for lang in dict.fromkeys([language, self.default_language]):
            names = self._queue_names(lang)
            if queue in names:
                return names[queue]
        return queue

    def _queue_names(self, language: str) -> dict[str, str]:
        cache = self._queue_names_cache
        if language not in cache:
            path = self.directory / language / "queues.toml"
            try:
                with path.open("rb") as handle:
                    cache[language] = {k: str(v) for k, v in tomllib.load(handle).items()}
            except (OSError, tomllib.TOMLDecodeError):
                cache[language] = {}
        return cache[language]


def localized_duration(duration: timedelta, language: str) -> str:
    """Exactly the promise, never rounded down: "1h20m" is "80 minutes", not "1 hour".

    Babel picks the largest unit whose count reaches `threshold`; with the threshold
    set to the exact count in the largest unit that divides the duration, that unit
    is the one picked.
    """
    seconds = math.ceil(duration.total_seconds() / 60) * 60
    unit = next(size for size in (86400, 3600, 60) if seconds % size == 0)
    exact = timedelta(seconds=seconds)
    return str(format_timedelta(exact, locale=language, format="long", threshold=seconds / unit))


def localized_moment(moment: datetime, language: str, timezone: str) -> str:
    """ "23 de noviembre de 2026, 14:30 CET": the locale's own order, no seconds, the zone named."""
    local = moment.astimezone(ZoneInfo(timezone))
    glue = str(Locale.parse(language).datetime_formats["medium"])
    date = format_date(local, "long", locale=language)
    time = format_time(local, "short", locale=language)
    return glue.replace("{1}", str(date)).replace("{0}", str(time)) + f" {local.tzname()}"


def _text_part(text: str, subtype: str) -> Message:
    part = MIMENonMultipart("text", subtype)
    part.set_payload(text, charset=_UTF8_QP)
    return part


def _encoded_header(name: str, value: str) -> str | Header:
    if value.isascii():
        return value
    if name in ("From", "To"):
        display, address = parseaddr(value)
        return formataddr((display, address), charset="utf-8")
    return Header(value, "utf-8")


def _address(name: str, address: str) -> str:
    """A readable `Name <addr>`; EmailMessage encodes non-ASCII names when it serialises."""
    local, _, domain = address.rpartition("@")
    return str(Address(display_name=one_line(name), username=local, domain=domain))


def one_line(text: str) -> str:
    """No header may ever carry a line break from customer or template text."""
    return " ".join(_LINE_BREAKS.sub(" ", text).split())


@dataclass(frozen=True)
class Threading:
    """The original message's identity, for In-Reply-To and References."""

    message_id: str | None
    references: tuple[str, ...]


def render_reply(
    templates: TemplateSet,
    context: ReplyContext,
    *,
    sender: str,
    from_name: str,
    message_id: str,
    threading: Threading,
    now: datetime,
    follow_up: bool = False,
    body: str | None = None,
) -> Reply:
    """Render subject and body and assemble the headers RFC 3834 asks of an auto-reply.

    `body` names another kind of body template ("update": the honest note before a promise
    is missed), looked up in the customer's language, then the default language.
    """
    variables = context.variables()
    candidates = (
        [
            f"{lang}/{body}.txt.j2"
            for lang in dict.fromkeys([context.language, templates.default_language])
        ]
        if body
        else templates.body_candidates(context.language, context.queue, context.priority, follow_up)
    )
    body_name = templates.find(candidates)
    if body_name is None:
        raise TemplateError(
            f"no template for language {context.language!r} or the default language"
        )
    text = templates.render(body_name, variables)
    html_name = body_name.replace(".txt.j2", ".html.j2")
    html = (
        templates.render(html_name, variables)
        if (templates.directory / html_name).is_file()
        else None
    )
    subject_name = templates.find(templates.subject_candidates(context.language))
    subject = (
        templates.render(subject_name, variables)
        if subject_name
        else f"Re: {context.subject} [#{context.reference}]"
    )
    headers = {
        "From": _address(from_name, sender),
        "To": _address(context.customer_name, context.customer_address),
        "Subject": one_line(subject),
        "Date": format_datetime(now),
        "Message-ID": message_id,
    }
    if threading.message_id:
        headers["In-Reply-To"] = threading.message_id
        references = [*threading.references, threading.message_id]
        headers["References"] = " ".join(dict.fromkeys(references[-MAX_REFERENCES:]))
    headers |= {
        "Auto-Submitted": "auto-replied",
        "X-Auto-Response-Suppress": "All",
        "X-Loop": sender,
        "Content-Language": context.language,
        "X-Responder-Reference": context.reference,
    }
    return Reply(context.customer_address, headers["Subject"], headers, text, html)
