"""Put a backlog into the support INBOX over LMTP, as an MTA would, while the service is down.

Why our own LMTP loop instead of MailStack.deliver_many: each message needs its own envelope
sender (bounces come from <>), and a few connections in parallel fill 10,000 messages in
about half the time of one (Dovecot runs one lmtp process per connection).
"""

from __future__ import annotations

import smtplib
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bench.mailgen import SUPPORT, Mail
from responder.devstack.mailstack import MailStack


@dataclass(frozen=True)
class Injected:
    count: int
    megabytes: float
    seconds: float
    connections: int

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0


def inject(stack: MailStack, mails: Sequence[Mail], connections: int = 3) -> Injected:
    """Deliver every mail to support@'s INBOX; raises if any is refused."""

    def deliver(share: Sequence[Mail]) -> int:
        with smtplib.LMTP(
            stack.host, stack.lmtp_port, local_hostname="localhost", timeout=60
        ) as lmtp:
            for mail in share:
                lmtp.sendmail(mail.envelope_from, [SUPPORT], mail.raw)
        return len(share)

    shares = [mails[i::connections] for i in range(connections)]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=connections) as pool:
        count = sum(pool.map(deliver, shares))
    seconds = time.perf_counter() - started
    megabytes = sum(len(m.raw) for m in mails) / 1e6
    return Injected(count, round(megabytes, 1), round(seconds, 2), connections)
