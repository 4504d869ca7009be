"""The one folder watcher: what arrived in, or changed flags in, a few folders since last time.

Shared by promises (did an agent answer? was the message flagged \\Answered, moved to another
queue?) and by learning from agents' moves; see WATCHER.md for the contract. It must stay
cheap on a mailbox of any size, about once a minute:

- one STATUS (UIDVALIDITY UIDNEXT HIGHESTMODSEQ) per folder; a folder whose numbers did not
  move costs nothing more;
- a folder that moved is EXAMINEd (read-only: \\Recent and \\Seen stay as they are) and only
  what changed is fetched: `UID FETCH 1:* (FLAGS ...) (CHANGEDSINCE <modseq>)` with CONDSTORE;
  without it, the UIDs from the last UIDNEXT on, plus a FLAGS sweep every `sweep_interval`.

The first look at a folder records a baseline and reports nothing, so a restart never replays
history (the baseline is stored at once: the service takes it before its first acknowledgment,
and a crash must not move it past a reply); a folder that did not exist at an earlier look is new, and all of it is reported. The state of a poll is written to the ledger's `watch_state` table only when the
*next* poll starts: if the process dies while consumers handle what was reported, the same
changes are reported again after the restart (consumers are idempotent), never lost.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from imapclient import IMAPClient
from imapclient import exceptions as imap_errors

from responder.config import ServerConfig
from responder.service.auth import ready_provider
from responder.service.auth.sasl import imap_login
from responder.service.imaperrors import tls_context, translated_errors

log = logging.getLogger("responder.service.watcher")

HEADER_FIELDS = (
    "MESSAGE-ID IN-REPLY-TO REFERENCES FROM TO CC BCC SUBJECT DATE AUTO-SUBMITTED"
    " X-RESPONDER-REF X-RESPONDER-REFERENCE"
)
FETCH_ITEMS = ["FLAGS", f"BODY.PEEK[HEADER.FIELDS ({HEADER_FIELDS})]"]
SWEEP_INTERVAL = 300.0  # seconds between FLAGS sweeps on a server without CONDSTORE
_MESSAGE_ID = re.compile(rb"^message-id:\s*<?([^>\s]+)>?", re.IGNORECASE | re.MULTILINE)

SCHEMA = """
CREATE TABLE IF NOT EXISTS watch_state (
    folder        TEXT PRIMARY KEY,
    uidvalidity   INTEGER NOT NULL,
    uidnext       INTEGER NOT NULL,
    highestmodseq INTEGER NOT NULL DEFAULT 0,
    swept_at      REAL NOT NULL DEFAULT 0
);
"""


@dataclass(frozen=True)
class SeenMessage:
    folder: str
    uid: int
    message_id: str | None  # as sent, stripped of <>
    flags: frozenset[str]
    header: bytes
    new: bool  # appeared in this folder since the last poll (arrival or move in)


@dataclass(frozen=True)
class _State:
    uidvalidity: int
    uidnext: int
    highestmodseq: int
    swept_at: float


class FolderWatcher:
    def __init__(
        self,
        connect: Callable[[], IMAPClient],
        db: sqlite3.Connection,
        clock: Callable[[], float] = time.time,
        min_interval: float = 60.0,
        endpoint: str = "IMAP",
    ) -> None:
        self.connect = connect
        self.db = db
        self.clock = clock
        self.min_interval = min_interval
        self.endpoint = endpoint
        self.folders: dict[str, bool] = {}  # folder -> backfill
        self._last_poll: float | None = None
        self._uncommitted: dict[str, _State] = {}
        db.executescript(SCHEMA)

    def watch(self, *folders: str, backfill: bool = False) -> None:
        """Consumers register the folders they need (idempotent; backfill sticks once asked)."""
        for folder in folders:
            self.folders[folder] = self.folders.get(folder, False) or backfill

    def poll(self, force: bool = False) -> list[SeenMessage]:
        now = self.clock()
        if not force and self._last_poll is not None and now - self._last_poll < self.min_interval:
            return []
        self._commit()
        self._last_poll = now
        if not self.folders:
            return []
        seen: list[SeenMessage] = []
        with translated_errors(self.endpoint, "watch folders"):
            client = self.connect()
            try:
                condstore = client.has_capability("CONDSTORE")
                for folder, backfill in self.folders.items():
                    seen += self._poll_folder(client, folder, backfill, condstore, now)
            finally:
                _logout(client)
        return seen

    def _poll_folder(
        self, client: IMAPClient, folder: str, backfill: bool, condstore: bool, now: float
    ) -> list[SeenMessage]:
        items = [b"UIDVALIDITY", b"UIDNEXT"] + ([b"HIGHESTMODSEQ"] if condstore else [])
        try:
            status = client.folder_status(folder, items)
        except imap_errors.IMAPClientAbortError:
            raise
        except imap_errors.IMAPClientError:  # NO: the folder does not exist (yet)
            if self._state(folder) is None:  # remember it was absent: all of it will be new
                self._uncommitted[folder] = _State(0, 1, 0, now)
            return []
        current = _State(
            int(status[b"UIDVALIDITY"]),
            int(status[b"UIDNEXT"]),
            int(status.get(b"HIGHESTMODSEQ", 0)),
            0.0,
        )
        before = self._state(folder)
        if before is not None and before.uidvalidity == 0:  # created since we last looked
            backfill, before = True, None
        if before is None or before.uidvalidity != current.uidvalidity:
            if before is not None:
                log.info("%s: UIDVALIDITY changed; new baseline", folder)
            # EXAMINE once for the baseline: Dovecot may renumber MODSEQs the first time a
            # CONDSTORE session opens a folder, and STATUS alone would then be out of date.
            info = client.select_folder(folder, readonly=True)
            modseq = int(info.get(b"HIGHESTMODSEQ", current.highestmodseq))
            baseline = _State(
                current.uidvalidity, int(info.get(b"UIDNEXT", current.uidnext)), modseq, now
            )
            if before is None and backfill and current.uidnext > 1:
                self._uncommitted[folder] = baseline
                return self._fetch(client, folder, "1:*", None, 1)
            # A baseline reports nothing, so nobody has anything to handle: keep it at once.
            # Left to the next poll, a crash before then would take a new baseline after
            # restart, and an agent's reply that landed in between would never be seen.
            self._uncommitted.pop(folder, None)
            self._write({folder: baseline})
            return []
        sweep = not condstore and now - before.swept_at >= SWEEP_INTERVAL
        unchanged = current.uidnext == before.uidnext and (
            current.highestmodseq == before.highestmodseq if condstore else not sweep
        )
        if unchanged:
            return []
        client.select_folder(folder, readonly=True)
        if condstore:
            found = self._fetch(client, folder, "1:*", before.highestmodseq, before.uidnext)
        elif sweep:
            found = self._fetch(client, folder, "1:*", None, before.uidnext)
        else:
            found = self._fetch(client, folder, f"{before.uidnext}:*", None, before.uidnext)
        self._uncommitted[folder] = _State(
            current.uidvalidity,
            current.uidnext,
            current.highestmodseq,
            now if sweep else before.swept_at,
        )
        return found

    def _fetch(
        self, client: IMAPClient, folder: str, uids: str, since: int | None, first_new: int
    ) -> list[SeenMessage]:
        criteria: list[Any] = ["MODSEQ", since + 1] if since is not None else ["UID", uids]
        wanted = [
            uid
            for uid in client.search(criteria)
            if since is not None or uids == "1:*" or uid >= first_new
        ]
        data = client.fetch(wanted, FETCH_ITEMS) if wanted else {}
        found = []
        for uid, item in sorted(data.items()):
            header = next((v for k, v in item.items() if k.startswith(b"BODY[HEADER")), b"")
            header = bytes(header or b"")
            match = _MESSAGE_ID.search(header)
            found.append(
                SeenMessage(
                    folder=folder,
                    uid=int(uid),
                    message_id=match.group(1).decode("ascii", "replace") if match else None,
                    flags=frozenset(_flag(f) for f in item.get(b"FLAGS", ())),
                    header=header,
                    new=uid >= first_new,
                )
            )
        return found

    def _state(self, folder: str) -> _State | None:
        if folder in self._uncommitted:
            return self._uncommitted[folder]
        row = self.db.execute(
            "SELECT uidvalidity, uidnext, highestmodseq, swept_at FROM watch_state WHERE folder = ?",
            (folder,),
        ).fetchone()
        return _State(int(row[0]), int(row[1]), int(row[2]), float(row[3])) if row else None

    def _commit(self) -> None:
        """What the previous poll reported has been handled: remember where it left off."""
        if not self._uncommitted:
            return
        self._write(self._uncommitted)
        self._uncommitted.clear()

    def _write(self, states: dict[str, _State]) -> None:
        self.db.executemany(
            "INSERT INTO watch_state (folder, uidvalidity, uidnext, highestmodseq, swept_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (folder) DO UPDATE SET"
            " uidvalidity = excluded.uidvalidity, uidnext = excluded.uidnext,"
            " highestmodseq = excluded.highestmodseq, swept_at = excluded.swept_at",
            [(f, s.uidvalidity, s.uidnext, s.highestmodseq, s.swept_at) for f, s in states.items()],
        )

    def close(self) -> None:
        """Commit the last poll's state (its consumers have run) before the service stops."""
        self._commit()


def open_client(server: ServerConfig) -> IMAPClient:
    """A logged-in session with nothing selected (password or OAuth token, as the service
    logs in): for side work that must not disturb the main session idling on the INBOX."""
    tokens = ready_provider(server, "imap")
    with translated_errors(server.endpoint, "connect"):
        client = IMAPClient(
            server.host,
            port=server.port,
            ssl=server.security == "tls",
            ssl_context=tls_context(server),
            timeout=server.timeout,
        )
        try:
            if server.security == "starttls":
                client.starttls(tls_context(server))
            imap_login(client, server, tokens, server.endpoint)
        except BaseException:
            _logout(client)
            raise
    return client


def _flag(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _logout(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # a session that will not close politely is dropped anyway
        with contextlib.suppress(Exception):
            client.shutdown()
