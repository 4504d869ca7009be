"""The IMAP edge against real Dovecot: the MOVE fallback, and a message seen again never re-acknowledged."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from servicekit import (
    RunningService,
    acknowledgments,
    customer_mail,
    messages_by_folder,
    wait_until,
)

from responder.config import ServerConfig
from responder.devstack.mailstack import MailStack
from responder.service.imap import Mailbox

pytestmark = pytest.mark.stack


def _mailbox(stack: MailStack, user: str) -> Mailbox:
    server = ServerConfig(
        host=stack.host,
        port=stack.imap_port,
        security="plain",
        username=user,
        password=stack.password,
    )
    mailbox = Mailbox(server)
    mailbox.connect()
    return mailbox


def test_copy_store_expunge_when_the_server_lacks_move(mailstack: MailStack) -> None:
    user = "bench187@example.test"
    mailstack.clear(user)
    for n in range(3):
        mailstack.deliver(user, customer_mail("customer1@example.test", user, f"m{n}", "x"))
    mailbox = _mailbox(mailstack, user)
    try:
        mailbox.capabilities = mailbox.capabilities - {b"MOVE"}  # as on a server without RFC 6851
        uids = mailbox.search_all()
        mailbox.move(uids[:2], mailbox.folder_path("Queues", "general"))
        assert mailbox.search_all() == uids[2:]
    finally:
        mailbox.close()
    folders = messages_by_folder(mailstack, user)
    assert sorted(m["Subject"] for m in folders["Queues/general"]) == ["m0", "m1"]
    assert [m["Subject"] for m in folders["INBOX"]] == ["m2"]


def test_a_message_back_in_the_inbox_is_filed_without_a_second_acknowledgment(
    mailstack: MailStack, tmp_path: Path
) -> None:
    """A redelivery, a human dragging it back, or a UIDVALIDITY reset: same Message-ID, new UID."""
    desk, customer = "bench188@example.test", "customer2@example.test"
    mailstack.clear(desk)
    mailstack.clear(customer)
    service = RunningService(mailstack, tmp_path, desk)
    service.start()
    try:
        raw = customer_mail(customer, desk, "Where is my parcel?", "Hello, my parcel is late.")
        mailstack.deliver(desk, raw, customer)
        wait_until(lambda: acknowledgments(mailstack, customer), 10, "the acknowledgment")
        mailstack.deliver(desk, raw, customer)  # the very same message again, with a new UID
        wait_until(
            lambda: len(messages_by_folder(mailstack, desk).get("Queues/orders", [])) == 2,
            10,
            "both copies filed",
        )
        time.sleep(1.5)
        assert len(acknowledgments(mailstack, customer)) == 1
        assert "already handled" in service.log()
    finally:
        service.stop()
