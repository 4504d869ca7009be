"""sd_notify without a dependency: READY, WATCHDOG, STOPPING and STATUS over $NOTIFY_SOCKET.

The protocol is one datagram per message to a Unix socket; under systemd the
watchdog restarts us if the main loop stops pinging (a hung IMAP call, say).
Outside systemd every call is a no-op.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time


class Notifier:
    def __init__(self) -> None:
        self.address = os.environ.get("NOTIFY_SOCKET", "")
        usec = os.environ.get("WATCHDOG_USEC", "")
        # Ping at half the watchdog interval, as sd_watchdog_enabled(3) recommends.
        self.watchdog_every = int(usec) / 2e6 if usec.isdigit() and int(usec) > 0 else 0.0
        self._last_ping = 0.0

    def notify(self, state: str) -> None:
        if not self.address:
            return
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        # OSError: systemd gone (shutdown) or the socket not ours: nothing to tell.
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock, contextlib.suppress(OSError):
            sock.sendto(state.encode(), target)

    def ready(self, status: str = "") -> None:
        self.notify("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def stopping(self) -> None:
        self.notify("STOPPING=1")

    def status(self, text: str) -> None:
        self.notify(f"STATUS={text}")

    def watchdog(self) -> None:
        if self.watchdog_every and time.monotonic() - self._last_ping >= self.watchdog_every:
            self._last_ping = time.monotonic()
            self.notify("WATCHDOG=1")
