"""The real service under test: `python -m responder run` as a subprocess, as systemd runs it.

Why a subprocess: peak RSS and CPU time must be the service's own (/proc/PID), and start-up
(imports, template lint, the language detector) is part of what a backlog drain costs. Readiness
is the service's own sd_notify READY=1 on a NOTIFY_SOCKET we listen on, the same signal systemd
waits for. Only settings the benchmark needs are overridden; see `BENCH_SETTINGS`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from responder import config as config_module
from responder.config import Config
from responder.devstack.demo import environment_for
from responder.devstack.mailstack import MailStack

SUPPORT = "support@example.test"
# The caps stop loops with robots in production; a benchmark that sends 45 mails per sender
# would hit them at once, so they are raised and every report says so.
BENCH_SETTINGS = {
    "RESPONDER_LIMITS_PER_SENDER": "1000000",
    "RESPONDER_LIMITS_GLOBAL_PER_HOUR": "1000000",
    "RESPONDER_SERVICE_LOG_LEVEL": "INFO",
}
# Settings a developer may pass through from the calling environment (e.g. a template copy
# that passes lint while the shipped templates are being written); reported in the header.
PASSTHROUGH_PREFIXES = (
    "RESPONDER_REPLY_",
    "RESPONDER_ROUTING_",
    "RESPONDER_FOLDERS_",
    "RESPONDER_SERVICE_BATCH_SIZE",
)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def passthrough_settings(environ: dict[str, str] | None = None) -> dict[str, str]:
    source = os.environ if environ is None else environ
    return {k: v for k, v in source.items() if k.startswith(PASSTHROUGH_PREFIXES)}


def bench_config() -> Config:
    """The configuration `responder run` gets from the benchmark (no stack ports needed):
    built-in defaults + benchmark settings, loaded from an empty directory so a developer's
    config/responder.toml is not picked up (the service runs in its own work directory)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("RESPONDER_")}
    environ |= BENCH_SETTINGS | passthrough_settings()
    with tempfile.TemporaryDirectory() as empty, contextlib.chdir(empty):
        return config_module.load(None, environ=environ)


def service_environment(stack: MailStack, state_dir: Path) -> dict[str, str]:
    """The service's environment: ours minus RESPONDER_*, then the stack, then the overrides."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESPONDER_")}
    env.update(environment_for(stack, state_dir, SUPPORT))
    env.update(BENCH_SETTINGS)
    env.update(passthrough_settings())
    return env


class ServiceError(RuntimeError):
    """The service did not start or died; the message carries its log tail."""


class ServiceProcess:
    """One `responder run` with its own state dir and log; READY=1 is timestamped when it comes."""

    def __init__(self, stack: MailStack, workdir: Path) -> None:
        self.workdir = workdir
        self.state_dir = workdir / "state"
        self.log_path = workdir / "service.log"
        self.ledger_path = self.state_dir / "ledger.sqlite3"
        self.env = service_environment(stack, self.state_dir)
        self.process: subprocess.Popen[bytes] | None = None
        self.spawned_at = 0.0  # perf_counter() just before the fork
        self.spawned_wall = 0.0  # time.time() at the same moment (to read log timestamps)
        self.ready_at: float | None = None
        self._ready = threading.Event()
        self._listener: socket.socket | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        notify_path = self.workdir / "notify.sock"
        notify_path.unlink(missing_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        listener.bind(str(notify_path))
        listener.settimeout(0.2)
        self._listener = listener
        env = self.env | {"NOTIFY_SOCKET": str(notify_path)}
        with self.log_path.open("ab") as log:
            self.spawned_wall = time.time()
            self.spawned_at = time.perf_counter()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "responder", "run"],
                env=env,
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                cwd=self.workdir,
            )
        threading.Thread(target=self._listen, name="sd_notify", daemon=True).start()

    def _listen(self) -> None:
        assert self._listener is not None
        while not self._ready.is_set() and self.alive():
            try:
                data = self._listener.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            if b"READY=1" in data:
                self.ready_at = time.perf_counter()
                self._ready.set()
        self._listener.close()

    def wait_ready(self, timeout: float = 60.0) -> float:
        """Seconds from spawn to READY=1; raises with the log tail if it dies or takes too long."""
        deadline = time.perf_counter() + timeout
        while not self._ready.wait(0.1):
            if not self.alive():
                raise ServiceError(
                    f"the service exited with {self.returncode()}:\n{self.log_tail()}"
                )
            if time.perf_counter() > deadline:
                raise ServiceError(f"no READY=1 within {timeout:g} s:\n{self.log_tail()}")
        assert self.ready_at is not None
        return self.ready_at - self.spawned_at

    def check_alive(self) -> None:
        if not self.alive():
            raise ServiceError(f"the service exited with {self.returncode()}:\n{self.log_tail()}")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def returncode(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM (the service finishes the message in hand), SIGKILL if it ignores that."""
        if not self.alive():
            return
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    # --- what /proc says about it ---

    def status_kib(self, field: str) -> int:
        """A /proc/PID/status field in KiB (VmHWM = peak RSS, VmRSS = current)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise KeyError(field)

    def cpu_seconds(self) -> float:
        """utime + stime of the process (all threads), from /proc/PID/stat."""
        return process_cpu_seconds(self.pid)

    def cpu_ns_and_wakeups(self) -> tuple[int, int]:
        """(ns on CPU, voluntary context switches), summed over all threads: the precise
        figures behind utime+stime's 10 ms ticks, for the idle measurement."""
        on_cpu = switches = 0
        for task in Path(f"/proc/{self.pid}/task").iterdir():
            try:
                on_cpu += int((task / "schedstat").read_text().split()[0])
                for line in (task / "status").read_text().splitlines():
                    if line.startswith("voluntary_ctxt_switches:"):
                        switches += int(line.split()[1])
            except OSError:
                continue  # a thread that just ended
        return on_cpu, switches

    # --- its log ---

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def log_count(self, needle: str) -> int:
        return self.log_text().count(needle)


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the ")" field 3 is the state; utime and stime are fields 14 and 15 of stat(5).
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
