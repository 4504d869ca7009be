"""Shared pieces of the tenacity retry policies: log every attempt, sleep interruptibly."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from tenacity import RetryCallState

from responder.errors import ReauthorizationNeeded

log = logging.getLogger("responder")


def log_retry(what: str) -> Callable[[RetryCallState], None]:
    """tenacity `before_sleep`: one warning line per failed attempt, with the wait."""

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        if isinstance(error, ReauthorizationNeeded):
            return  # said once, when it started (responder.service.auth.state)
        log.warning(
            "%s failed (attempt %d), retrying in %.1fs: %s", what, state.attempt_number, wait, error
        )

    return before_sleep


def interruptible_sleep(stop: threading.Event, tick: Callable[[], None]) -> Callable[[float], None]:
    """tenacity `sleep` that wakes on a stop request and keeps the systemd watchdog fed."""

    def sleep(seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not stop.is_set() and time.monotonic() < deadline:
            tick()
            stop.wait(min(1.0, deadline - time.monotonic()))

    return sleep
