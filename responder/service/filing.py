"""File: where each handled message goes, and the flags agents see on it.

Customer mail goes to `<queue_prefix>/<queue>`; refused mail to the refused
folder (spam to its own); nothing is ever deleted. Priority mail is
\\Flagged, and every filed customer message carries IMAP keywords (the queue,
`priority`, `#REFERENCE`) that clients show as tags and can search.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field

from responder.config import FoldersConfig
from responder.errors import CommandRefused
from responder.service.imap import Mailbox
from responder.service.ledger import Ledger
from responder.service.lookup import message_ids_in

log = logging.getLogger("responder")


@dataclass
class Plan:
    """What to do with one INBOX message, once decided and recorded."""

    uid: int
    key: str  # "" for a quarantined message, which has no ledger row
    folder: str
    flags: list[str] = field(default_factory=list)
    ack: tuple[str, bytes] | None = None  # (recipient, bytes) of a newly recorded acknowledgment
    message_id: str | None = None  # "<…>": to look for it in `folder` before copying it again
    again: bool = False  # an earlier attempt to file it may have got as far as the COPY


class Filer:
    def __init__(self, folders: FoldersConfig, mailbox: Mailbox, ledger: Ledger) -> None:
        self.folders = folders
        self.mailbox = mailbox
        self.ledger = ledger

    def folder_for(self, kind: str, reason: str | None, queue: str) -> str:
        if kind == "refused":
            return self.folders.spam if reason == "spam" else self.folders.refused
        return self.mailbox.folder_path(self.folders.queue_prefix, queue)

    def flags_for(self, kind: str, queue: str, priority: bool, reference: str | None) -> list[str]:
        if kind == "refused":
            return []
        flags = [queue]
        if priority:
            flags += ["\\Flagged", "priority"]
        if reference and self.folders.reference_keywords:
            flags.append(f"#{reference}")
        return flags

    def file(self, plans: list[Plan]) -> list[tuple[Plan, str]]:
        """Flag, then move each group of messages to its folder; note the moved ones filed.

        One STORE per distinct flag (a queue name is shared by many messages), one MOVE per
        folder: the IMAP round trips of a batch do not grow with its size. A folder the server
        refuses costs only its own messages: they are returned with the reason, the rest are
        filed. A refused flag costs nothing (flags help agents; the folder is what matters).
        """
        by_flag: dict[str, list[int]] = defaultdict(list)
        by_folder: dict[str, list[Plan]] = defaultdict(list)
        for plan in plans:
            by_folder[plan.folder].append(plan)
            for flag in plan.flags:
                by_flag[flag].append(plan.uid)
        for flag, uids in by_flag.items():
            try:
                self.mailbox.add_flags(uids, [flag])
            except CommandRefused as exc:
                log.warning("flag %s not set on %d message(s): %s", flag, len(uids), exc)
        refused: list[tuple[Plan, str]] = []
        filed: list[str] = []
        for folder, group in by_folder.items():
            try:
                self._move(group, folder)
            except CommandRefused as exc:
                refused += [(plan, f"cannot file to {folder}: {exc}") for plan in group]
                continue
            filed += [plan.key for plan in group if plan.key]
        with self.ledger.transaction():
            self.ledger.mark_filed(filed)
        return refused

    def _move(self, group: list[Plan], folder: str) -> None:
        """MOVE is atomic; COPY + EXPUNGE is not: a COPY whose answer was lost, or an EXPUNGE
        that never came, leaves the message in both places. Before copying a message again,
        look for it in the folder; if it is there, only remove it from the INBOX."""
        uids = [plan.uid for plan in group]
        ids = [p.message_id for p in group if p.again and p.message_id]
        if self.mailbox.has("MOVE") or not ids:
            self.mailbox.move(uids, folder)
            return
        present = message_ids_in(self.mailbox, folder, ids)
        there = [p.uid for p in group if p.again and p.message_id in present]
        self.mailbox.move([uid for uid in uids if uid not in there], folder)
        self.mailbox.discard(there)
