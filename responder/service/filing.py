"""File: where each handled message goes, and the flags agents see on it.

Customer mail goes to `<queue_prefix>/<queue>`; refused mail to the refused
folder (spam to its own); nothing is ever deleted. Priority mail is
\\Flagged, and every filed customer message carries IMAP keywords (the queue,
`priority`, `#REFERENCE`) that clients show as tags and can search.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from responder.config import FoldersConfig
from responder.service import metrics
from responder.service.imap import Mailbox
from responder.service.ledger import Ledger


@dataclass
class Plan:
    """What to do with one INBOX message, once decided and recorded."""

    uid: int
    key: str  # "" for a quarantined message, which has no ledger row
    folder: str
    flags: list[str] = field(default_factory=list)
    ack: tuple[str, bytes] | None = None  # (recipient, bytes) of a newly recorded acknowledgment


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

    def file(self, plans: list[Plan]) -> None:
        """Flag, then move each group of messages to its folder; then note them filed.

        One STORE per distinct flag (a queue name is shared by many messages), one
        MOVE per folder: the IMAP round trips of a batch do not grow with its size.
        """
        by_flag: dict[str, list[int]] = defaultdict(list)
        by_folder: dict[str, list[int]] = defaultdict(list)
        for plan in plans:
            by_folder[plan.folder].append(plan.uid)
            for flag in plan.flags:
                by_flag[flag].append(plan.uid)
        for flag, uids in by_flag.items():
            self.mailbox.add_flags(uids, [flag])
        for folder, uids in by_folder.items():
            self.mailbox.move(uids, folder)
        with self.ledger.transaction():
            self.ledger.mark_filed([plan.key for plan in plans if plan.key])
        metrics.filed([plan.folder for plan in plans])
