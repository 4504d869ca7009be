"""The live service against a real Dovecot and Postfix: acknowledgments, filing, crashes, outages."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import pytest
from servicekit import (
    RunningService,
    acknowledgments,
    customer_mail,
    duplicates,
    messages_by_folder,
    wait_until,
)

from responder.devstack.demo import bounce_message, out_of_office_message
from responder.devstack.mailstack import MailStack

pytestmark = pytest.mark.stack
SUPPORT = "support@example.test"


def test_three_customers_three_languages_and_two_robots(
    mailstack: MailStack, tmp_path: Path
) -> None:
    service = RunningService(mailstack, tmp_path, SUPPORT)
    for user in (
        SUPPORT,
        "customer1@example.test",
        "customer2@example.test",
        "customer3@example.test",
    ):
        mailstack.clear(user)  # the session stack is shared: start from empty mailboxes
    service.start()
    try:
        complaints = {
            "customer1@example.test": (
                "Factura duplicada este mes",
                "Hola, me han cobrado la factura dos veces este mes. ¿Me pueden "
                "devolver el dinero?",
                "es",
                "billing",
            ),
            "customer2@example.test": (
                "Bestelling niet ontvangen",
                "Goedemiddag, mijn bestelling is na twee weken nog steeds niet "
                "bezorgd. Waar blijft mijn pakket?",
                "nl",
                "orders",
            ),
            "customer3@example.test": (
                "Cannot log in",
                "Hello, I forgot my password and the reset link never arrives, so I "
                "cannot log in to my account.",
                "en",
                "account",
            ),
        }
        sent_at = {}
        for customer, (subject, body, _lang, _queue) in complaints.items():
            sent_at[customer] = time.monotonic()
            mailstack.send(customer_mail(customer, SUPPORT, subject, body), customer, [SUPPORT])
        mailstack.send(bounce_message(), "", [SUPPORT])
        mailstack.send(out_of_office_message(), "customer1@example.test", [SUPPORT])

        for customer in complaints:
            received = mailstack.wait_for(
                customer, count=1, timeout=10, criteria=["HEADER", "Auto-Submitted", ""]
            )
            elapsed = time.monotonic() - sent_at[customer]
            assert elapsed < 10, f"{customer} waited {elapsed:.1f} s"
            assert len(received) == 1
        wait_until(
            lambda: not messages_by_folder(mailstack, SUPPORT)["INBOX"], 10, "an empty INBOX"
        )
        time.sleep(1.0)  # a second acknowledgment, if one were coming, would arrive now
        folders = messages_by_folder(mailstack, SUPPORT)
        for customer, (subject, _body, lang, queue) in complaints.items():
            acks = acknowledgments(mailstack, customer)
            assert len(acks) == 1, customer
            ack = acks[0]
            assert ack["Auto-Submitted"] == "auto-replied"
            assert ack["X-Auto-Response-Suppress"] == "All"
            assert ack["Content-Language"] == lang
            assert ack["Subject"].startswith(f"Re: {subject}")
            assert ack["In-Reply-To"] and ack["References"].endswith(ack["In-Reply-To"])
            assert ack["Message-ID"].endswith("@example.test>")
            assert [m["Subject"] for m in folders[f"Queues/{queue}"]] == [subject], queue
        refused = {m["Subject"] for m in folders["Auto-Replies"]}
        assert refused == {"Undelivered Mail Returned to Sender", "Automatic reply: Your ticket"}
        assert len(folders["Sent"]) == 3  # agents see what each customer was told
        assert service.stop() < 10
    finally:
        service.stop()


def test_crash_at_random_moments_loses_nothing_and_acknowledges_once(
    make_mailstack,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    stack: MailStack = make_mailstack()
    customers = [f"bench{n:03d}@example.test" for n in range(1, 201)]
    service = RunningService(stack, tmp_path, SUPPORT, env={"RESPONDER_SERVICE_BATCH_SIZE": "20"})
    service.start()
    sent: list[str] = []

    def submit() -> None:
        for index, customer in enumerate(customers):
            raw = customer_mail(
                customer,
                SUPPORT,
                f"Order {index} has not arrived",
                f"Hello, my order number {index} has still not been delivered.",
            )
            stack.send(raw, customer, [SUPPORT])
            sent.append(customer)
            time.sleep(0.04)

    sender = threading.Thread(target=submit)
    sender.start()
    chooser = random.Random()
    for _ in range(5):
        time.sleep(chooser.uniform(0.3, 2.0))
        service.kill()
        time.sleep(chooser.uniform(0.0, 0.3))
        service.start(wait_ready=False)
    sender.join()
    try:
        try:
            wait_until(
                lambda: all(acknowledgments(stack, c) for c in customers),
                90,
                "an acknowledgment for every customer",
                interval=1.0,
            )
        except AssertionError:
            missing = [c for c in customers if not acknowledgments(stack, c)]
            raise AssertionError(
                f"no acknowledgment for {missing}:\n{service.log()[-6000:]}"
            ) from None
        wait_until(lambda: not messages_by_folder(stack, SUPPORT)["INBOX"], 30, "an empty INBOX")
        time.sleep(2.0)
        folders = messages_by_folder(stack, SUPPORT)
        placed = [
            str(m["Message-ID"]) for name, msgs in folders.items() if name != "Sent" for m in msgs
        ]
        assert len(placed) == len(customers) == len(set(placed)), (
            "every message in exactly one folder"
        )
        all_acks = [a for c in customers for a in acknowledgments(stack, c)]
        duplicate_count = duplicates(all_acks)
        print(
            f"\ncrash test: {len(customers)} messages, 5 SIGKILLs, {len(all_acks)} acknowledgments, "
            f"{duplicate_count} duplicates"
        )
        assert duplicate_count == 0, service.log()[-4000:]
    finally:
        service.stop()


def test_reconnects_after_dovecot_outage(make_mailstack, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    stack: MailStack = make_mailstack()
    service = RunningService(stack, tmp_path, SUPPORT)
    service.start()
    try:
        stack.stop_dovecot()
        time.sleep(10)
        stack.start_dovecot()
        back = time.monotonic()
        stack.send(
            customer_mail(
                "customer1@example.test",
                SUPPORT,
                "My invoice is wrong",
                "Hello, the amount on my invoice is wrong.",
            ),
            "customer1@example.test",
            [SUPPORT],
        )
        stack.wait_for(
            "customer1@example.test", count=1, timeout=10, criteria=["HEADER", "Auto-Submitted", ""]
        )
        assert time.monotonic() - back < 10
        assert "reconnecting" in service.log()
    finally:
        service.stop()


def test_postfix_outage_queues_acknowledgments(make_mailstack, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    stack: MailStack = make_mailstack()
    service = RunningService(stack, tmp_path, SUPPORT)
    service.start()
    customers = [f"bench{n:03d}@example.test" for n in range(1, 21)]
    try:
        stack.stop_postfix()
        for customer in customers:  # Postfix is down: delivered straight to Dovecot
            stack.deliver(
                SUPPORT,
                customer_mail(
                    customer,
                    SUPPORT,
                    "Where is my parcel?",
                    "Hello, my parcel has not arrived yet.",
                ),
                customer,
            )
        wait_until(
            lambda: len(messages_by_folder(stack, SUPPORT).get("Queues/orders", [])) == 20,
            20,
            "all 20 filed while SMTP is down",
        )
        assert not messages_by_folder(stack, SUPPORT)["INBOX"]
        stack.start_postfix()
        wait_until(
            lambda: all(acknowledgments(stack, c) for c in customers),
            90,
            "20 acknowledgments after Postfix returned",
            interval=1.0,
        )
        time.sleep(2.0)
        acks = [a for c in customers for a in acknowledgments(stack, c)]
        assert len(acks) == 20 and duplicates(acks) == 0
    finally:
        service.stop()
