"""The test mail stack itself: real Dovecot + Postfix behave as the other tests assume."""

from __future__ import annotations

import email
import smtplib
import socket
import ssl
import time
import uuid
from collections.abc import Callable
from email.message import Message
from email.utils import parseaddr

import pytest
from imapclient import IMAPClient

from responder.devstack.mailstack import MailStack
from responder.devstack.mailstack._procs import listening_ports, session_members

pytestmark = pytest.mark.stack

MakeStack = Callable[..., MailStack]


def _mail(sender: str, to: str, subject: str, body: str = "Hello, my order is late.") -> bytes:
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@example.test>\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


def _token() -> str:
    return "t" + uuid.uuid4().hex[:12]


def _parse(raw: bytes) -> Message:
    return email.message_from_bytes(raw)


def test_smtp_mail_to_support_lands_in_inbox(mailstack: MailStack) -> None:
    subject = f"Where is my parcel {_token()}"
    mailstack.send(
        _mail("customer1@example.test", "support@example.test", subject),
        "customer1@example.test",
        ["support@example.test"],
    )
    [raw] = mailstack.wait_for("support", criteria=["SUBJECT", subject])
    msg = _parse(raw)
    assert msg["Subject"] == subject
    assert msg["From"] == "customer1@example.test"
    assert "Hello, my order is late." in msg.get_payload()
    # Went through Postfix and Dovecot LMTP, and is a real file in the user's Maildir.
    assert "Received:" in raw.decode() and "with LMTP" in raw.decode()
    files = [p for p in mailstack.maildir("support").glob("*/*") if p.is_file()]
    assert any(subject.encode() in p.read_bytes() for p in files)


def test_mailboxes_have_special_use_and_slash_separator(mailstack: MailStack) -> None:
    with mailstack.imap("agent@example.test") as client:
        assert {b"IDLE", b"MOVE", b"SPECIAL-USE"} <= set(client.capabilities())
        client.create_folder("Queue/General")
        folders = {name: flags for flags, _sep, name in client.list_folders()}
        delimiters = {sep for _flags, sep, _name in client.list_folders()}
        client.delete_folder("Queue/General")
    assert delimiters == {b"/"}
    assert "Queue/General" in folders
    for name in ("Sent", "Drafts", "Trash", "Junk"):
        assert f"\\{name}".encode() in folders[name]


def test_outside_domain_is_refused(mailstack: MailStack) -> None:
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        mailstack.send(
            _mail("support@example.test", "someone@elsewhere.invalid", "no relay"),
            "support@example.test",
            ["someone@elsewhere.invalid"],
        )


def test_imaps_verifies_against_cafile(mailstack: MailStack) -> None:
    subject = f"TLS check {_token()}"
    mailstack.deliver(
        "customer2", _mail("customer3@example.test", "customer2@example.test", subject)
    )
    with IMAPClient(
        mailstack.host, port=mailstack.imaps_port, ssl=True, ssl_context=mailstack.ssl_context()
    ) as client:
        client.login("customer2@example.test", mailstack.password)
        client.select_folder("INBOX", readonly=True)
        assert client.search(["SUBJECT", subject])
    # Without the stack's cafile the (self-signed) certificate must be rejected.
    with (
        socket.create_connection((mailstack.host, mailstack.imaps_port), timeout=5) as sock,
        pytest.raises(ssl.SSLCertVerificationError),
    ):
        ssl.create_default_context().wrap_socket(sock, server_hostname=mailstack.host)


def test_sieve_vacation_seconds_answers_every_mail(mailstack: MailStack) -> None:
    script = (
        'require ["vacation", "vacation-seconds"];\n'
        'vacation :seconds 0 :subject "We received your message" "Thanks, we are on it.";\n'
    )
    mailstack.set_sieve("support", script)
    try:
        for n in range(2):
            mailstack.send(
                _mail("customer9@example.test", "support@example.test", f"help {n} {_token()}"),
                "customer9@example.test",
                ["support@example.test"],
            )
        replies = mailstack.wait_for(
            "customer9", count=2, criteria=["SUBJECT", "We received your message"]
        )
    finally:
        mailstack.set_sieve("support", None)
    assert len(replies) == 2  # :seconds 0 -> no per-sender suppression
    reply = _parse(replies[0])
    assert parseaddr(reply["From"])[1] == "support@example.test"
    assert reply["Auto-Submitted"].startswith("auto-replied")
    body = reply.get_payload(decode=True)
    assert isinstance(body, bytes) and b"Thanks, we are on it." in body


def test_mail_sent_during_dovecot_outage_arrives_after_restart(make_mailstack: MakeStack) -> None:
    stack = make_mailstack(users=["support", "customer1"])
    ports = (stack.imap_port, stack.imaps_port, stack.lmtp_port, stack.smtp_port)
    stack.stop_dovecot()
    assert stack.status() == {"dovecot": False, "postfix": True}
    assert stack.imap_port not in listening_ports()

    subject = f"Sent while IMAP was down {_token()}"
    stack.send(
        _mail("customer1@example.test", "support@example.test", subject),
        "customer1@example.test",
        ["support@example.test"],
    )
    # Postfix accepted it and tried LMTP: it must be deferred now, not bounced.
    deadline = time.monotonic() + 10
    while "status=deferred" not in stack.log_tail(200):
        assert time.monotonic() < deadline, stack.log_tail()
        time.sleep(0.05)

    started = time.monotonic()
    stack.start_dovecot()
    stack.wait_for("support", criteria=["SUBJECT", subject], timeout=15)
    assert time.monotonic() - started < 15
    assert (stack.imap_port, stack.imaps_port, stack.lmtp_port, stack.smtp_port) == ports
    assert "status=bounced" not in stack.log_tail(200)


def test_two_stacks_run_side_by_side(make_mailstack: MakeStack) -> None:
    a = make_mailstack(users=["support", "customer1"])
    b = make_mailstack(users=["support", "customer1"])
    ports_a = {a.imap_port, a.imaps_port, a.lmtp_port, a.smtp_port}
    ports_b = {b.imap_port, b.imaps_port, b.lmtp_port, b.smtp_port}
    assert len(ports_a | ports_b) == 8
    assert a.state_dir != b.state_dir

    subject = f"only for stack a {_token()}"
    a.send(
        _mail("customer1@example.test", "support@example.test", subject),
        "customer1@example.test",
        ["support@example.test"],
    )
    a.wait_for("support", criteria=["SUBJECT", subject])
    with b.imap("support") as client:
        assert client.select_folder("INBOX")[b"EXISTS"] == 0

    # Stopping a leaves b untouched, and leaves no process of a behind.
    masters = [d.pid() for d in (a._dovecot, a._postfix)]
    a.stop()
    assert a.status() == {"dovecot": False, "postfix": False}
    assert all(pid is not None and session_members(pid) == [] for pid in masters)
    assert not ports_a & listening_ports()
    assert b.status() == {"dovecot": True, "postfix": True}
    b.deliver("support", _mail("customer1@example.test", "support@example.test", subject))
    b.wait_for("support", criteria=["SUBJECT", subject])
