"""Process and port helpers for MailStack: pid files, /proc, listening sockets.

Daemons are only ever found through their own pid file, and a pid is only signalled after
/proc confirms it is the expected program running in the expected directory. That keeps us from
stopping a stranger's daemon (another stack, the system's Postfix) or a recycled pid.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from dataclasses import dataclass
from pathlib import Path

# Ports handed out by this process; a second stack must not get a port the first one was given
# but has not bound yet.
_HANDED_OUT: set[int] = set()


@dataclass(frozen=True)
class Daemon:
    """A daemonized master process (dovecot, postfix master) known by its pid file.

    `exe` is the basename of /proc/PID/exe; `cwd` is the directory the master chdir()s into
    (Postfix: its queue directory, Dovecot: its base_dir), which tells two stacks apart.
    """

    name: str
    pid_file: Path
    exe: str
    cwd: Path

    def pid(self) -> int | None:
        """The master's pid if the pid file names a live process that is really this daemon."""
        try:
            pid = int(self.pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        try:
            exe = os.readlink(f"/proc/{pid}/exe")
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            return None
        if os.path.basename(exe) != self.exe or Path(cwd) != self.cwd:
            return None
        return pid

    def running(self) -> bool:
        return self.pid() is not None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the master, wait until it and every process of its session are gone.

        Both masters setsid() when they daemonize, so their children share the master's session
        id; waiting for the whole session makes "stopped" mean no stray imap/lmtp/smtpd process.
        After `timeout` the remaining session members get SIGKILL. No-op if not running.
        """
        pid = self.pid()
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        for member in _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(member, signal.SIGKILL)
        while _alive(pid):
            time.sleep(0.02)
        # Postfix leaves its pid file behind; a stale one would only confuse the next reader.
        self.pid_file.unlink(missing_ok=True)


def _alive(master: int) -> list[int]:
    """The master (if still alive) and all members of its session."""
    members = session_members(master)
    if master not in members and _is_live(master):
        members.append(master)
    return members


def _is_live(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2 :].split()[0] != "Z"


def session_members(sid: int) -> list[int]:
    """Pids of live (non-zombie) processes whose session id is `sid`."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # Fields after the parenthesised command: state ppid pgrp session ...
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 3 and int(fields[3]) == sid and fields[0] != "Z":
            members.append(int(entry))
    return members


def listening_ports() -> set[int]:
    """TCP ports in LISTEN state on 127.0.0.1 or 0.0.0.0 (read from /proc, so no probe
    connection shows up as noise in the daemons' logs)."""
    ports: set[int] = set()
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return ports
    for line in lines:
        fields = line.split()
        local, state = fields[1], fields[3]
        addr, port = local.split(":")
        if state == "0A" and addr in ("0100007F", "00000000"):
            ports.add(int(port, 16))
    return ports


def free_ports(count: int) -> list[int]:
    """`count` distinct ports that are free on 127.0.0.1 right now (the kernel picks them when
    we bind port 0) and that this process has not handed out before."""
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in _HANDED_OUT and port not in ports:
            ports.append(port)
    _HANDED_OUT.update(ports)
    return ports


def wait_listening(ports: list[int], timeout: float) -> list[int]:
    """Wait until every port is listening; return the ones that still are not."""
    deadline = time.monotonic() + timeout
    while True:
        missing = [p for p in ports if p not in listening_ports()]
        if not missing or time.monotonic() >= deadline:
            return missing
        time.sleep(0.02)
