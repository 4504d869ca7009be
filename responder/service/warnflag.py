"""The IMAP side of the ladder: find the customer's message wherever an agent put it, flag it
(\\Flagged + $PromiseWarn) and unflag it, and file copies of updates in Sent.

Only we add $PromiseWarn and only we remove it; \\Flagged is removed only when we were the ones
who set it (an agent's own flag stays). Each call uses a short session of its own, so the
service's INBOX session is never disturbed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from imapclient import IMAPClient

from responder.service.imap import translated_errors
from responder.service.promises import Promise

WARN_KEYWORD = "$PromiseWarn"


@dataclass(frozen=True)
class Found:
    folder: str
    uid: int
    added_flagged: bool = False

    def __str__(self) -> str:
        return f"{self.folder} uid {self.uid}"


class WarnFlags:
    def __init__(
        self, connect: Callable[[], IMAPClient], folders: Sequence[str], endpoint: str = "IMAP"
    ) -> None:
        self.connect = connect
        self.endpoint = endpoint
        self.folders = list(folders)

    @contextlib.contextmanager
    def _session(self) -> Iterator[IMAPClient]:
        with translated_errors(self.endpoint, "flag a promised message"):
            client = self.connect()
            try:
                yield client
            finally:
                with contextlib.suppress(Exception):
                    client.logout()

    def _find(self, client: IMAPClient, p: Promise) -> tuple[str, int, set[bytes]] | None:
        if not p.message_id:
            return None
        where = [p.folder] if p.folder else []
        for folder in dict.fromkeys([*where, *self.folders]):
            if not client.folder_exists(folder):
                continue
            client.select_folder(folder)
            uids = client.search(["HEADER", "Message-ID", p.message_id])
            if uids:
                flags = client.get_flags(uids[:1]).get(uids[0], ())
                return folder, int(uids[0]), set(flags)
        return None

    def warn(self, p: Promise) -> Found | None:
        with self._session() as client:
            found = self._find(client, p)
            if found is None:
                return None
            folder, uid, flags = found
            add_flagged = b"\\Flagged" not in flags
            client.add_flags([uid], [b"\\Flagged", WARN_KEYWORD.encode()], silent=True)
            return Found(folder, uid, add_flagged)

    def clear(self, p: Promise) -> None:
        with self._session() as client:
            found = self._find(client, p)
            if found is None:
                return
            uid = found[1]
            remove = [WARN_KEYWORD.encode()] + ([b"\\Flagged"] if p.flagged_by_us else [])
            client.remove_flags([uid], remove, silent=True)

    def append(self, folder: str, messages: Sequence[bytes]) -> None:
        with self._session() as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            for raw in messages:
                client.append(folder, raw, flags=[b"\\Seen"])
