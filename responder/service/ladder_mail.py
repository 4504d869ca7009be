"""The two mails of the escalation ladder: the supervisor's note and the customer's update.

Both are rendered completely, Message-ID included, before anything is sent: the caller records
the bytes in the ledger first (promise_mail), so a crash between rendering and sending ends in
exactly one mail after the restart, never none and never two.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from responder.config import Config
from responder.pipeline.deadline import localized_deadline
from responder.pipeline.echo import safe_name, safe_subject
from responder.pipeline.render import (
    Reply,
    ReplyContext,
    TemplateSet,
    Threading,
    localized_duration,
    one_line,
    render_reply,
)
from responder.service.promises import Promise

NOTICE_LANGUAGE = "en"  # internal mail; the customer-facing text is the update


def _moment(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _threading(promise: Promise) -> Threading:
    ids = [f"<{promise.message_id}>"] if promise.message_id else []
    sent = [promise.sent_message_id] if promise.sent_message_id else []
    return Threading(ids[0] if ids else None, tuple(sent))


class LadderMail:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.templates = TemplateSet(Path(config.reply.templates), config.reply.default_language)

    def update(
        self,
        promise: Promise,
        new_due: datetime,
        window: timedelta,
        senior: str,
        zone: str,
        now: float,
        late: bool = False,
    ) -> Reply:
        """The customer's honest update, in their language, threaded under their message.

        `late`: the old deadline has passed already (the service was down through the update
        step), so the text says the promise was not kept rather than that it will not be."""
        language = self.templates.reply_language(promise.language)
        moment = _moment(now)
        mailbox = self.config.mailbox
        context = ReplyContext(
            customer_name=safe_name(promise.customer_name),
            customer_address=promise.customer,
            subject=safe_subject(promise.subject),
            queue=promise.queue,
            queue_name=self.templates.queue_name(language, promise.queue),
            reference=promise.conversation,
            response_time=localized_duration(window, language),
            respond_by=localized_deadline(new_due, language, zone, moment),
            priority=promise.priority,
            language=language,
            organization=mailbox.organization,
            support_address=mailbox.address,
            extra={
                "senior": senior,
                "late": late,
                "previous_respond_by": localized_deadline(
                    _moment(promise.due_at), language, zone, moment
                ),
            },
        )
        reply = render_reply(
            self.templates,
            context,
            sender=mailbox.address,
            from_name=mailbox.from_name,
            message_id=make_msgid("update", domain=mailbox.domain),
            threading=_threading(promise),
            now=moment,
            body="update",
        )
        reply.headers["Auto-Submitted"] = "auto-generated"  # not a reply to a message of theirs
        return reply

    def notice(
        self, promise: Promise, others: list[Promise], zone: str, now: float
    ) -> EmailMessage:
        """A short internal note to the supervisor, threaded under the customer's message."""
        mailbox = self.config.mailbox
        moment = _moment(now)
        due = localized_deadline(_moment(promise.due_at), NOTICE_LANGUAGE, zone, moment)
        status = (
            "someone flagged it \\Answered, but no reply is in Sent (unverified)"
            if promise.state == "answered-unverified"
            else "no answer yet"
        )
        lines = [
            f"The promise to {promise.customer} [#{promise.conversation}] is due {due}.",
            "",
            f"  subject:  {promise.subject}",
            f"  queue:    {promise.queue}{' (priority)' if promise.priority else ''}",
            f"  status:   {status}",
            f"  folder:   {promise.folder or 'unknown'}",
            "",
        ]
        if others:
            lines.append("Also due within a day:")
            lines += [
                f"  - [#{p.conversation}] {p.customer}, {p.queue}, due "
                f"{localized_deadline(_moment(p.due_at), NOTICE_LANGUAGE, zone, moment)}"
                for p in others
            ]
            lines.append("")
        lines.append("Reply to the customer from the support mailbox, or Cc it, and this stops.")
        message = EmailMessage()
        message["From"] = f"{mailbox.from_name} <{mailbox.address}>"
        message["To"] = self.config.promises.supervisor
        message["Subject"] = one_line(f"[#{promise.conversation}] due {due}: {promise.subject}")[
            :200
        ]
        message["Date"] = format_datetime(moment)
        message["Message-ID"] = make_msgid("notice", domain=mailbox.domain)
        threading = _threading(promise)
        if threading.message_id:
            message["In-Reply-To"] = threading.message_id
            message["References"] = " ".join([threading.message_id, *threading.references])
        message["Auto-Submitted"] = "auto-generated"
        message.set_content("\n".join(lines))
        return message
