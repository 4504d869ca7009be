"""A fresh mail stack per phase, and the small things every scenario does with it.

Why a fresh stack each time: Sieve and the responder must never answer the same inbox, and a
phase must not see another phase's mail, Dovecot indexes or vacation database. A MailStack
starts in about 0.3 s, so isolation is cheaper than cleaning up.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import smtplib
import subprocess
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


SINK = "benchmark sink"


def discard_acknowledgments(stack: MailStack) -> None:
    """Postfix accepts acknowledgments as usual, then hands them to its `discard` transport
    instead of delivering them over LMTP into the customers' Maildirs: the drain then measures
    the responder, not local delivery (which a real server does elsewhere). Only mail to the
    stack's domain goes through Postfix in a drain (the backlog is injected over LMTP)."""
    etc = stack.state_dir / "etc" / "postfix"
    postconf = shutil.which("postconf") or "/usr/sbin/postconf"
    postfix = shutil.which("postfix") or "/usr/sbin/postfix"
    subprocess.run(
        [postconf, "-c", str(etc), "-e", f"virtual_transport = discard:{SINK}"],
        check=True,
        capture_output=True,
    )
    subprocess.run([postfix, "-c", str(etc), "reload"], check=True, capture_output=True)
    time.sleep(0.5)  # master re-reads main.cf; new deliveries use the sink


def discarded(stack: MailStack) -> int:
    """Acknowledgments Postfix accepted and discarded (its log: status=sent (benchmark sink))."""
    log = stack.state_dir / "log" / "postfix.log"
    if not log.exists():
        return 0
    return log.read_text(errors="replace").count(f"status=sent ({SINK})")


def seed_conversations(stack: MailStack, count: int) -> dict[str, float]:
    """A mailbox that has seen `count` conversations with `folders.reference_keywords` on.

    The service sets each conversation's `#REFERENCE` keyword in the INBOX, then moves the
    message to its queue: so the INBOX knows all `count` keywords and each of the five queue
    folders a fifth of them. Dovecot keeps a mailbox's keywords in its index for good and
    lists them all in every SELECT and after every STORE that adds one. Built quickly: per
    folder one message takes the keywords (500 per STORE) and is then expunged; the keyword
    list stays."""
    started = time.perf_counter()
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    rng = random.Random(count)
    refs = [b"#" + "".join(rng.choices(alphabet, k=8)).encode() for _ in range(count)]
    queues = [
        "Queues/billing",
        "Queues/technical",
        "Queues/orders",
        "Queues/account",
        "Queues/general",
    ]
    with stack.imap(SUPPORT) as client:
        client.socket().settimeout(600)
        _learn_keywords(client, "INBOX", refs)
        for index, queue in enumerate(queues):
            if not client.folder_exists(queue):
                client.create_folder(queue)
            _learn_keywords(client, queue, refs[index :: len(queues)])
        t = time.perf_counter()
        client.select_folder("INBOX")
        select_s = time.perf_counter() - t
        flags = client._imap.untagged_responses.get("FLAGS", [])
        flags_bytes = sum(len(x) for x in flags if isinstance(x, bytes))
        client.unselect_folder()
    return {
        "conversations": count,
        "seed_s": round(time.perf_counter() - started, 1),
        "select_inbox_ms": round(select_s * 1000, 1),
        "flags_response_kb": round(flags_bytes / 1024, 1),
    }


def _learn_keywords(client: IMAPClient, folder: str, keywords: list[bytes]) -> None:
    client.append(folder, b"Subject: seed\r\n\r\nseed\r\n")
    client.select_folder(folder)
    uid = client.search("ALL")[-1]
    for start in range(0, len(keywords), 500):
        client.add_flags([uid], keywords[start : start + 500], silent=True)
        client._imap.untagged_responses.clear()
    client.delete_messages([uid])
    client.uid_expunge([uid])
    client.unselect_folder()
