"""The SMTP edge: sends acknowledgments over one kept-open connection.

Keeping the connection open takes the TCP/TLS/EHLO/AUTH round trips off every
acknowledgment's path. Failures are split like everywhere else: 4xx replies
and network errors are transient (the acknowledgment stays queued in the
ledger), 5xx replies are permanent (recorded, not retried forever).
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from responder.config import ServerConfig
from responder.errors import (
    PermanentError,
    RecipientDeferred,
    RecipientRefused,
    RelayUnavailable,
    ResponderError,
    TransientError,
    UncertainDelivery,
)
from responder.service.auth import ready_provider
from responder.service.auth.password import smtp_password_login
from responder.service.auth.sasl import smtp_login
from responder.service.imaperrors import tls_context

log = logging.getLogger("responder.service.smtp")
T = TypeVar("T")
_DOT_AT_LINE_START = re.compile(rb"(?m)^\.")
STALE_AFTER = 5.0  # seconds idle after which a kept-open session is checked with NOOP before use


@contextmanager
def translated_errors(endpoint: str, action: str) -> Iterator[None]:
    try:
        yield
    except smtplib.SMTPAuthenticationError as exc:
        raise PermanentError(
            f"SMTP {endpoint}: login failed: {exc.smtp_code} {_reply(exc.smtp_error)}"
        ) from None
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()))
        kind = TransientError if 400 <= code < 500 else PermanentError
        raise kind(f"SMTP {endpoint}: recipient refused: {code} {_reply(text)}") from None
    except smtplib.SMTPResponseException as exc:
        kind = TransientError if 400 <= exc.smtp_code < 500 else PermanentError
        raise kind(f"SMTP {endpoint}: {action}: {exc.smtp_code} {_reply(exc.smtp_error)}") from None
    except ssl.SSLCertVerificationError as exc:
        raise PermanentError(
            f"SMTP {endpoint}: TLS certificate not trusted: {exc.verify_message}"
        ) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise PermanentError(f"SMTP {endpoint}: {action}: {exc}") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise TransientError(f"SMTP {endpoint}: {action}: {exc or type(exc).__name__}") from None


def _reply(text: bytes | str) -> str:
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)


class Sender:
    """A lazily opened, reused SMTP session."""

    def __init__(self, server: ServerConfig, envelope_sender: str = "") -> None:
        self.server = server
        self.endpoint = server.endpoint
        self.envelope_sender = envelope_sender  # "" = null sender <>, as RFC 3834 recommends
        self.session: smtplib.SMTP | None = None
        self.last_used = 0.0

    def connect(self) -> None:
        server = self.server
        tokens = ready_provider(server, "smtp")  # no token, no connection
        with translated_errors(self.endpoint, "connect"):
            session: smtplib.SMTP
            if server.security == "tls":
                session = smtplib.SMTP_SSL(
                    server.host, server.port, timeout=server.timeout, context=tls_context(server)
                )
            else:
                session = smtplib.SMTP(server.host, server.port, timeout=server.timeout)
            try:
                session.ehlo()
                if server.security == "starttls":
                    session.starttls(context=tls_context(server))
                    session.ehlo()
                if tokens is not None:
                    smtp_login(session, tokens, self.endpoint)
                elif server.username:
                    smtp_password_login(session, server.username, server.password, self.endpoint)
            except BaseException:
                session.close()
                raise
        self.session = session
        self.last_used = time.monotonic()

    def close(self) -> None:
        if self.session is not None:
            try:
                self.session.quit()
            except (OSError, smtplib.SMTPException):
                self.session.close()
            self.session = None

    def send(
        self, recipient: str, raw: bytes, point_of_no_return: Callable[[], None] = lambda: None
    ) -> None:
        """Send one message, exactly once per call, and say precisely how it failed.

        The transaction is taken step by step so that every failure is placed: before the
        end of DATA is on the wire nothing was accepted and a retry is safe; after it, only
        the reply says whether the relay took the mail, and a lost reply is an
        `UncertainDelivery`. `point_of_no_return` runs just before the end of DATA goes out
        (the outbox journals it, so a crash there is known to be uncertain too).
        """
        stale = time.monotonic() - self.last_used > STALE_AFTER
        if self.session is not None and stale and not self._alive(self.session):
            self.close()
        if self.session is None:
            try:
                self.connect()
            except ResponderError as exc:  # refused, unreachable, AUTH failed: nobody gets mail
                raise RelayUnavailable(str(exc)) from None
        assert self.session is not None
        session = self.session
        step = "MAIL FROM"
        try:
            code, text = session.mail(self.envelope_sender)
            self._check(code, text, step, (250,))
            step = "RCPT TO"
            code, text = session.rcpt(recipient)
            self._check(code, text, step, (250, 251))
            step = "DATA"
            session.putcmd("data")
            code, text = session.getreply()
            self._check(code, text, step, (354,))
            payload = _DOT_AT_LINE_START.sub(b"..", raw)
            if not payload.endswith(b"\r\n"):
                payload += b"\r\n"
            point_of_no_return()
            step = "end of DATA"
            session.send(payload + b".\r\n")
            code, text = session.getreply()
            self._check(code, text, step, (250,))
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            reason = f"SMTP {self.endpoint}: connection lost at {step}: {exc or type(exc).__name__}"
            if step == "end of DATA":
                raise UncertainDelivery(reason) from None
            raise RelayUnavailable(reason) from None
        self.last_used = time.monotonic()

    def _check(self, code: int, text: bytes, step: str, expected: tuple[int, ...]) -> None:
        """A reply that is not `expected`, classified: the relay's problem or this message's."""
        if code in expected:
            return
        reason = f"SMTP {self.endpoint}: {step}: {code} {_reply(text)}"
        relay_wide = step == "MAIL FROM" or code == 421
        if code == 421 or step != "end of DATA":
            self._reset_quietly()
        if relay_wide:
            raise RelayUnavailable(reason)
        if 400 <= code < 500:
            raise RecipientDeferred(reason)
        raise RecipientRefused(reason)

    def _reset_quietly(self) -> None:
        if self.session is None:
            return
        try:
            self.session.rset()
        except (OSError, smtplib.SMTPException):
            self.close()

    @staticmethod
    def _alive(session: smtplib.SMTP) -> bool:
        try:
            return session.noop()[0] == 250
        except (OSError, smtplib.SMTPException):
            return False

    def probe(self) -> None:
        """Connect, authenticate and say goodbye, for `responder check`."""
        self.connect()
        self.close()


class SenderPool:
    """A few kept-open sessions used in parallel.

    One session is bound by its round trips (MAIL, RCPT, DATA, and the server's
    own queue write per message); a burst or a backlog of acknowledgments goes
    out several times faster over a handful of sessions. Each worker thread owns
    one Sender.
    """

    def __init__(self, server: ServerConfig, envelope_sender: str = "", size: int = 4) -> None:
        self.server = server
        self.envelope_sender = envelope_sender
        self.size = max(1, size)
        self._local = threading.local()
        self._senders: list[Sender] = []
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=self.size, thread_name_prefix="smtp")

    def sender(self) -> Sender:
        """The calling worker thread's own session."""
        sender: Sender | None = getattr(self._local, "sender", None)
        if sender is None:
            sender = Sender(self.server, self.envelope_sender)
            self._local.sender = sender
            with self._lock:
                self._senders.append(sender)
        return sender

    def submit(self, function: Callable[[], T]) -> Future[T]:
        return self._executor.submit(function)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        with self._lock:
            for sender in self._senders:
                sender.close()
            self._senders.clear()
