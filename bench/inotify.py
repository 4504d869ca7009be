"""When does a file appear in a directory? inotify, read by one thread, timestamped on arrival.

Why inotify and not polling: a burst spreads acknowledgments over 100–200 customer Maildirs;
polling that many directories every millisecond would compete with Dovecot and Postfix for
this machine's two cores and still be late by up to a poll interval. One inotify descriptor
costs nothing while idle and wakes us within microseconds of the rename into Maildir/new.
Linux only, like the mail stack itself.
"""

from __future__ import annotations

import ctypes
import os
import select
import struct
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

_IN_MOVED_TO = 0x00000080
_IN_CREATE = 0x00000100
_IN_Q_OVERFLOW = 0x00004000
_IN_NONBLOCK = 0o4000
_IN_CLOEXEC = 0o2000000
_EVENT = struct.Struct("iIII")

_libc = ctypes.CDLL(None, use_errno=True)


@dataclass(frozen=True)
class Arrival:
    """One new file: which watched directory (by key), its name, perf_counter() when seen."""

    key: str
    name: str
    at: float


class NewFiles:
    """Records every file created in (or renamed into) a set of directories, with its time."""

    def __init__(self, directories: Mapping[str, Path]) -> None:
        self._fd = _libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if self._fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        self._keys: dict[int, str] = {}
        self._dirs = dict(directories)
        for key, directory in self._dirs.items():
            wd = _libc.inotify_add_watch(
                self._fd, os.fsencode(directory), _IN_CREATE | _IN_MOVED_TO
            )
            if wd < 0:
                errno = ctypes.get_errno()
                os.close(self._fd)
                raise OSError(errno, f"inotify_add_watch {directory}: {os.strerror(errno)}")
            self._keys[wd] = key
        self._seen: set[tuple[str, str]] = set()
        self.arrivals: list[Arrival] = []
        self.overflowed = False
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="inotify", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        poller = select.poll()
        poller.register(self._fd, select.POLLIN)
        while not self._stop.is_set():
            if not poller.poll(100):
                continue
            now = time.perf_counter()
            try:
                data = os.read(self._fd, 1 << 16)
            except BlockingIOError:
                continue
            fresh = self._decode(data, now)
            if fresh:
                with self._changed:
                    self.arrivals.extend(fresh)
                    self._changed.notify_all()

    def _decode(self, data: bytes, now: float) -> list[Arrival]:
        fresh: list[Arrival] = []
        offset = 0
        while offset + _EVENT.size <= len(data):
            wd, mask, _cookie, length = _EVENT.unpack_from(data, offset)
            offset += _EVENT.size
            name = data[offset : offset + length].rstrip(b"\0").decode("utf-8", "replace")
            offset += length
            if mask & _IN_Q_OVERFLOW:
                self.overflowed = True
            key = self._keys.get(wd)
            # Maildir delivery may link then rename: count each file name once.
            if key is not None and name and (key, name) not in self._seen:
                self._seen.add((key, name))
                fresh.append(Arrival(key, name, now))
        return fresh

    def count(self, key: str | None = None) -> int:
        with self._changed:
            if key is None:
                return len(self.arrivals)
            return sum(1 for a in self.arrivals if a.key == key)

    def wait_for(
        self, key: str | None, count: int, timeout: float, stall: float | None = None
    ) -> list[Arrival]:
        """Block until `count` arrivals (in `key`'s directory, or anywhere); return them all.
        Gives up at `timeout`, or after `stall` seconds without a new arrival."""
        started = time.perf_counter()
        deadline = started + timeout
        with self._changed:
            while True:
                found = [a for a in self.arrivals if key is None or a.key == key]
                now = time.perf_counter()
                last = max(started, found[-1].at if found else started)
                if len(found) >= count or now >= deadline:
                    return found
                if stall is not None and now - last >= stall:
                    return found
                self._changed.wait(min(deadline - now, 0.5))

    def path(self, arrival: Arrival) -> Path:
        """Where the file was when it arrived (Maildir/new; nobody moves customers' mail)."""
        return self._dirs[arrival.key] / arrival.name

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        os.close(self._fd)

    def __enter__(self) -> NewFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
