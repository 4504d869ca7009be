"""Run the real `responder run` as a subprocess against a test mail stack, and read what it did."""

from __future__ import annotations

import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from responder.devstack.demo import environment_for
from responder.devstack.mailstack import MailStack


def customer_mail(sender: str, to: str, subject: str, body: str, **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid("test", domain="example.test")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


class RunningService:
    """`python -m responder run` with its own state dir, told where the stack is by environment."""

    def __init__(
        self,
        stack: MailStack,
        workdir: Path,
        mailbox: str = "support@example.test",
        env: dict[str, str] | None = None,
    ) -> None:
        self.stack = stack
        self.workdir = workdir
        self.mailbox = mailbox
        self.state_dir = workdir / "state"
        self.log_path = workdir / "service.log"
        self.extra_env = env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def environment(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("RESPONDER_")}
        env.update(environment_for(self.stack, self.state_dir, self.mailbox))
        env["RESPONDER_SERVICE_LOG_LEVEL"] = "INFO"
        env.update(self.extra_env)
        return env

    def start(self, wait_ready: bool = True) -> None:
        """Start, and (by default) wait for READY=1 on a real sd_notify socket."""
        notify_path = self.workdir / f"notify-{self.starts}.sock"
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        listener.bind(str(notify_path))
        env = self.environment() | {"NOTIFY_SOCKET": str(notify_path)}
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "responder", "run"],
            env=env,
            stdout=log,
            stderr=log,
            cwd=self.workdir,
        )
        log.close()
        self.starts += 1
        try:
            if wait_ready:
                listener.settimeout(30)
                while b"READY=1" not in listener.recv(4096):
                    pass
        except TimeoutError:
            raise AssertionError(f"service never became ready:\n{self.log()}") from None
        finally:
            listener.close()
            notify_path.unlink(missing_ok=True)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> float:
        """SIGTERM; returns how long the clean exit took."""
        if self.process is None or self.process.poll() is not None:
            return 0.0
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
            raise AssertionError(f"service ignored SIGTERM for 20 s:\n{self.log()}") from None
        return time.monotonic() - started

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def messages_by_folder(stack: MailStack, user: str) -> dict[str, list[EmailMessage]]:
    """Every message in every selectable folder of a mailbox, parsed."""
    found: dict[str, list[EmailMessage]] = {}
    with stack.imap(user) as client:
        for flags, _delimiter, folder in client.list_folders():
            if b"\\Noselect" in flags:
                continue
            client.select_folder(folder, readonly=True)
            uids = client.search("ALL")
            fetched = client.fetch(uids, ["BODY.PEEK[]"]) if uids else {}
            # A message the service moves away between SEARCH and FETCH comes back without a body.
            found[folder] = [
                email.message_from_bytes(item[b"BODY[]"], policy=email.policy.default)  # type: ignore[misc]
                for item in fetched.values()
                if item.get(b"BODY[]")
            ]
    return found


def acknowledgments(stack: MailStack, customer: str) -> list[EmailMessage]:
    return [m for m in messages_by_folder(stack, customer).get("INBOX", []) if m["Auto-Submitted"]]


def duplicates(acks: list[EmailMessage]) -> int:
    """Acknowledgments beyond the first for the same customer message."""
    counts = Counter(str(m["In-Reply-To"]) for m in acks)
    return sum(n - 1 for n in counts.values())


def wait_until(predicate, timeout: float, what: str, interval: float = 0.1):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)
