"""What tests and the bench do to a running stack's mailboxes: log in, send, deliver, wait, clear."""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from responder.service.auth.password import imap_password_login

_SIEVE_NAME = "mailstack"


class MailStackError(Exception):
    """The stack could not be started or driven; the message includes the relevant log tail."""


class MailboxClients:
    """Client-side helpers of a `MailStack`; the stack supplies ports, users and its own doveadm."""

    host: str
    imap_port: int
    lmtp_port: int
    smtp_port: int
    password: str
    domain: str
    state_dir: Path
    cafile: Path
    _log_dir: Path

    def _address(self, user: str) -> str:
        return (user if "@" in user else f"{user}@{self.domain}").lower()

    def _doveadm(self, *args: str, stdin: str | None = None) -> str:
        raise NotImplementedError

    def imap(self, user: str) -> IMAPClient:
        """A logged-in plain IMAP client (ssl=False) on imap_port. Caller logs out."""
        client = IMAPClient(self.host, port=self.imap_port, ssl=False, timeout=10)
        try:
            imap_password_login(client, self._address(user), self.password, "mailstack")
        except BaseException:
            client.shutdown()
            raise
        return client

    def ssl_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts this stack's self-signed cert (for IMAPS)."""
        return ssl.create_default_context(cafile=str(self.cafile))

    def send(self, raw: bytes, mail_from: str, rcpt_to: Sequence[str]) -> None:
        """Submit a message to Postfix over SMTP; raises if any recipient is refused."""
        # local_hostname avoids socket.getfqdn(), i.e. a DNS lookup on a box without DNS.
        with smtplib.SMTP(
            self.host, self.smtp_port, local_hostname="localhost", timeout=10
        ) as smtp:
            refused = smtp.sendmail(mail_from, list(rcpt_to), raw)
        if refused:
            raise MailStackError(f"recipients refused: {refused}")

    def deliver(self, user: str, raw: bytes, mail_from: str = "customer1@example.test") -> None:
        """Inject one message straight into Dovecot over LMTP (bypasses Postfix; Sieve runs)."""
        self.deliver_many(user, [raw], mail_from)

    def deliver_many(
        self, user: str, raws: Iterable[bytes], mail_from: str = "customer1@example.test"
    ) -> int:
        """Inject many messages over one LMTP connection (fast backlogs); returns the count."""
        count = 0
        with smtplib.LMTP(
            self.host, self.lmtp_port, local_hostname="localhost", timeout=30
        ) as lmtp:
            for raw in raws:
                lmtp.sendmail(mail_from, [self._address(user)], raw)
                count += 1
        return count

    def set_sieve(self, user: str, script: str | None) -> None:
        """Install and activate a Sieve script for `user` (None: deactivate). Dovecot must be
        running (doveadm looks the user up through it). Always empties the user's vacation
        duplicate DB (~/.dovecot.lda-dupes), so earlier replies do not suppress new ones."""
        address = self._address(user)
        for name in (".dovecot.lda-dupes", ".dovecot.lda-dupes.lock"):
            (self.home(user) / name).unlink(missing_ok=True)
        if script is None:
            self._doveadm("sieve", "deactivate", "-u", address)
        else:
            self._doveadm("sieve", "put", "-u", address, "-a", _SIEVE_NAME, stdin=script)

    def clear(self, user: str) -> None:
        """Expunge every message in every mailbox of `user` (folders stay)."""
        self._doveadm("expunge", "-u", self._address(user), "mailbox", "*", "all")

    def home(self, user: str) -> Path:
        address = self._address(user)
        return self.state_dir / "mail" / self.domain / address.split("@")[0]

    def maildir(self, user: str) -> Path:
        return self.home(user) / "Maildir"

    def wait_for(
        self,
        user: str,
        folder: str = "INBOX",
        count: int = 1,
        timeout: float = 10.0,
        criteria: Any = "ALL",
    ) -> list[bytes]:
        """Poll `folder` over IMAP until at least `count` messages match `criteria` (IMAPClient
        search syntax); return all matching messages' raw bytes in UID order.
        Raises TimeoutError saying what was found instead. A missing folder counts as empty."""
        deadline = time.monotonic() + timeout
        found, problem = 0, ""
        with self.imap(user) as client:
            while True:
                try:
                    client.select_folder(folder, readonly=True)
                    uids = sorted(client.search(criteria))
                except IMAPClientError as exc:
                    uids, problem = [], f" (last IMAP error: {exc})"
                found = len(uids)
                if found >= count:
                    fetched = client.fetch(uids, ["BODY.PEEK[]"])
                    return [fetched[uid][b"BODY[]"] for uid in uids]
                if time.monotonic() >= deadline:
                    break
                time.sleep(0.05)
        raise TimeoutError(
            f"{self._address(user)} {folder}: {found} of {count} expected message(s) matching "
            f"{criteria!r} after {timeout:g} s{problem}.\n{self.log_tail(15)}"
        )

    def log_tail(self, n: int = 40) -> str:
        """The last `n` lines of each log (Dovecot, Postfix, daemon start output)."""
        parts = []
        for name in ("dovecot.log", "postfix.log", "start.log"):
            path = self._log_dir / name
            try:
                lines = path.read_text(errors="replace").splitlines()[-n:]
            except OSError:
                continue
            parts.append(f"==> {path} <==\n" + "\n".join(lines))
        return "\n".join(parts) or f"(no logs yet in {self._log_dir})"
