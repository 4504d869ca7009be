"""`responder demo`: the whole product in one command, against a real local mail stack.

Starts Dovecot and Postfix on loopback (responder.devstack.mailstack), has three customers
complain in Spanish, Dutch and English (plus a bounce and an out-of-office reply
that must get no answer), runs the service once, and shows what each customer
received and what landed in each queue folder.
"""

from __future__ import annotations

import email
import email.policy
import os
import tempfile
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from responder import config as config_module
from responder.devstack.mailstack import MailStack, servers_available
from responder.service.daemon import configure_logging
from responder.service.ledger import Ledger
from responder.service.loop import Service

SUPPORT = "support@example.test"
COMPLAINTS = [
    (
        "customer1@example.test",
        "María García",
        "Me han cobrado dos veces la factura de octubre",
        "Buenos días:\n\nHe revisado mi cuenta bancaria y me han cobrado dos veces la factura de "
        "octubre. Es la segunda vez que pasa y empiezo a estar bastante molesta. ¿Pueden "
        "devolverme el importe duplicado cuanto antes?\n\nGracias,\nMaría",
    ),
    (
        "customer2@example.test",
        "Jan de Vries",
        "Bestelling nog steeds niet ontvangen",
        "Goedemiddag,\n\nIk heb twee weken geleden een bestelling geplaatst (ordernummer 48213), "
        "maar ik heb nog steeds niets ontvangen. Kunt u mij laten weten waar mijn pakket is?\n\n"
        "Met vriendelijke groet,\nJan de Vries",
    ),
    (
        "customer3@example.test",
        "Sam Taylor",
        "I CANNOT LOG IN TO MY ACCOUNT",
        "This is the third time I write. I CANNOT LOG IN AND NOBODY ANSWERS. If this is not fixed "
        "today I will talk to my lawyer.\n\nSam",
    ),
]


def _complaint(sender: str, name: str, subject: str, body: str) -> bytes:
    message = EmailMessage()
    message["From"] = f"{name} <{sender}>"
    message["To"] = SUPPORT
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid("demo", domain="example.test")
    message.set_content(body)
    return message.as_bytes()


def bounce_message() -> bytes:
    return (
        b"From: MAILER-DAEMON@mail.example.test (Mail Delivery System)\r\nTo: "
        + SUPPORT.encode()
        + b"\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\nAuto-Submitted: auto-replied\r\n"
        b"Message-ID: <bounce-demo@mail.example.test>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you that your message could not be "
        b"delivered.\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; "
        b"mail.example.test\r\n\r\nFinal-Recipient: rfc822; gone@example.test\r\nAction: failed\r\n"
        b"Status: 5.1.1\r\n--b--\r\n"
    )


def out_of_office_message() -> bytes:
    return (
        b"From: Agent Smith <customer1@example.test>\r\nTo: " + SUPPORT.encode() + b"\r\n"
        b"Subject: Automatic reply: Your ticket\r\nAuto-Submitted: auto-replied\r\n"
        b"X-Auto-Response-Suppress: All\r\nMessage-ID: <oof-demo@example.test>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nI am out of the office until Monday.\r\n"
    )


def environment_for(stack: MailStack, state_dir: Path, address: str = SUPPORT) -> dict[str, str]:
    """RESPONDER_* settings that point the service at one mailbox of a local stack."""
    return {
        "RESPONDER_MAILBOX_ADDRESS": address,
        "RESPONDER_IMAP_HOST": stack.host,
        "RESPONDER_IMAP_PORT": str(stack.imap_port),
        "RESPONDER_IMAP_SECURITY": "plain",
        "RESPONDER_IMAP_USERNAME": address,
        "RESPONDER_IMAP_PASSWORD": stack.password,
        "RESPONDER_SMTP_HOST": stack.host,
        "RESPONDER_SMTP_PORT": str(stack.smtp_port),
        "RESPONDER_SMTP_SECURITY": "plain",
        "RESPONDER_SMTP_USERNAME": "",
        "RESPONDER_STATE_DIR": str(state_dir),
    }


def demo(keep: bool = False) -> int:
    reason = servers_available()
    if reason:
        print(
            f"responder demo needs Dovecot and Postfix: {reason}. Install them with `make install`."
        )
        return 1
    configure_logging("INFO")
    root = Path(tempfile.mkdtemp(prefix="responder-demo-"))
    stack = MailStack(root / "stack")
    stack.start()
    try:
        _run_demo(stack, root)
    finally:
        if keep:
            stack.detach()
            print(
                f"\nThe mail stack keeps running (state in {root}); stop it with "
                f"`python -m responder.devstack.mailstack down {root / 'stack'}`."
            )
        else:
            stack.stop()
    return 0


def _run_demo(stack: MailStack, root: Path) -> None:
    print(
        f"\n== mail stack up: IMAP {stack.host}:{stack.imap_port}, SMTP {stack.host}:{stack.smtp_port}"
    )
    for sender, name, subject, body in COMPLAINTS:
        stack.send(_complaint(sender, name, subject, body), sender, [SUPPORT])
        print(f"   {name} <{sender}> wrote: {subject}")
    stack.send(bounce_message(), "", [SUPPORT])
    stack.send(out_of_office_message(), "customer1@example.test", [SUPPORT])
    print("   plus a delivery failure report (bounce) and an out-of-office reply")
    stack.wait_for(SUPPORT, count=len(COMPLAINTS) + 2)

    print("\n== responder run --once")
    config = config_module.load(
        None, environ={**os.environ, **environment_for(stack, root / "state")}
    )
    ledger = Ledger.in_state_dir(config.state_dir())
    started = time.perf_counter()
    Service(config, ledger).run(once=True)
    print(f"   handled the inbox in {time.perf_counter() - started:.2f} s")

    print("\n== what each customer received")
    for sender, *_ in COMPLAINTS:
        for raw in stack.wait_for(sender, count=1, timeout=15):
            _show(email.message_from_bytes(raw, policy=email.policy.default), sender)

    print("\n== the support mailbox, as agents see it")
    with stack.imap(SUPPORT) as client:
        for flags, _delim, folder in sorted(client.list_folders(), key=lambda f: f[2]):
            if b"\\Noselect" in flags:
                continue
            info = client.select_folder(folder, readonly=True)
            uids = client.search("ALL")
            print(f"   {folder:<22} {info[b'EXISTS']} message(s)")
            for data in client.fetch(uids, ["ENVELOPE", "FLAGS"]).values():
                subject = (data[b"ENVELOPE"].subject or b"").decode(errors="replace")
                tags = " ".join(
                    f.decode() for f in data[b"FLAGS"] if f not in (b"\\Seen", b"\\Recent")
                )
                print(
                    f"       - {email.header.make_header(email.header.decode_header(subject))}  [{tags}]"
                )
    ledger.close()


def _show(message: email.message.EmailMessage, customer: str) -> None:
    print(f"\n--- in {customer}'s INBOX ---")
    for name in ("From", "To", "Subject", "Auto-Submitted", "In-Reply-To", "Content-Language"):
        print(f"{name}: {message[name]}")
    body = message.get_body(("plain",))
    print()
    print(body.get_content().rstrip() if body is not None else "(no text)")
