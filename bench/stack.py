"""A fresh mail stack per phase, and the small things every scenario does with it.

Why a fresh stack each time: Sieve and the responder must never answer the same inbox, and a
phase must not see another phase's mail, Dovecot indexes or vacation database. A MailStack
starts in about 0.3 s, so isolation is cheaper than cleaning up.
"""

from __future__ import annotations

import contextlib
import smtplib
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from imapclient import IMAPClient

from responder.devstack.mailstack import MailStack

SUPPORT = "support@example.test"
VACATION_SECONDS_0 = """require ["vacation", "vacation-seconds"];
# RFC 6131 :seconds 0 = a reply to every message, no per-sender suppression.
vacation :seconds 0 :subject "We received your message"
  "Thank you for contacting support. We received your message and will get back to you soon.";
"""


def bench_users(count: int) -> list[str]:
    return [f"bench{i:03d}@example.test" for i in range(1, count + 1)]


@contextlib.contextmanager
def fresh_stack(workdir: Path, name: str, mailboxes: Sequence[str]) -> Iterator[MailStack]:
    """A started stack whose `mailboxes` exist (so their Maildir/new can be watched)."""
    stack = MailStack(workdir / name)
    stack.start()
    try:
        open_mailboxes(stack, [SUPPORT, *mailboxes])
        yield stack
    finally:
        stack.cleanup()


def open_mailboxes(stack: MailStack, users: Sequence[str]) -> None:
    """Log in and SELECT each INBOX once: Dovecot creates the Maildir, and auth is warm."""

    def touch(user: str) -> None:
        client = stack.imap(user)
        try:
            client.select_folder("INBOX")
        finally:
            client.logout()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(touch, users))


def maildir_new(stack: MailStack, user: str) -> Path:
    return stack.maildir(user) / "new"


def smtp(stack: MailStack) -> smtplib.SMTP:
    """A customer's SMTP connection to Postfix (local_hostname: no DNS lookup)."""
    return smtplib.SMTP(stack.host, stack.smtp_port, local_hostname="localhost", timeout=30)


def folder_counts(stack: MailStack, user: str = SUPPORT) -> dict[str, int]:
    """Messages per selectable folder (IMAP STATUS), to check where everything went."""
    counts: dict[str, int] = {}
    with stack.imap(user) as client:
        for flags, _delim, folder in client.list_folders():
            if b"\\Noselect" in flags:
                continue
            counts[str(folder)] = int(client.folder_status(folder, ["MESSAGES"])[b"MESSAGES"])
    return counts


def inbox_count(stack: MailStack, user: str = SUPPORT) -> int:
    with stack.imap(user) as client:
        return int(client.folder_status("INBOX", ["MESSAGES"])[b"MESSAGES"])


def move_everything_to_inbox(stack: MailStack, keep: Sequence[str] = ("Sent",)) -> float:
    """Put every filed message back in the INBOX (one UID MOVE per folder); returns seconds."""
    started = time.perf_counter()
    with stack.imap(SUPPORT) as client:
        for flags, _delim, folder in client.list_folders():
            name = str(folder)
            if b"\\Noselect" in flags or name == "INBOX" or name in keep:
                continue
            if client.select_folder(name)[b"EXISTS"]:
                client.move(client.search("ALL"), "INBOX")
        client.unselect_folder()
    return time.perf_counter() - started


def wait_inbox_settled(client: IMAPClient, expected: int, timeout: float) -> int:
    """Poll INBOX's message count until it reaches `expected`; returns what it last saw."""
    deadline = time.perf_counter() + timeout
    while True:
        seen = int(client.folder_status("INBOX", ["MESSAGES"])[b"MESSAGES"])
        if seen >= expected or time.perf_counter() > deadline:
            return seen
        time.sleep(0.05)
