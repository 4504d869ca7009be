"""The "needs re-authorization" status hook, readable by `status`, /healthz and metrics.

In-process readers call `needs_reauthorization()`; another process (e.g. `responder status`)
reads the one-line file `needs-reauthorization` in the state directory, which exists exactly
while the condition holds. The condition is logged once when it starts and once when it ends.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

log = logging.getLogger("responder.auth")
STATUS_FILE = "needs-reauthorization"

_lock = threading.Lock()
_problems: dict[str, str] = {}  # account ("imap", "smtp") -> one line with the fix
_state_dir: Path | None = None


def set_state_dir(path: Path | None) -> None:
    global _state_dir
    _state_dir = path


def needs_reauthorization() -> str | None:
    """None when every OAuth login works, else "needs re-authorization: <what and the fix>"."""
    with _lock:
        if not _problems:
            return None
        return "needs re-authorization: " + "; ".join(_problems[k] for k in sorted(_problems))


def flag(account: str, problem: str) -> None:
    """Enter (or stay in) the state for one account; logs only when the problem is new."""
    with _lock:
        new = _problems.get(account) != problem
        _problems[account] = problem
    if new:
        log.error("%s needs re-authorization: %s", account.upper(), problem)
        _write()


def clear(account: str) -> None:
    with _lock:
        had = _problems.pop(account, None)
    if had is not None:
        log.info("%s re-authorized: logins work again", account.upper())
        _write()


def reset() -> None:
    """Forget every problem (tests, and a fresh `check`)."""
    with _lock:
        _problems.clear()


def _write() -> None:
    if _state_dir is None:
        return
    path = _state_dir / STATUS_FILE
    line = needs_reauthorization()
    try:
        if line is None:
            path.unlink(missing_ok=True)
        else:
            tmp = path.with_suffix(".tmp")
            tmp.write_text(line + "\n")
            tmp.replace(path)
    except OSError as exc:
        log.warning("cannot update %s: %s", path, exc.strerror)
