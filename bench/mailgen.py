"""Realistic mail for the benchmark: six languages, five queues, HTML, attachments, robots.

Why realistic: the service's cost per message depends on what it parses (MIME structure,
HTML to text, quoted history), detects (language) and routes (keywords), and a drain rate
measured on 2 KB lorem ipsum would flatter it. The mix for a backlog (`backlog`):

* 90 % customer mail, spread over the senders round robin, languages and queues cycling:
  60 % text/plain (2–8 KB with quoted history), 25 % multipart/alternative text + HTML
  (4–20 KB), 15 % with a PDF or JPEG attachment (20–200 KB in total, log-uniform);
* 5 % bounces (multipart/report; report-type=delivery-status, null envelope sender);
* 5 % out-of-office replies (Auto-Submitted: auto-replied).

Every subject carries a unique customer number, so no mail looks like a follow-up of another
(the service would rightly not acknowledge those). Deterministic for a given seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from bench.corpus_text import LANGUAGES, QUEUES, Language

SUPPORT = "support@example.test"
DOMAIN = "example.test"
MAILERS = ("Thunderbird 128.3", "Apple Mail (2.3776)", "Microsoft Outlook 16.0", "K-9 Mail 6.8")
DISCLAIMER = (
    "This e-mail and any attachments are confidential and intended solely for the addressee. "
    "If you have received it in error, please notify the sender and delete it. Any use, "
    "disclosure or copying by anyone else is prohibited. We accept no liability for viruses."
)
_HTML_HEAD = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><style>body{font-family:Arial,'
    "sans-serif;font-size:14px;color:#222}blockquote{border-left:2px solid #ccc;margin:0 0 0 "
    ".8ex;padding-left:1ex}.sig{color:#888}</style></head><body>"
)


@dataclass(frozen=True)
class Mail:
    """One generated message and what the benchmark expects the service to do with it."""

    envelope_from: str  # "" for bounces
    raw: bytes
    kind: str  # customer | bounce | auto-reply
    language: str
    queue: str  # the queue its words belong to ("" for robots)
    message_id: str


def _date(rng: random.Random) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=rng.randint(1, 600))


def _quoted_history(rng: random.Random, lang: Language, target_chars: int) -> str:
    """An earlier exchange quoted below the new text: padding the router never sees."""
    when = format_datetime(_date(rng) - timedelta(days=rng.randint(1, 30)))
    lines = [lang.wrote.format(date=when, who=f"Example Support <{SUPPORT}>")]
    size = len(lines[0])
    while size < target_chars:
        sentence = "> " + " ".join(rng.choice(lang.filler) for _ in range(rng.randint(1, 3)))
        lines.append(sentence)
        lines.append(">")
        size += len(sentence) + 3
    return "\n".join(lines)


def _text(rng: random.Random, lang: Language, name: str, body: str) -> tuple[str, str]:
    """(the new text, the signature) a customer writes."""
    new = f"{rng.choice(lang.greetings)}\n\n{body}\n\n{rng.choice(lang.closings)}\n{name}"
    signature = f"-- \n{name}\n+34 600 {rng.randint(100, 999)} {rng.randint(100, 999)}"
    return new, signature


def _html(new: str, history: str, signature: str) -> str:
    paragraphs = "".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in new.split("\n\n"))
    quoted = "<br>".join(line.removeprefix("> ").removeprefix(">") for line in history.split("\n"))
    sig = signature.replace("\n", "<br>")
    return f'{_HTML_HEAD}{paragraphs}<div class="sig">{sig}</div><blockquote>{quoted}</blockquote></body></html>'


def _headers(
    message: EmailMessage, rng: random.Random, sender: str, name: str, subject: str
) -> str:
    message["From"] = f"{name} <{sender}>"
    message["To"] = f"Example Support <{SUPPORT}>"
    message["Subject"] = subject
    message["Date"] = format_datetime(_date(rng))
    message_id = make_msgid("bench", domain=DOMAIN)
    message["Message-ID"] = message_id
    message["X-Mailer"] = rng.choice(MAILERS)
    return message_id


def customer_mail(
    rng: random.Random, index: int, sender: str, lang: Language, queue: str, shape: str = "short"
) -> Mail:
    """One customer's complaint. shape: short (~1 KB), plain, html or attachment."""
    subject, body = lang.topics[queue][index % len(lang.topics[queue])]
    name = lang.names[index % len(lang.names)]
    subject = f"{subject} ({lang.number.format(n=100000 + index)})"
    new, signature = _text(rng, lang, name, body)
    message = EmailMessage()
    message_id = _headers(message, rng, sender, name, subject)
    if shape == "short":
        message.set_content(f"{new}\n\n{signature}\n")
    elif shape == "plain":
        history = _quoted_history(rng, lang, rng.randint(1400, 7400))
        message["In-Reply-To"] = make_msgid("old", domain=DOMAIN)
        message.set_content(f"{new}\n\n{signature}\n\n{history}\n")
    else:
        history = _quoted_history(rng, lang, rng.randint(1000, 6000))
        text = f"{new}\n\n{signature}\n\n{history}\n"
        message.set_content(text)
        message.add_alternative(_html(new, history, signature), subtype="html")
        if shape == "attachment":
            total = int(20_000 * 10 ** rng.uniform(0, 1))  # 20–200 KB, log-uniform
            _attach(message, rng, max(1000, (total - 2 * len(text)) * 3 // 4), index)
    return Mail(sender, message.as_bytes(), "customer", lang.code, queue, message_id)


def _attach(message: EmailMessage, rng: random.Random, size: int, index: int) -> None:
    """Incompressible bytes with a real magic number: what a photo or a scan looks like."""
    if rng.random() < 0.5:
        data = b"%PDF-1.7\n" + rng.randbytes(size)
        message.add_attachment(
            data, maintype="application", subtype="pdf", filename=f"scan-{index}.pdf"
        )
    else:
        data = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + rng.randbytes(size)
        message.add_attachment(
            data, maintype="image", subtype="jpeg", filename=f"IMG_{index:05d}.jpg"
        )


def bounce(rng: random.Random, index: int) -> Mail:
    """A delivery status notification about one of our acknowledgments (null sender)."""
    lost = f"gone{index}@{DOMAIN}"
    message_id = f"<bounce-{index}-{rng.getrandbits(40):x}@mail.{DOMAIN}>"
    boundary = f"bounce-{index}"
    received = "".join(
        f"Received: from mail{hop}.{DOMAIN} (mail{hop}.{DOMAIN} [192.0.2.{hop}])\r\n"
        f"\tby mx.{DOMAIN} (Postfix) with ESMTPS id {rng.getrandbits(40):X}\r\n"
        f"\tfor <{lost}>; {format_datetime(_date(rng))}\r\n"
        for hop in range(1, 6)
    )
    original = (
        f"Return-Path: <>\r\n{received}From: Example Support <{SUPPORT}>\r\nTo: {lost}\r\n"
        f"Subject: Re: your message [#{rng.getrandbits(30):X}]\r\nAuto-Submitted: auto-replied\r\n"
        f"X-Auto-Response-Suppress: All\r\nMessage-ID: <ack-{index}@{DOMAIN}>\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\nContent-Language: en\r\n"
    )
    raw = (
        f"From: MAILER-DAEMON@mail.{DOMAIN} (Mail Delivery System)\r\nTo: {SUPPORT}\r\n"
        f"Subject: Undelivered Mail Returned to Sender\r\nDate: {format_datetime(_date(rng))}\r\n"
        f"Auto-Submitted: auto-replied\r\nMessage-ID: {message_id}\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n'
        f"\r\n--{boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        f"This is the mail system at host mail.{DOMAIN}.\r\n\r\nI'm sorry to have to inform you "
        f"that your message could not be delivered to one or more recipients.\r\n\r\n"
        f"<{lost}>: host mx.{DOMAIN} said: 550 5.1.1 user unknown\r\n"
        f"\r\n--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; mail.{DOMAIN}\r\n\r\nFinal-Recipient: rfc822; {lost}\r\n"
        f"Action: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"
        f"\r\n--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n{original}"
        f"\r\n--{boundary}--\r\n"
    )
    return Mail("", raw.encode(), "bounce", "", "", message_id)


def out_of_office(rng: random.Random, index: int, sender: str, lang: Language) -> Mail:
    """An automatic reply from a customer's mailbox: must be filed, never answered."""
    name = lang.names[index % len(lang.names)]
    message = EmailMessage()
    subject = lang.ooo_subject.format(subject=f"Re: {lang.number.format(n=100000 + index)}")
    message_id = _headers(message, rng, sender, name, subject)
    message["Auto-Submitted"] = "auto-replied"
    message["X-Auto-Response-Suppress"] = "All"
    text = f"{lang.ooo_body}\n\n{name}\n\n{DISCLAIMER}\n"
    message.set_content(text)
    # Outlook-style: an HTML twin with its style sheet, ~2 KB in all.
    message.add_alternative(_html(text, "", f"{name}\n{lang.filler[3]}"), subtype="html")
    return Mail(sender, message.as_bytes(), "auto-reply", lang.code, "", message_id)


def backlog(count: int, senders: list[str], seed: int = 6) -> list[Mail]:
    """`count` mails in the mix described in the module docstring."""
    rng = random.Random(seed)
    mails: list[Mail] = []
    for index in range(count):
        sender = senders[index % len(senders)]
        lang = LANGUAGES[index % len(LANGUAGES)]
        slot = index % 20  # 2 of 20 are robots: 10 %
        if slot == 7:
            mails.append(bounce(rng, index))
            continue
        if slot == 17:
            mails.append(out_of_office(rng, index, sender, lang))
            continue
        queue = QUEUES[(index // len(LANGUAGES)) % len(QUEUES)]
        draw = rng.random()
        shape = "plain" if draw < 0.60 else "html" if draw < 0.85 else "attachment"
        mails.append(customer_mail(rng, index, sender, lang, queue, shape))
    return mails


def conversation_starters(senders: list[str], seed: int, per_sender: int = 1) -> list[Mail]:
    """Short first mails (~1 KB): `per_sender` for each sender, interleaved, all languages."""
    rng = random.Random(seed)
    mails = []
    for round_ in range(per_sender):
        for position, sender in enumerate(senders):
            index = round_ * len(senders) + position
            lang = LANGUAGES[index % len(LANGUAGES)]
            queue = QUEUES[(index // len(LANGUAGES)) % len(QUEUES)]
            mails.append(customer_mail(rng, seed * 1_000_000 + index, sender, lang, queue))
    return mails
