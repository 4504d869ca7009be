"""A running service behind fault proxies, and the invariants every fault must leave intact."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from faultproxy import FaultProxy
from servicekit import RunningService, customer_mail, messages_by_folder, wait_until

from responder.devstack.mailstack import MailStack

SUPPORT = "support@example.test"
CUSTOMERS = [f"bench{n:03d}@example.test" for n in range(1, 51)]


class FaultyDesk:
    """`responder run` whose IMAP and SMTP go through proxies that fail on cue."""

    def __init__(self, stack: MailStack, workdir: Path, hide: tuple[str, ...] = ()) -> None:
        self.stack = stack
        self.imap = FaultProxy(stack.imap_port, "imap", hide_capabilities=hide)
        self.smtp = FaultProxy(stack.smtp_port, "smtp", fake_auth=True)
        self.service = RunningService(
            stack,
            workdir,
            SUPPORT,
            env={
                "RESPONDER_IMAP_PORT": str(self.imap.port),
                "RESPONDER_SMTP_PORT": str(self.smtp.port),
                "RESPONDER_SMTP_USERNAME": "relay",
                "RESPONDER_SMTP_PASSWORD": "relay-secret",
                "RESPONDER_IMAP_TIMEOUT": "10",
                "RESPONDER_SMTP_TIMEOUT": "10",
                "RESPONDER_LIMITS_PER_SENDER": "100000",
                "RESPONDER_LIMITS_GLOBAL_PER_HOUR": "1000000",
                "RESPONDER_SERVICE_BATCH_SIZE": "20",
            },
        )
        self.rounds = 0

    def start(self) -> None:
        self.service.start()

    def stop(self) -> None:
        self.service.stop()
        self.imap.close()
        self.smtp.close()

    def clear(self) -> None:
        self.imap.disarm()
        self.smtp.disarm()
        self.stack._doveadm("expunge", "-A", "mailbox", "*", "all")

    def deliver(self, label: str, customers: list[str] = CUSTOMERS) -> list[str]:
        """One complaint from each customer, with subjects no earlier round used."""
        self.rounds += 1
        raws = [
            customer_mail(
                customer,
                SUPPORT,
                f"{label} round {self.rounds}: parcel {index} missing",
                f"Hello, my parcel number {index} has still not arrived. Where is it?",
            )
            for index, customer in enumerate(customers)
        ]
        self.stack.deliver_many(SUPPORT, raws)
        return customers

    def acks_by_customer(self) -> Counter[str]:
        """Acknowledgments in every mailbox, from one doveadm search (cheap enough to poll)."""
        out = self.stack._doveadm(
            "search", "-A", "mailbox", "INBOX", "HEADER", "Auto-Submitted", "auto-replied"
        )
        return Counter(line.split()[0] for line in out.splitlines() if line.strip())

    def inbox_count(self) -> int:
        out = self.stack._doveadm("search", "-u", SUPPORT, "mailbox", "INBOX", "ALL")
        return len([line for line in out.splitlines() if line.strip()])

    def settle(self, expected: list[str], timeout: float = 45.0) -> Counter[str]:
        """Wait until every expected customer has an acknowledgment and the INBOX is empty;
        then a little longer, for a duplicate that might still be coming."""

        def done() -> bool:
            acks = self.acks_by_customer()
            return all(acks[c] for c in expected) and self.inbox_count() == 0

        try:
            wait_until(done, timeout, "every acknowledgment and an empty INBOX", interval=0.3)
        except AssertionError:
            acks = self.acks_by_customer()
            missing = [c for c in expected if not acks[c]]
            raise AssertionError(
                f"{len(missing)} without acknowledgment ({missing[:5]}), "
                f"{self.inbox_count()} left in the INBOX:\n{self.service.log()[-5000:]}"
            ) from None
        time.sleep(1.0)
        return self.acks_by_customer()

    def check_invariants(self, delivered: int, acks: Counter[str]) -> None:
        duplicates = {customer: n for customer, n in acks.items() if n > 1}
        assert not duplicates, f"duplicate acknowledgments: {duplicates}"
        folders = messages_by_folder(self.stack, SUPPORT)
        placed = [
            str(m["Message-ID"]) for name, msgs in folders.items() if name != "Sent" for m in msgs
        ]
        assert not folders["INBOX"], "the INBOX is empty"
        assert len(placed) == len(set(placed)) == delivered, (
            f"every message in exactly one folder: {len(placed)} placed, "
            f"{len(set(placed))} distinct, {delivered} delivered"
        )
        sent = [str(m["Message-ID"]) for m in folders.get("Sent", [])]
        assert len(sent) == len(set(sent)), "one copy of each acknowledgment in Sent"
        assert self.service.process is not None and self.service.process.poll() is None, (
            "the service recovered on its own"
        )

    def responder(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A CLI command against this service's state, as an operator would run it."""
        return subprocess.run(
            [sys.executable, "-m", "responder", *args],
            env=self.service.environment(),
            capture_output=True,
            text=True,
            timeout=60,
            cwd=self.service.workdir,
        )
