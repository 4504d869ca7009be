"""A real Dovecot (IMAP, IMAPS, LMTP, Sieve) and Postfix (SMTP) on loopback, for tests, demo, bench.

Why real servers: the responder's hard parts (IDLE vs. polling latency, MOVE, SPECIAL-USE, what a
delivery outage looks like, how fast Pigeonhole's own vacation answers) only show up against the
real thing. Each `MailStack` is fully private: free 127.0.0.1 ports, its own Dovecot
instance/base_dir and Postfix queue, all generated from the `*.in` templates next to this file.
Nothing in /etc is read or written, and nothing is ever delivered outside the stack's domain.

Where the state lives: Dovecot's mail processes run as `mail` (uid 8) and Postfix's as `postfix`,
so every directory above the state must be searchable by other users, and Dovecot's Unix sockets
need a short path (sun_path is 108 bytes). If `root` satisfies both, the state lives in `root`.
Otherwise (e.g. a pytest tmp dir, whose /tmp/pytest-of-root is mode 700) it lives in a private
0755 directory `/tmp/mailstack-XXXXXXXX`, linked as `root/state`; `cleanup()` (and a finalizer at
interpreter exit) removes it. We never chmod directories we do not own.

Needs root and the Debian packages dovecot-imapd dovecot-lmtpd dovecot-sieve postfix openssl;
`servers_available()` says why not if they are missing.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from ._procs import Daemon, free_ports, listening_ports, wait_listening
from .clients import MailboxClients, MailStackError
from .files import ConfigFiles

__all__ = ["DEFAULT_DOMAIN", "DEFAULT_USERS", "MailStack", "MailStackError", "servers_available"]

DEFAULT_DOMAIN = "example.test"
DEFAULT_USERS: tuple[str, ...] = (
    f"support@{DEFAULT_DOMAIN}",
    f"agent@{DEFAULT_DOMAIN}",
    *(f"customer{i}@{DEFAULT_DOMAIN}" for i in range(1, 10)),
    *(f"bench{i:03d}@{DEFAULT_DOMAIN}" for i in range(1, 201)),
)

# Dovecot/Postfix live in /usr/sbin, which is not on every PATH (e.g. sudo, CI shells).
_SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/bin", "/sbin"])
_BINARIES = ("dovecot", "doveadm", "postfix", "postqueue", "openssl")
_SYSTEM_USERS = ("mail", "postfix", "dovecot", "dovenull")
_START_TIMEOUT = 10.0
_MAX_ROOT_LEN = 60  # keeps base_dir + Dovecot's longest socket name under 108 bytes


def servers_available() -> str | None:
    """None if this machine can run a MailStack, else a human-readable reason why not."""
    missing = [b for b in _BINARIES if _which(b) is None]
    if missing:
        return (
            f"mail servers not installed ({', '.join(missing)} not found); install with "
            "`make install-system` (apt: dovecot-imapd dovecot-lmtpd dovecot-sieve postfix openssl)"
        )
    if os.geteuid() != 0:
        return "the mail stack must run as root (Dovecot and Postfix drop to their own users)"
    for name in _SYSTEM_USERS:
        try:
            pwd.getpwnam(name)
        except KeyError:
            return f"system user {name!r} is missing (reinstall the dovecot/postfix packages)"
    return None


def _which(name: str) -> str | None:
    return shutil.which(name, path=_SEARCH_PATH)


def _binary(name: str) -> str:
    path = _which(name)
    if path is None:
        raise MailStackError(f"{name} not found; {servers_available()}")
    return path


@dataclass
class _Guard:
    """The finalizer state: what must be undone if the MailStack is dropped or the interpreter
    exits without stop() (a crashed or interrupted test run must not leave daemons behind).
    Holds no reference to the MailStack itself, so it does not keep it alive."""

    daemons: tuple[Daemon, ...]
    running: bool = False
    private_dir: Path | None = None
    detached: bool = False

    def __call__(self) -> None:
        if self.detached:
            return
        if self.running:
            for daemon in self.daemons:
                daemon.stop()
        if self.private_dir is not None:
            shutil.rmtree(self.private_dir, ignore_errors=True)


class MailStack(MailboxClients, ConfigFiles):
    """A real Dovecot (IMAP+IMAPS+LMTP+Sieve) and Postfix (SMTP) on free 127.0.0.1 ports,
    all state in `root` (or a private /tmp dir linked from it, see the module docstring).

    Ports are picked once and then kept: stop/start (of either daemon) reuses them, and a new
    MailStack on the same `root` picks up the ports recorded in `root/ports.env`, so the CLI's
    `down`/`status` find a stack that `up` started.
    """

    host: str = "127.0.0.1"

    def __init__(
        self,
        root: Path,
        users: Sequence[str] = DEFAULT_USERS,
        password: str = "secret",
        domain: str = DEFAULT_DOMAIN,
    ) -> None:
        if any(c in password for c in ":\n"):
            raise ValueError("password must not contain ':' or a newline (passwd-file format)")
        self.domain = domain.lower()
        self.password = password
        if users is DEFAULT_USERS and self.domain != DEFAULT_DOMAIN:
            users = [u.split("@")[0] for u in users]
        self.users: tuple[str, ...] = tuple(self._address(u) for u in users)
        foreign = [u for u in self.users if not u.endswith("@" + self.domain)]
        if foreign:
            raise ValueError(f"users outside {self.domain}: {foreign[:3]}")

        self.root = Path(root).absolute()
        self.root.mkdir(parents=True, exist_ok=True)
        self.state_dir, created_private = self._resolve_state_dir()
        self.cafile = self.state_dir / "tls" / "cert.pem"
        self._etc = self.state_dir / "etc"
        self._log_dir = self.state_dir / "log"
        self._base_dir = self.state_dir / "run" / "dovecot"
        self._queue_dir = self.state_dir / "postfix" / "queue"

        recorded = self._recorded_ports()
        self._ports_fixed = recorded is not None
        self.imap_port, self.imaps_port, self.lmtp_port, self.smtp_port = recorded or free_ports(4)

        self._dovecot = Daemon("dovecot", self._base_dir / "master.pid", "dovecot", self._base_dir)
        self._postfix = Daemon(
            "postfix", self._queue_dir / "pid" / "master.pid", "master", self._queue_dir
        )
        # Postfix first, so nothing is handed to LMTP while Dovecot goes away.
        self._guard = _Guard(daemons=(self._postfix, self._dovecot))
        if created_private:
            self._guard.private_dir = self.state_dir
        weakref.finalize(self, self._guard)

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Start Dovecot and Postfix; return once every port accepts connections.

        On the very first start a port another process grabbed meanwhile is replaced by a fresh
        one (twice at most); after that the ports never change.
        """
        attempts = 1 if self._ports_fixed else 3
        for attempt in range(1, attempts + 1):
            try:
                self.start_dovecot()
                self.start_postfix()
                break
            except MailStackError as exc:
                self.stop()
                if attempt == attempts or "in use" not in str(exc).lower():
                    raise
                self.imap_port, self.imaps_port, self.lmtp_port, self.smtp_port = free_ports(4)
        self._ports_fixed = True
        self._write_ports_env()

    def stop(self) -> None:
        """Stop Postfix, then Dovecot (by pid file), and wait until all their processes are gone.
        Mail, queue and logs are kept; a no-op for whatever is not running."""
        self.stop_postfix()
        self.stop_dovecot()

    def start_dovecot(self) -> None:
        """Start Dovecot (no-op if running), wait for IMAP/IMAPS/LMTP, then flush Postfix's queue
        so mail deferred during an outage is delivered now rather than at the next retry."""
        if self._dovecot.running():
            return
        self._prepare()
        ports = [self.imap_port, self.imaps_port, self.lmtp_port]
        self._check_free(ports)
        self._run_daemon_command(
            "dovecot", [_binary("dovecot"), "-c", str(self._etc / "dovecot.conf")]
        )
        self._guard.running = True
        self._wait_listening("dovecot", ports)
        if self._postfix.running():
            self._postfix_command(_binary("postqueue"), "-f")

    def stop_dovecot(self) -> None:
        """Stop Dovecot (SIGTERM via its pid file), waiting until all its processes are gone."""
        self._dovecot.stop()
        self._guard.running = self._postfix.running()

    def start_postfix(self) -> None:
        """Start Postfix (no-op if running) and wait until its SMTP port accepts."""
        if self._postfix.running():
            return
        self._prepare()
        self._check_free([self.smtp_port])
        # `start` also creates the queue tree (post-install create-missing) and daemonizes.
        self._run_daemon_command(
            "postfix", [_binary("postfix"), "-c", str(self._etc / "postfix"), "start"]
        )
        self._guard.running = True
        self._wait_listening("postfix", [self.smtp_port])

    def stop_postfix(self) -> None:
        """Stop Postfix (SIGTERM to master via its pid file), waiting until all of it is gone."""
        self._postfix.stop()
        self._guard.running = self._dovecot.running()

    def cleanup(self) -> None:
        """stop(), then delete the private /tmp state dir if the state lives outside `root`.
        State inside `root` is left to whoever owns `root`. (`with MailStack(...)` only stops;
        the finalizer removes a private dir this object created once it is dropped.)"""
        self.stop()
        if self.state_dir != self.root:
            shutil.rmtree(self.state_dir, ignore_errors=True)
            (self.root / "state").unlink(missing_ok=True)
        self._guard.private_dir = None

    def detach(self) -> None:
        """Leave the daemons and state alone when this object goes away (the CLI's `up`)."""
        self._guard.detached = True

    def status(self) -> dict[str, bool]:
        """Which daemons are running, by their pid files."""
        return {"dovecot": self._dovecot.running(), "postfix": self._postfix.running()}

    def __enter__(self) -> MailStack:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def env(self) -> dict[str, str]:
        """Connection settings as MAILSTACK_* variables (printed by the CLI, kept in ports.env)."""
        return {
            "MAILSTACK_HOST": self.host,
            "MAILSTACK_IMAP_PORT": str(self.imap_port),
            "MAILSTACK_IMAPS_PORT": str(self.imaps_port),
            "MAILSTACK_LMTP_PORT": str(self.lmtp_port),
            "MAILSTACK_SMTP_PORT": str(self.smtp_port),
            "MAILSTACK_CAFILE": str(self.cafile),
            "MAILSTACK_DOMAIN": self.domain,
            "MAILSTACK_PASSWORD": self.password,
            "MAILSTACK_STATE_DIR": str(self.state_dir),
        }

    # ----------------------------------------------------------------- internals

    def _resolve_state_dir(self) -> tuple[Path, bool]:
        """(state dir, whether we just created a private one); see the module docstring."""
        link = self.root / "state"
        if link.is_symlink():
            if link.resolve().is_dir():
                return link.resolve(), False
            link.unlink()  # its private dir was cleaned up; start afresh
        if _searchable_by_all(self.root) and len(str(self.root)) <= _MAX_ROOT_LEN:
            return self.root, False
        private = Path(tempfile.mkdtemp(prefix="mailstack-", dir="/tmp"))
        private.chmod(0o755)
        link.symlink_to(private)
        return private, True

    def _recorded_ports(self) -> tuple[int, int, int, int] | None:
        try:
            text = (self.root / "ports.env").read_text()
        except OSError:
            return None
        values = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
        keys = ("IMAP", "IMAPS", "LMTP", "SMTP")
        try:
            imap, imaps, lmtp, smtp = (int(values[f"MAILSTACK_{k}_PORT"]) for k in keys)
        except (KeyError, ValueError):
            return None
        return imap, imaps, lmtp, smtp

    def _write_ports_env(self) -> None:
        text = "".join(f"{k}={v}\n" for k, v in self.env().items())
        tmp = self.root / "ports.env.tmp"
        tmp.write_text(text)
        tmp.replace(self.root / "ports.env")

    def _check_free(self, ports: list[int]) -> None:
        busy = sorted(set(ports) & listening_ports())
        if busy:
            raise MailStackError(f"127.0.0.1 port(s) {busy} already in use by another process")

    def _run_daemon_command(self, name: str, argv: list[str]) -> None:
        """Run a command that daemonizes. Output goes to a file, not a pipe: the daemon inherits
        the descriptors, and a pipe would stay open (and block us) as long as it runs."""
        with (self._log_dir / "start.log").open("ab") as out:
            out.write(f"--- {time.strftime('%H:%M:%S')} {' '.join(argv)}\n".encode())
            out.flush()
            rc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out).returncode
        if rc != 0:
            raise MailStackError(f"{name} failed to start (exit {rc}):\n{self.log_tail(20)}")

    def _wait_listening(self, name: str, ports: list[int]) -> None:
        missing = wait_listening(ports, _START_TIMEOUT)
        if missing:
            raise MailStackError(
                f"{name} did not open 127.0.0.1 port(s) {missing} within {_START_TIMEOUT:g} s:\n"
                f"{self.log_tail(20)}"
            )

    def _postfix_command(self, *argv: str) -> None:
        """Run a Postfix tool against this stack's config (e.g. `postqueue -f`); best effort."""
        with (self._log_dir / "start.log").open("ab") as out:
            subprocess.run(
                [argv[0], "-c", str(self._etc / "postfix"), *argv[1:]],
                stdin=subprocess.DEVNULL, stdout=out, stderr=out, check=False,
            )  # fmt: skip

    def _doveadm(self, *args: str, stdin: str | None = None) -> str:
        proc = subprocess.run(
            [_binary("doveadm"), "-c", str(self._etc / "dovecot.conf"), *args],
            input=stdin, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if proc.returncode != 0:
            raise MailStackError(
                f"doveadm {' '.join(args)} failed (exit {proc.returncode}): "
                f"{proc.stderr.strip() or proc.stdout.strip()}"
            )
        return proc.stdout


def _searchable_by_all(path: Path) -> bool:
    """Can uid 8 (mail) and postfix reach `path`? Every directory on the way needs o+x."""
    return all(p.stat().st_mode & 0o001 for p in (path, *path.parents))
