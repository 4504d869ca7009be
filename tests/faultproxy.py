"""A TCP proxy that speaks just enough IMAP and SMTP to fail on cue.

It sits between the service and the real Dovecot or Postfix and, when armed, acts on one
protocol step: an IMAP command (`FETCH`, `STORE`, `MOVE`, `COPY`, `EXPUNGE`, `APPEND`,
`IDLE`, `LOGIN`, `SELECT`, …; `UID X` counts as `X`) or an SMTP stage (`CONNECT`, `EHLO`,
`AUTH`, `MAIL`, `RCPT`, `DATA`, and `EOD`: after the end of DATA reached the server, before
its reply reaches us). Actions:

- `drop`: cut both connections (the command never reaches the server; at `EOD` the server
  has the mail and we never hear its answer);
- `drop-after` (IMAP): pass the command on, then cut when its tagged answer comes: the
  server did it (MOVE, APPEND, COPY…) and we never hear so;
- `reply`: answer in the server's place (IMAP `tag NO …`, or an SMTP reply line such as
  `550 5.4.5 Daily user sending quota exceeded`), the server never sees the command;
- `delay`: hold the command for some seconds, then pass it on.

A fault fires `times` times, or for `seconds` after it first fires: a relay-wide 5xx is an
outage that lasts, a dropped connection usually happens once.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from dataclasses import dataclass

IMAP_COMMAND = re.compile(rb"^(?P<tag>[^\s]+) (?:UID )?(?P<verb>[A-Za-z]+)", re.IGNORECASE)
LITERAL = re.compile(rb"\{(\d+)\+?\}\r\n$")


@dataclass
class Fault:
    cue: str  # IMAP verb or SMTP stage, upper case
    action: str  # drop | reply | delay
    reply: str = ""  # for `reply`: the SMTP line, or the IMAP text after `tag NO`
    delay: float = 0.0  # for `delay`
    times: int = 1  # how many times it fires (ignored when `seconds` is set)
    seconds: float = 0.0  # fire on every occurrence for this long after the first
    match: str = ""  # only command lines containing this text (e.g. a folder name)
    fired: int = 0
    first_fired: float = 0.0

    def live(self) -> bool:
        if self.seconds:
            return self.fired == 0 or time.monotonic() - self.first_fired < self.seconds
        return self.fired < self.times

    def fire(self) -> None:
        if self.fired == 0:
            self.first_fired = time.monotonic()
        self.fired += 1


class FaultProxy:
    """Listens on a free loopback port and forwards to `upstream_port`, failing on cue."""

    def __init__(
        self,
        upstream_port: int,
        protocol: str,
        host: str = "127.0.0.1",
        hide_capabilities: tuple[str, ...] = (),
        fake_auth: bool = False,
    ) -> None:
        """`hide_capabilities`: IMAP capabilities to strip from what the server advertises (to
        exercise fallbacks such as COPY + EXPUNGE without MOVE). `fake_auth`: advertise SMTP
        AUTH and answer it here (235), so the AUTH step exists to fail on."""
        assert protocol in ("imap", "smtp")
        self.protocol = protocol
        self.hide = [
            re.compile(rb" " + name.encode() + rb"(?=[ \]\r])") for name in hide_capabilities
        ]
        self.fake_auth = fake_auth
        self.upstream = (host, upstream_port)
        self._listener = socket.create_server((host, 0))
        self.port: int = self._listener.getsockname()[1]
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._closing = False
        self.connections = 0
        self.seen: dict[str, int] = {}  # cue -> how often the proxy saw it
        threading.Thread(target=self._accept, daemon=True).start()

    # --- control ---

    def arm(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def disarm(self) -> None:
        with self._lock:
            self._faults.clear()

    def close(self) -> None:
        self._closing = True
        self._listener.close()

    def _take(self, cue: str, line: bytes = b"") -> Fault | None:
        with self._lock:
            self.seen[cue] = self.seen.get(cue, 0) + 1
            for fault in self._faults:
                if fault.match and fault.match.encode() not in line:
                    continue
                if fault.cue == cue and fault.live():
                    fault.fire()
                    return fault
        return None

    # --- plumbing ---

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        if self.protocol == "smtp":
            fault = self._take("CONNECT")
            if fault and fault.action == "drop":
                client.close()
                return
            if fault and fault.action == "reply":
                _send(client, fault.reply.encode() + b"\r\n")
                client.close()
                return
            if fault and fault.action == "delay":
                time.sleep(fault.delay)
        try:
            server = socket.create_connection(self.upstream, timeout=10)
            server.settimeout(None)
        except OSError:
            client.close()
            return
        link = _Link(client, server)
        threading.Thread(target=self._server_to_client, args=(link,), daemon=True).start()
        self._client_to_server(link)

    def _server_to_client(self, link: _Link) -> None:
        while True:
            try:
                data = link.server.recv(65536)
            except OSError:
                data = b""
            if not data or link.drop_server_reply:
                link.cut()
                return
            if link.cut_on_tag and (
                data.startswith(link.cut_on_tag) or b"\r\n" + link.cut_on_tag in data
            ):
                time.sleep(0.2)  # let the server finish what it answered about
                link.cut()
                return
            data = self._rewrite(link, data)
            if not _send(link.client, data):
                link.cut()
                return

    def _rewrite(self, link: _Link, data: bytes) -> bytes:
        if self.protocol == "imap" and self.hide and b"CAPABILITY" in data:
            for pattern in self.hide:
                data = pattern.sub(b"", data)
        if (
            self.protocol == "smtp"
            and self.fake_auth
            and link.ehlo_sent
            and data.startswith(b"250")
        ):
            link.ehlo_sent = False
            first, _, rest = data.partition(b"\r\n")
            data = first.replace(b"250 ", b"250-", 1) + b"\r\n250-AUTH PLAIN LOGIN\r\n" + rest
            if not rest:
                data = first.replace(b"250 ", b"250-", 1) + b"\r\n250 AUTH PLAIN LOGIN\r\n"
        return data

    def _client_to_server(self, link: _Link) -> None:
        buffer = b""
        literal = 0  # IMAP literal bytes still to pass through untouched
        in_data = False  # SMTP: inside the DATA body
        tail = b""  # SMTP: the last bytes of the body, to spot CRLF.CRLF across reads
        while True:
            try:
                chunk = link.client.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                link.cut()
                return
            buffer += chunk
            while buffer:
                if literal:
                    part, buffer = buffer[:literal], buffer[literal:]
                    literal -= len(part)
                    if not _send(link.server, part):
                        return link.cut()
                    continue
                if in_data:
                    end = (tail + buffer).find(b"\r\n.\r\n")
                    if end < 0:
                        if not _send(link.server, buffer):
                            return link.cut()
                        tail = (tail + buffer)[-4:]
                        buffer = b""
                        continue
                    upto = end + 5 - len(tail)
                    body, buffer = buffer[:upto], buffer[upto:]
                    in_data, tail = False, b""
                    fault = self._take("EOD")
                    if fault and fault.action == "delay":
                        time.sleep(fault.delay)
                    if fault and fault.action == "reply":  # answer for a server that gave up
                        _send(link.client, fault.reply.encode() + b"\r\n")
                        return link.cut()
                    if fault and fault.action == "drop":
                        link.drop_server_reply = True  # the server gets the mail, we hear nothing
                    if not _send(link.server, body):
                        return link.cut()
                    continue
                newline = buffer.find(b"\n")
                if newline < 0:
                    break
                line, buffer = buffer[: newline + 1], buffer[newline + 1 :]
                verdict = self._line(link, line)
                if verdict == "cut":
                    return link.cut()
                if verdict == "swallow":
                    continue
                if not _send(link.server, line):
                    return link.cut()
                if self.protocol == "imap":
                    match = LITERAL.search(line)
                    literal = int(match.group(1)) if match else 0
                elif line.strip().upper() == b"DATA":
                    in_data = True  # (the server's 354 follows; the body comes after it)

    def _line(self, link: _Link, line: bytes) -> str:
        """What to do with one command line: forward, swallow (answered here) or cut."""
        if self.protocol == "imap":
            match = IMAP_COMMAND.match(line)
            if not match:
                return "forward"
            cue, tag = match.group("verb").decode().upper(), match.group("tag")
            fault = self._take(cue, line)
            if fault is None:
                return "forward"
            if fault.action == "drop":
                return "cut"
            if fault.action == "drop-after":
                link.cut_on_tag = tag + b" "
                return "forward"
            if fault.action == "delay":
                time.sleep(fault.delay)
                return "forward"
            text = fault.reply or "[SERVERBUG] injected fault"
            _send(link.client, tag + b" NO " + text.encode() + b"\r\n")
            return "swallow"
        word = line.split(b" ", 1)[0].strip().upper().decode(errors="replace")
        cue = "EHLO" if word == "HELO" else word
        fault = self._take(cue, line)
        if cue == "EHLO":
            link.ehlo_sent = True
        if fault is None:
            if cue == "AUTH" and self.fake_auth:
                _send(link.client, b"235 2.7.0 Authentication successful\r\n")
                return "swallow"
            return "forward"
        if fault.action == "drop":
            return "cut"
        if fault.action == "delay":
            time.sleep(fault.delay)
            return "forward"
        _send(link.client, fault.reply.encode() + b"\r\n")
        return "swallow"


class _Link:
    def __init__(self, client: socket.socket, server: socket.socket) -> None:
        self.client = client
        self.server = server
        self.drop_server_reply = False
        self.ehlo_sent = False
        self.cut_on_tag = b""

    def cut(self) -> None:
        for sock in (self.client, self.server):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


def _send(sock: socket.socket, data: bytes) -> bool:
    try:
        sock.sendall(data)
        return True
    except OSError:
        return False
