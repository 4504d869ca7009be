"""Each fault finding of issue #10, reproduced through the fault proxy against the real stack."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from faultkit import CUSTOMERS, SUPPORT, FaultyDesk
from faultproxy import Fault
from servicekit import acknowledgments, customer_mail, messages_by_folder, wait_until

from responder.devstack.mailstack import MailStack, MailStackError

pytestmark = pytest.mark.stack


@pytest.fixture
def desk(mailstack: MailStack, tmp_path: Path) -> Iterator[FaultyDesk]:
    desk = FaultyDesk(mailstack, tmp_path)
    desk.clear()
    yield desk
    desk.stop()


def _ledger(desk: FaultyDesk, query: str) -> list[tuple[object, ...]]:
    db = sqlite3.connect(f"file:{desk.service.state_dir / 'ledger.sqlite3'}?mode=ro", uri=True)
    try:
        return db.execute(query).fetchall()
    finally:
        db.close()


def test_1_dropped_imap_while_filing_with_a_slow_relay_doubles_nothing(desk: FaultyDesk) -> None:
    """Was: 142 of 150 customers acknowledged twice (acks in flight never collected).

    One batch, so that no later batch drains the sending queue before the service
    flushes what it believes is still pending."""
    desk.service.extra_env["RESPONDER_SERVICE_BATCH_SIZE"] = "200"
    desk.smtp.arm(Fault("EOD", "delay", delay=0.3, seconds=60))
    desk.imap.arm(Fault("MOVE", "drop"))
    customers = desk.deliver("slow relay")  # all waiting before the service starts: one batch
    desk.start()
    desk.check_invariants(len(customers), desk.settle(customers, timeout=60))


def test_2_lost_reply_after_end_of_data_is_uncertain_not_resent(desk: FaultyDesk) -> None:
    """Was: retried at once, two identical acknowledgments 0.4 s apart."""
    desk.service.extra_env["RESPONDER_SERVICE_UNCERTAIN_RESEND_AFTER"] = "4"
    desk.start()
    desk.smtp.arm(Fault("EOD", "drop"))
    customer = "customer2@example.test"
    desk.deliver("uncertain", [customer])
    ack = desk.stack.wait_for(customer, criteria=["HEADER", "Auto-Submitted", ""])[0]
    wait_until(
        lambda: _ledger(desk, "SELECT ack_state FROM messages") == [("uncertain",)], 10, "uncertain"
    )
    # The customer answers the acknowledgment: proof it arrived, so it is never resent.
    ack_id = next(line for line in ack.decode().splitlines() if line.startswith("Message-ID:"))
    answer = customer_mail(
        customer, SUPPORT, "Re: thanks", "Thank you.", In_Reply_To=ack_id[12:].strip()
    )
    desk.stack.deliver(SUPPORT, answer, customer)
    wait_until(lambda: ("sent",) in _ledger(desk, "SELECT ack_state FROM messages"), 10, "settled")
    time.sleep(5)  # past uncertain_resend_after
    assert len(acknowledgments(desk.stack, customer)) == 1
    assert "delivery uncertain" in desk.service.log()


def test_2b_uncertain_resent_after_the_configured_delay_when_nothing_settles_it(
    desk: FaultyDesk,
) -> None:
    """The policy's other half: the end of DATA never reached the relay, nothing answers or
    bounces, so after `uncertain_resend_after` it goes out again: exactly one arrives."""
    desk.service.extra_env["RESPONDER_SERVICE_UNCERTAIN_RESEND_AFTER"] = "2"
    desk.start()
    desk.smtp.arm(Fault("EOD", "drop-before"))
    customer = "customer3@example.test"
    desk.deliver("unsettled", [customer])
    wait_until(lambda: acknowledgments(desk.stack, customer), 20, "the acknowledgment")
    time.sleep(1.0)
    assert len(acknowledgments(desk.stack, customer)) == 1
    log = desk.service.log()
    assert "delivery uncertain" in log and "still uncertain, sending it again" in log
    assert _ledger(desk, "SELECT ack_state FROM messages") == [("sent",)]


def test_3_relay_wide_5xx_is_an_outage_and_everything_goes_out_after(desk: FaultyDesk) -> None:
    """Was: every ack in the window marked failed for good, nothing resent."""
    desk.start()
    desk.smtp.arm(
        Fault("MAIL", "reply", reply="550 5.4.5 Daily user sending quota exceeded", seconds=4)
    )
    customers = desk.deliver("quota")
    desk.check_invariants(len(customers), desk.settle(customers, timeout=60))
    assert _ledger(desk, "SELECT COUNT(*) FROM messages WHERE ack_state = 'failed'") == [(0,)]
    log = desk.service.log()
    assert log.count("SMTP relay unavailable") == 1 and "SMTP relay back" in log


def test_3b_auth_failure_is_an_outage_too(desk: FaultyDesk) -> None:
    desk.start()
    desk.smtp.arm(
        Fault("AUTH", "reply", reply="535 5.7.8 Authentication credentials invalid", times=3)
    )
    customers = desk.deliver("auth", CUSTOMERS[:10])
    desk.check_invariants(len(customers), desk.settle(customers, timeout=60))
    assert _ledger(desk, "SELECT COUNT(*) FROM messages WHERE ack_state = 'failed'") == [(0,)]


def test_4_persistent_no_while_filing_backs_off_and_quarantines(desk: FaultyDesk) -> None:
    """Was: 290 logins in 20 s, 1,947 log lines, and an INBOX that never emptied."""
    desk.service.extra_env["RESPONDER_SERVICE_MAX_ATTEMPTS"] = "3"
    desk.start()
    logins_before = desk.imap.seen.get("LOGIN", 0)
    desk.imap.arm(
        Fault(
            "MOVE",
            "reply",
            reply="[CANNOT] Invalid mailbox name",
            seconds=3600,
            match="Queues/orders",
        )
    )
    customers = desk.deliver("refused folder", CUSTOMERS[:10])
    wait_until(lambda: desk.inbox_count() == 0, 40, "an empty INBOX")
    folders = messages_by_folder(desk.stack, SUPPORT)
    assert len(folders["Quarantine"]) == 10
    assert all(acknowledgments(desk.stack, c) for c in customers)  # acks are not held back
    time.sleep(3)
    assert desk.imap.seen.get("LOGIN", 0) - logins_before <= 2
    assert len(desk.service.log().splitlines()) < 120


def test_4b_check_reports_a_folder_the_server_refuses(desk: FaultyDesk) -> None:
    desk.imap.arm(
        Fault("CREATE", "reply", reply="[CANNOT] Invalid mailbox name", seconds=60, match="Queues/")
    )
    with contextlib.suppress(MailStackError):  # folders other tests created must go
        desk.stack._doveadm("mailbox", "delete", "-u", SUPPORT, "-r", "-s", "Queues")
    result = desk.responder("check")
    assert result.returncode == 1, result.stdout
    assert "FAIL folder 'Queues/" in result.stdout and "Invalid mailbox name" in result.stdout


def test_5_two_customers_one_message_id_each_get_their_own_ack(desk: FaultyDesk) -> None:
    """Was: the second customer got nothing and landed in the first one's conversation."""
    desk.start()
    shared = make_msgid("form", domain="shop.example")
    first = _mail(
        "customer4@example.test",
        "My invoice is wrong",
        "The invoice amount is wrong, I was charged twice.",
        shared,
    )
    second = _mail(
        "customer5@example.test",
        "Parcel not delivered",
        "My parcel has not been delivered yet.",
        shared,
    )
    desk.stack.deliver_many(SUPPORT, [first, second])
    for customer in ("customer4@example.test", "customer5@example.test"):
        wait_until(lambda c=customer: acknowledgments(desk.stack, c), 15, f"an ack for {customer}")
    rows = _ledger(desk, "SELECT sender, queue, conversation FROM messages ORDER BY sender")
    assert [(s, q) for s, q, _ in rows] == [
        ("customer4@example.test", "billing"),
        ("customer5@example.test", "orders"),
    ]
    assert rows[0][2] != rows[1][2]


def _mail(sender: str, subject: str, body: str, message_id: str) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, SUPPORT, subject
    message["Message-ID"] = message_id
    message["Date"] = "Mon, 30 Nov 2026 10:00:00 +0000"
    message.set_content(body)
    return message.as_bytes()


def test_8_debug_log_carries_no_mail_and_state_is_private(desk: FaultyDesk) -> None:
    desk.service.extra_env["RESPONDER_SERVICE_LOG_LEVEL"] = "DEBUG"
    desk.start()
    secret = "ZEBRA-PASSPHRASE-7731"
    raw = customer_mail(
        "customer6@example.test",
        SUPPORT,
        "Account help",
        f"My account code is {secret}, please help.",
    )
    desk.stack.deliver(SUPPORT, raw, "customer6@example.test")
    wait_until(lambda: acknowledgments(desk.stack, "customer6@example.test"), 15, "the ack")
    assert secret not in desk.service.log()
    state = desk.service.state_dir
    assert state.stat().st_mode & 0o777 == 0o700
    for name in ("ledger.sqlite3", "acks.journal"):
        assert (state / name).stat().st_mode & 0o777 == 0o600, name
