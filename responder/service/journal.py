"""The send journal: what the SMTP workers know the instant they know it, safe from SIGKILL.

Why not the ledger: a worker that waits for SQLite's write lock (the main thread holds it
while it records a batch) leaves the mail accepted by the relay but unmarked for as long as
it waits, and a crash in that time meant a second acknowledgment. One `write(2)` to a file
opened with O_APPEND takes microseconds, never waits, and survives the death of the process
(the kernel has the bytes). The main thread folds the journal into the ledger after every
batch and truncates it; at start-up it replays whatever a crash left behind.

Lines are JSON: `{"key": ..., "state": "sending" | "accepted" | "not-accepted"}`.
`sending` is written just before the end of DATA goes out; a `sending` with nothing after it
is an acknowledgment the relay may or may not have: uncertain.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

SENDING = "sending"
ACCEPTED = "accepted"
NOT_ACCEPTED = "not-accepted"


class SendJournal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def note(self, key: str, state: str) -> None:
        line = json.dumps({"key": key, "state": state}, ensure_ascii=True) + "\n"
        with self._lock:
            os.write(self._fd, line.encode("ascii"))

    def states(self) -> dict[str, str]:
        """The last state written for each key (a torn last line from a crash is ignored)."""
        found: dict[str, str] = {}
        try:
            text = self.path.read_text(encoding="ascii", errors="replace")
        except FileNotFoundError:
            return found
        for line in text.splitlines():
            try:
                entry = json.loads(line)
                found[str(entry["key"])] = str(entry["state"])
            except (ValueError, KeyError, TypeError):
                continue
        return found

    def clear(self) -> None:
        """Forget everything: called once the ledger has committed all of it."""
        with self._lock:
            os.ftruncate(self._fd, 0)

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
