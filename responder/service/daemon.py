"""`responder run`: lint the templates, take the state lock, serve until SIGTERM.

Everything that can end the process ends it with one log line and an exit code systemd
understands: a full disk is `EX_TEMPFAIL` (75, restart later), not a traceback.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import signal
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TextIO

from responder.config import Config
from responder.errors import ResponderError
from responder.service import monitor
from responder.service.ledger import Ledger, private_directory
from responder.service.logs import configure_service_logging
from responder.service.loop import Service

log = logging.getLogger("responder")
EX_TEMPFAIL = 75


@contextmanager
def state_lock(state_dir: Path) -> Iterator[None]:
    """One service per state directory: two would acknowledge the same mail twice."""
    private_directory(state_dir)
    handle: TextIO = (state_dir / "lock").open("w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise ResponderError(
            f"another responder is already running with state directory {state_dir}"
        ) from None
    try:
        yield
    finally:
        handle.close()


def run(config: Config, once: bool = False) -> int:
    configure_service_logging(config)
    from responder.lint.preflight import require_valid_templates

    require_valid_templates(config)
    os.umask(0o077)  # the ledger, its journal and its WAL: readable by the service alone
    state_dir = config.state_dir()
    with state_lock(state_dir), monitor.running(config, state_dir):
        ledger = Ledger.in_state_dir(state_dir)
        service = Service(config, ledger)
        _install_signal_handlers(service)
        log.debug(
            "configuration from %s; imap %s (%s), smtp %s (%s); imapclient logs muted below INFO",
            config.source,
            config.imap.endpoint,
            config.imap.auth,
            config.smtp.endpoint,
            config.smtp.auth,
        )
        log.info(
            "responder starting: %s as %s, state in %s",
            config.imap.endpoint,
            config.imap.username,
            state_dir,
        )
        try:
            return service.run(once=once)
        except (sqlite3.OperationalError, OSError) as exc:
            if not _disk_full(exc):
                raise
            log.critical("stopping: the disk holding %s is full (%s)", state_dir, exc)
            return EX_TEMPFAIL
        finally:
            service.close()
            ledger.close()
            log.info("responder stopped")


def _disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return isinstance(exc, sqlite3.OperationalError) and "full" in str(exc).lower()


def _install_signal_handlers(service: Service) -> None:
    """First SIGTERM/SIGINT: finish the message in hand and exit; a second one: exit now."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        if service.stop_requested.is_set():
            raise SystemExit(128 + signum)
        log.info("signal %d: finishing the message in hand, then stopping", signum)
        service.stop_requested.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
