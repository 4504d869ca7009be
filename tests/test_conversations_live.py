"""Conversations against the real stack: one acknowledgment per conversation, caps, priority."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from servicekit import (
    RunningService,
    acknowledgments,
    customer_mail,
    messages_by_folder,
    wait_until,
)

from responder.devstack.mailstack import MailStack

pytestmark = pytest.mark.stack
ACK_CRITERIA = ["HEADER", "Auto-Submitted", ""]


_DESK_NUMBERS = itertools.count(190)


@pytest.fixture
def desk(mailstack: MailStack, tmp_path: Path) -> Iterator[RunningService]:
    """A service on a mailbox of its own (bench190 onwards), so these tests share one stack safely."""
    index = next(_DESK_NUMBERS)
    service = RunningService(mailstack, tmp_path, f"bench{index:03d}@example.test")
    service.start()
    yield service
    service.stop()


def _flags(stack: MailStack, user: str, folder: str) -> dict[str, set[str]]:
    with stack.imap(user) as client:
        client.select_folder(folder, readonly=True)
        data = client.fetch(client.search("ALL"), ["FLAGS", "ENVELOPE"])
        return {
            (item[b"ENVELOPE"].subject or b"").decode(): {flag.decode() for flag in item[b"FLAGS"]}
            for item in data.values()
        }


def _send(
    stack: MailStack, desk: RunningService, customer: str, subject: str, body: str, **headers: str
) -> None:
    stack.send(
        customer_mail(customer, desk.mailbox, subject, body, **headers), customer, [desk.mailbox]
    )


def test_replies_in_three_languages_get_one_acknowledgment(
    mailstack: MailStack, desk: RunningService
) -> None:
    customer = "customer4@example.test"
    _send(
        mailstack,
        desk,
        customer,
        "Mi pedido no ha llegado",
        "Hola, mi pedido 5531 no ha llegado todavía.",
    )
    ack = mailstack.wait_for(customer, count=1, criteria=ACK_CRITERIA)[0].decode()
    ack_id = next(
        line.split(":", 1)[1].strip() for line in ack.splitlines() if line.startswith("Message-ID:")
    )
    subject = next(
        line.split(":", 1)[1].strip() for line in ack.splitlines() if line.startswith("Subject:")
    )
    reference = subject.rsplit("[#", 1)[1].rstrip("]")
    _send(
        mailstack,
        desk,
        customer,
        "RE: Mi pedido no ha llegado",
        "Les adjunto la factura.",
        In_Reply_To=ack_id,
        References=ack_id,
    )
    _send(
        mailstack,
        desk,
        customer,
        "Antw: Mi pedido no ha llegado",
        "Nog een vraag: wanneer komt het?",
        In_Reply_To=ack_id,
        References=ack_id,
    )
    _send(mailstack, desk, customer, f"AW: Noch etwas [#{reference}]", "Ich warte immer noch.")
    wait_until(
        lambda: len(messages_by_folder(mailstack, desk.mailbox).get("Queues/orders", [])) == 4,
        10,
        "all four messages in the orders queue",
    )
    time.sleep(1.5)
    assert len(acknowledgments(mailstack, customer)) == 1
    tags = _flags(mailstack, desk.mailbox, "Queues/orders")
    # folders.reference_keywords is off by default (see bench scenario 6): queue keyword only
    assert all("orders" in flags and f"#{reference}" not in flags for flags in tags.values()), tags
    assert "follow-up" in desk.log()


def test_robot_loop_is_stopped_by_the_sender_cap(
    mailstack: MailStack, desk: RunningService
) -> None:
    robot = "customer5@example.test"
    stop = threading.Event()
    answered: list[int] = []

    def answer_everything() -> None:
        """A ticket robot that sets no Auto-Submitted and opens a new ticket for every mail."""
        with mailstack.imap(robot) as client:
            client.select_folder("INBOX")
            seen: set[int] = set()
            while not stop.is_set():
                for uid in client.search("ALL"):
                    if uid not in seen:
                        seen.add(uid)
                        answered.append(uid)
                        _send(
                            mailstack,
                            desk,
                            robot,
                            f"Ticket {len(seen)} opened",
                            "We received your message and opened a ticket.",
                        )
                client.noop()
                time.sleep(0.2)

    thread = threading.Thread(target=answer_everything)
    thread.start()
    try:
        _send(
            mailstack,
            desk,
            robot,
            "Ticket 0 opened",
            "We received your message and opened a ticket.",
        )
        wait_until(lambda: len(answered) >= 3, 15, "the robot to answer three acknowledgments")
        time.sleep(4)  # a loop would go on here
    finally:
        stop.set()
        thread.join()
    acks = acknowledgments(mailstack, robot)
    print(f"\nrobot loop: {len(acks)} acknowledgments before the per-sender cap stopped it")
    assert len(acks) == 3  # limits.per_sender default
    assert "sender-cap" in desk.log()
    filed = messages_by_folder(mailstack, desk.mailbox)
    assert (
        not filed["INBOX"] and sum(len(v) for k, v in filed.items() if k.startswith("Queues/")) == 4
    )


def test_priority_is_kept_and_gained_by_follow_ups(
    mailstack: MailStack, desk: RunningService
) -> None:
    angry, calm = "customer6@example.test", "customer7@example.test"
    _send(
        mailstack,
        desk,
        angry,
        "Refund now",
        "I will contact my lawyer if my refund does not arrive.",
    )
    _send(
        mailstack,
        desk,
        calm,
        "Question about my invoice",
        "Hello, could you explain line 3 of my invoice?",
    )
    for customer in (angry, calm):
        mailstack.wait_for(customer, count=1, criteria=ACK_CRITERIA)
    _send(mailstack, desk, angry, "Re: Refund now", "Thank you, just checking in.")
    _send(
        mailstack,
        desk,
        calm,
        "Re: Question about my invoice",
        "This is a SCAM. I am disputing the charge with my bank (chargeback) today.",
    )
    wait_until(
        lambda: (
            len(
                [
                    f
                    for k, v in messages_by_folder(mailstack, desk.mailbox).items()
                    if k.startswith("Queues/")
                    for f in v
                ]
            )
            == 4
        ),
        10,
        "four filed messages",
    )
    flags = {}
    for folder, messages in messages_by_folder(mailstack, desk.mailbox).items():
        if folder.startswith("Queues/") and messages:
            flags |= _flags(mailstack, desk.mailbox, folder)
    assert "\\Flagged" in flags["Refund now"] and "\\Flagged" in flags["Re: Refund now"]
    assert "\\Flagged" not in flags["Question about my invoice"]
    assert "\\Flagged" in flags["Re: Question about my invoice"]
    assert len(acknowledgments(mailstack, angry)) == len(acknowledgments(mailstack, calm)) == 1


def test_same_subject_from_two_customers_is_two_conversations(
    mailstack: MailStack, desk: RunningService
) -> None:
    first, second = "customer8@example.test", "customer9@example.test"
    for customer in (first, second):
        _send(mailstack, desk, customer, "Help", "Hello, my parcel has not arrived.")
    references = set()
    for customer in (first, second):
        ack = mailstack.wait_for(customer, count=1, criteria=ACK_CRITERIA)[0].decode()
        references.add(
            next(line for line in ack.splitlines() if line.startswith("Subject:")).rsplit("[#")[1]
        )
    assert len(references) == 2
