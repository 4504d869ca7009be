"""The MSAL token cache on disk: the delegated login's refresh token, in the state directory.

Written atomically (temp file + rename) with mode 0600 under an exclusive lock, so
`responder auth login` and a running service never see half a file. Its mtime tells the
service that someone logged in again (leave the "needs re-authorization" state at once).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CACHE_FILE = "msal-token-cache.json"


class CacheFile:
    def __init__(self, state_dir: Path, cache: Any) -> None:
        self.path = state_dir / CACHE_FILE
        self.cache = cache  # msal.SerializableTokenCache
        self.loaded_mtime = -1.0

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with (self.path.parent / (CACHE_FILE + ".lock")).open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    def mtime(self) -> float:
        try:
            return self.path.stat().st_mtime
        except OSError:
            return -1.0

    def load(self) -> None:
        with self._locked():
            self.loaded_mtime = self.mtime()
            if self.loaded_mtime >= 0:
                self.cache.deserialize(self.path.read_text())

    def save(self) -> None:
        if not self.cache.has_state_changed:
            return
        with self._locked():
            tmp = self.path.with_name(CACHE_FILE + ".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(self.cache.serialize())
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
            self.cache.has_state_changed = False
            self.loaded_mtime = self.mtime()

    def changed_on_disk(self) -> bool:
        return self.mtime() != self.loaded_mtime
