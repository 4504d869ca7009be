"""Serve /metrics and /healthz, and leave a heartbeat in the state directory for `status`.

The HTTP server (only with `[metrics] listen`) runs in a daemon thread beside the
loop and reads shared state; it never touches the IMAP session or the ledger's
write connection, so a slow scraper cannot slow the service. The heartbeat file
(`health.json`, rewritten every few seconds while the service runs) is how
`responder status` learns the last INBOX check without writing to the ledger on
every IDLE tick.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from responder.config import Config
from responder.config.validate import split_listen
from responder.errors import ConfigError
from responder.service import metrics

log = logging.getLogger("responder")
HEARTBEAT = "health.json"
HEARTBEAT_EVERY = 5.0  # seconds


def stale_after(config: Config) -> float:
    """How old the last INBOX check may be while healthy: IDLE checks every second, polling
    every poll_interval; a network operation may take imap.timeout on top."""
    return max(60.0, 2 * config.service.poll_interval) + config.imap.timeout


def health(config: Config) -> tuple[bool, str]:
    """(healthy, why): the IMAP session is up and the INBOX was checked recently."""
    age = metrics.HEALTH.age()
    if not metrics.HEALTH.connected:
        return False, "IMAP session down"
    if age > stale_after(config):
        return False, f"last INBOX check {age:.0f}s ago"
    return True, f"ok, last INBOX check {age:.1f}s ago"


class _Server6(ThreadingHTTPServer):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    config: Config

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._answer(200, CONTENT_TYPE_LATEST, generate_latest(metrics.REGISTRY))
        elif path == "/healthz":
            healthy, why = health(self.config)
            self._answer(200 if healthy else 503, "text/plain; charset=utf-8", f"{why}\n".encode())
        else:
            self._answer(404, "text/plain; charset=utf-8", b"not found: try /metrics or /healthz\n")

    def _answer(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Scrapes every 15 s would drown the service's own log lines."""


def serve(config: Config) -> ThreadingHTTPServer:
    host, port = split_listen(config.metrics.listen)
    handler = type("Handler", (_Handler,), {"config": config})
    server_class = _Server6 if ":" in host else ThreadingHTTPServer
    server = server_class((host, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    log.info("metrics on http://%s/metrics, health on /healthz", config.metrics.listen)
    return server


def write_heartbeat(state_dir: Path) -> None:
    """Atomically: `status` may read it at any moment."""
    with metrics.HEALTH.lock:
        data = {
            "written_at": time.time(),
            "pid": os.getpid(),
            "imap_connected": metrics.HEALTH.connected,
            "last_check": metrics.HEALTH.last_check or None,
        }
    temporary = state_dir / f".{HEARTBEAT}.tmp"
    temporary.write_text(json.dumps(data), encoding="utf-8")
    temporary.replace(state_dir / HEARTBEAT)


@contextlib.contextmanager
def running(config: Config, state_dir: Path) -> Iterator[None]:
    """For the service's lifetime: the heartbeat, and the HTTP server when configured."""
    metrics.watch_ledger(state_dir / "ledger.sqlite3")
    try:
        server = serve(config) if config.metrics.listen else None
    except OSError as exc:
        raise ConfigError(
            "metrics.listen", f"cannot listen on {config.metrics.listen}: {exc.strerror}"
        ) from None
    stop = threading.Event()

    def beat() -> None:
        while not stop.is_set():
            metrics.HEALTH.changed.clear()
            with contextlib.suppress(OSError):
                write_heartbeat(state_dir)
            metrics.HEALTH.changed.wait(HEARTBEAT_EVERY)  # or at once when the session changes

    beater = threading.Thread(target=beat, name="heartbeat", daemon=True)
    beater.start()
    try:
        yield
    finally:
        stop.set()
        metrics.HEALTH.changed.set()
        beater.join(5)
        with contextlib.suppress(OSError):
            write_heartbeat(state_dir)
        if server is not None:
            server.shutdown()
            server.server_close()
