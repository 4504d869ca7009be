"""The folders the service files into, created and proven writable before the first customer.

A folder name the server refuses (a character it does not allow, a hierarchy it does not
have, a quota) would otherwise surface only when the first message is filed there.
"""

from __future__ import annotations

import functools

from imapclient import IMAPClient

from responder.config import Config
from responder.errors import ResponderError
from responder.pipeline.routing import FALLBACK_QUEUE, load_router
from responder.service.imap import Mailbox


def configured_folders(config: Config, mailbox: Mailbox) -> list[str]:
    """Every folder `run` may file into: each queue, refused, spam, quarantine and Sent."""
    router = load_router(config.routing.rules)
    folders = config.folders
    queues = dict.fromkeys((*router.queues, FALLBACK_QUEUE))
    names = [mailbox.folder_path(folders.queue_prefix, queue) for queue in queues]
    names += [folders.refused, folders.spam, folders.quarantine]
    sent = mailbox.sent_folder(folders.sent)  # "" when the server keeps sent mail itself
    names += [sent] if sent else []
    return list(dict.fromkeys(names))


def _examine(folder: str, client: IMAPClient) -> None:
    client.select_folder(folder, readonly=True)


def check_folders(config: Config, mailbox: Mailbox) -> list[str]:
    """Create each folder that is missing and select it; one line per folder that fails."""
    failures = []
    for folder in configured_folders(config, mailbox):
        try:
            mailbox.ensure_folder(folder)
            mailbox._call(f"examine {folder}", functools.partial(_examine, folder))
        except ResponderError as exc:
            failures.append(f"folder {folder!r}: {exc}")
    if mailbox.connected:
        mailbox._call("select inbox", lambda c: c.select_folder(mailbox.inbox))
    return failures
