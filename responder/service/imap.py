"""The IMAP edge: the only module that speaks IMAP.

Capabilities are read once per connection and every optional command has a
fallback (MOVE → COPY + \\Deleted + EXPUNGE; IDLE → polling). Every failure
is re-raised as TransientError (retry: timeouts, dropped connections, BYE) or
PermanentError (do not retry: bad credentials, certificate failures), always
naming host:port. The password never appears in a message or log line.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from imapclient import IMAPClient
from imapclient import exceptions as imap_errors

from responder.config import ServerConfig
from responder.errors import CommandRefused, PermanentError, TransientError

log = logging.getLogger("responder.service.imap")
NEW_MAIL = (b"EXISTS", b"RECENT")
# RFC 5530 response codes that say "not now" rather than "not this": worth a retry.
_TRY_AGAIN_CODES = ("[UNAVAILABLE]", "[INUSE]", "[LIMIT]")
IDLE_SLICE = 1.0  # seconds: how quickly a stop request or a watchdog ping is noticed while idling


def tls_context(server: ServerConfig) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=server.ca_file or None)
    if not server.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


@contextmanager
def translated_errors(endpoint: str, action: str) -> Iterator[None]:
    """Turn library and socket errors into our two kinds, each naming where and what."""
    try:
        yield
    except imap_errors.LoginError as exc:
        raise PermanentError(f"IMAP {endpoint}: login failed: {_text(exc)}") from None
    except ssl.SSLCertVerificationError as exc:
        raise PermanentError(
            f"IMAP {endpoint}: TLS certificate not trusted: {exc.verify_message}"
        ) from None
    except (imap_errors.CapabilityError, imap_errors.IllegalStateError) as exc:
        raise PermanentError(f"IMAP {endpoint}: {action}: {_text(exc)}") from None
    except (OSError, imaplib.IMAP4.abort, imap_errors.IMAPClientAbortError) as exc:
        raise TransientError(
            f"IMAP {endpoint}: {action}: {_text(exc) or type(exc).__name__}"
        ) from None
    except imap_errors.IMAPClientError as exc:
        text = _text(exc)
        if any(code in text.upper() for code in _TRY_AGAIN_CODES):
            raise TransientError(f"IMAP {endpoint}: {action}: {text}") from None
        raise CommandRefused(f"IMAP {endpoint}: {action}: refused: {text}") from None


def _text(exc: BaseException) -> str:
    text = str(exc)
    if text.startswith("b'") or text.startswith('b"'):
        text = text[2:-1]
    return text


class Mailbox:
    """One logged-in IMAP connection with the INBOX selected."""

    def __init__(self, server: ServerConfig, inbox: str = "INBOX") -> None:
        self.server = server
        self.inbox = inbox
        self.endpoint = server.endpoint
        self.client: IMAPClient | None = None
        self.capabilities: frozenset[bytes] = frozenset()
        self.delimiter = "/"
        self.uidvalidity = 0
        self._folders: set[str] = set()

    # --- connection ---

    def connect(self) -> None:
        with translated_errors(self.endpoint, "connect"):
            client = IMAPClient(
                self.server.host,
                port=self.server.port,
                ssl=self.server.security == "tls",
                ssl_context=tls_context(self.server),
                timeout=self.server.timeout,
            )
            try:
                if self.server.security == "starttls":
                    client.starttls(tls_context(self.server))
                client.login(self.server.username, self.server.password)
                self.capabilities = frozenset(client.capabilities())
                self.delimiter = self._find_delimiter(client)
                info = client.select_folder(self.inbox)
                self.uidvalidity = int(info[b"UIDVALIDITY"])
            except BaseException:
                _quietly_close(client)
                raise
        _keepalive(client)
        self.client = client
        self._folders = set()
        log.info(
            "imap connected to %s as %s (IDLE=%s MOVE=%s)",
            self.endpoint,
            self.server.username,
            self.has("IDLE"),
            self.has("MOVE"),
        )

    def close(self) -> None:
        if self.client is not None:
            _quietly_close(self.client)
            self.client = None

    @property
    def connected(self) -> bool:
        return self.client is not None

    def has(self, capability: str) -> bool:
        return capability.encode() in self.capabilities

    def _find_delimiter(self, client: IMAPClient) -> str:
        delimiter = (
            client.namespace().personal[0][1] if client.has_capability("NAMESPACE") else None
        )
        if not delimiter:
            listed = client.list_folders(directory="", pattern="")
            delimiter = listed[0][1] if listed else b"/"
        return delimiter.decode() if isinstance(delimiter, bytes) else str(delimiter)

    def _call(self, action: str, function: Callable[[IMAPClient], Any]) -> Any:
        if self.client is None:
            raise TransientError(f"IMAP {self.endpoint}: not connected")
        try:
            with translated_errors(self.endpoint, action):
                return function(self.client)
        except TransientError:
            self.close()  # the connection state is unknown: start over on the next attempt
            raise
        finally:
            self._forget_chatter()

    def _forget_chatter(self) -> None:
        """Drop the untagged responses imaplib keeps from every command, but new-mail news.

        Dovecot answers each new keyword with the mailbox's whole keyword list (FLAGS,
        PERMANENTFLAGS); imaplib keeps every such line forever, so a long-running
        service grew by megabytes per thousand messages and spent its time scanning them.
        """
        if self.client is not None:
            untagged = self.client._imap.untagged_responses
            for name in [name for name in untagged if name not in ("EXISTS", "RECENT")]:
                del untagged[name]

    # --- reading ---

    def search_all(self) -> list[int]:
        self._take_news()  # whatever was announced so far, this search sees
        return sorted(self._call("search", lambda c: c.search("ALL")))

    def _take_news(self) -> bool:
        """Did the server announce new mail (EXISTS/RECENT) outside IDLE since the last look?

        A message that arrives while another command runs is announced in that command's
        response, where imaplib files it away; the server will not announce it again
        in IDLE, so without this look it would wait in the INBOX until the next mail.
        """
        if self.client is None:
            return False
        untagged = self.client._imap.untagged_responses
        exists = untagged.pop("EXISTS", None)
        recent = untagged.pop("RECENT", None)
        return bool(exists or recent)

    def sizes(self, uids: Sequence[int]) -> dict[int, int]:
        if not uids:
            return {}
        data = self._call("fetch sizes", lambda c: c.fetch(uids, ["RFC822.SIZE"]))
        return {uid: int(item.get(b"RFC822.SIZE", 0)) for uid, item in data.items()}

    def fetch(self, uids: Sequence[int]) -> dict[int, bytes]:
        if not uids:
            return {}
        data = self._call("fetch", lambda c: c.fetch(uids, ["BODY.PEEK[]"]))
        return {uid: item[b"BODY[]"] for uid, item in data.items() if b"BODY[]" in item}

    # --- writing ---

    def folder_path(self, *parts: str) -> str:
        return self.delimiter.join(part for part in parts if part)

    def ensure_folder(self, folder: str) -> None:
        if folder in self._folders or folder == self.inbox:
            return

        def create(client: IMAPClient) -> None:
            if not client.folder_exists(folder):
                try:
                    client.create_folder(folder)
                except imap_errors.IMAPClientError:
                    if not client.folder_exists(folder):  # lost a race with another client: fine
                        raise
                client.subscribe_folder(folder)

        self._call(f"create folder {folder}", create)
        self._folders.add(folder)

    def add_flags(self, uids: Sequence[int], flags: Sequence[str]) -> None:
        if uids and flags:
            encoded = [flag.encode() for flag in flags]
            self._call("store flags", lambda c: c.add_flags(uids, encoded, silent=True))

    def move(self, uids: Sequence[int], folder: str) -> None:
        """MOVE when the server has it; otherwise COPY, mark deleted, and expunge just those UIDs."""
        if not uids:
            return
        self.ensure_folder(folder)
        if self.has("MOVE"):
            self._call(f"move to {folder}", lambda c: c.move(uids, folder))
            return

        def copy_delete(client: IMAPClient) -> None:
            client.copy(uids, folder)
            _delete(client, uids)

        self._call(f"copy to {folder}", copy_delete)

    def discard(self, uids: Sequence[int]) -> None:
        """Remove messages from the INBOX that are already filed (a COPY that did happen)."""
        if uids:
            self._call("expunge", lambda c: _delete(c, uids))

    def append(self, folder: str, messages: Sequence[bytes]) -> None:
        """Store copies (our sent acknowledgments), as one MULTIAPPEND when the server allows."""
        if not messages:
            return
        self.ensure_folder(folder)
        flags = [b"\\Seen"]
        if self.has("MULTIAPPEND") and len(messages) > 1:
            items = [{"msg": raw, "flags": flags} for raw in messages]
            self._call(f"append to {folder}", lambda c: c.multiappend(folder, items))
            return
        for raw in messages:
            self._append_one(folder, raw, flags)

    def _append_one(self, folder: str, raw: bytes, flags: list[bytes]) -> None:
        self._call(f"append to {folder}", lambda c: c.append(folder, raw, flags=flags))

    def sent_folder(self, configured: str) -> str:
        if configured:
            return configured
        found = self._call("list special folders", lambda c: c.find_special_folder(b"\\Sent"))
        return str(found) if found else "Sent"

    # --- waiting ---

    def wait_for_mail(
        self,
        timeout: float,
        should_stop: Callable[[], bool],
        tick: Callable[[], None],
        use_idle: bool = True,
    ) -> bool:
        """Block until the server reports new mail (True) or timeout/stop (False); IDLE or polling."""
        if self._take_news():
            return True
        if not (use_idle and self.has("IDLE")):
            return self._poll(timeout, should_stop, tick)
        deadline = time.monotonic() + timeout
        self._call("idle", lambda c: c.idle())
        new_mail = False
        quick_empty = 0
        try:
            while not should_stop() and not new_mail and time.monotonic() < deadline:
                tick()
                started = time.monotonic()
                responses = self._call("idle", lambda c: c.idle_check(timeout=IDLE_SLICE))
                # imapclient swallows EOF and returns []: readable-but-empty, again and again,
                # is how a connection the server dropped looks from here.
                quick_empty = (
                    quick_empty + 1
                    if not responses and time.monotonic() - started < IDLE_SLICE / 2
                    else 0
                )
                if quick_empty >= 3:
                    raise TransientError(f"IMAP {self.endpoint}: connection closed by the server")
                for response in responses:
                    if len(response) > 1 and response[1] in NEW_MAIL:
                        new_mail = True
                    if response and response[0] == b"BYE":
                        raise TransientError(
                            f"IMAP {self.endpoint}: server closed the connection (BYE)"
                        )
        except BaseException:
            self.close()  # the IDLE state is unknown: drop the connection, never send DONE into it
            raise
        self._call("idle done", lambda c: c.idle_done())
        return new_mail

    def _poll(
        self, timeout: float, should_stop: Callable[[], bool], tick: Callable[[], None]
    ) -> bool:
        deadline = time.monotonic() + timeout
        while not should_stop() and time.monotonic() < deadline:
            tick()
            time.sleep(min(IDLE_SLICE, max(0.0, deadline - time.monotonic())))
        self._call("noop", lambda c: c.noop())
        return True


def _delete(client: IMAPClient, uids: Sequence[int]) -> None:
    client.add_flags(uids, [b"\\Deleted"], silent=True)
    if client.has_capability("UIDPLUS"):
        client.uid_expunge(uids)
    else:
        client.expunge()


def _keepalive(client: IMAPClient) -> None:
    """TCP keepalive, so a connection lost without a FIN (a network partition) is noticed in ~90 s."""
    sock = client.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for option, value in (("TCP_KEEPIDLE", 60), ("TCP_KEEPINTVL", 10), ("TCP_KEEPCNT", 3)):
        if hasattr(socket, option):
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)


def _quietly_close(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:
        with contextlib.suppress(Exception):
            client.shutdown()
