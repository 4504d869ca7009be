"""Looking before doing again: which Message-IDs a folder already holds.

An APPEND or a COPY whose answer was lost may have happened. Before doing it again we ask
the folder, by Message-ID, so that a dropped connection never leaves two copies.
"""

from __future__ import annotations

import re

from responder.service.imap import Mailbox

_MESSAGE_ID = re.compile(rb"<[^<>\s]+>")
SEARCH_CHUNK = 25  # Message-IDs per SEARCH (an OR chain): short commands, few round trips


def message_ids_in(mailbox: Mailbox, folder: str, message_ids: list[str]) -> set[str]:
    """Which of these Message-IDs (with their <>) `folder` holds; the INBOX stays selected."""
    found: set[str] = set()
    mailbox.ensure_folder(folder)
    for start in range(0, len(message_ids), SEARCH_CHUNK):
        found |= _search(mailbox, folder, message_ids[start : start + SEARCH_CHUNK])
    return found


def _search(mailbox: Mailbox, folder: str, message_ids: list[str]) -> set[str]:
    criteria: list[str] = []
    for index, message_id in enumerate(message_ids):
        if index < len(message_ids) - 1:
            criteria.append("OR")
        criteria += ["HEADER", "Message-ID", message_id]

    def look(client):  # type: ignore[no-untyped-def]
        client.select_folder(folder, readonly=True)
        try:
            uids = client.search(criteria)
            return client.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"]) if uids else {}
        finally:
            client.select_folder(mailbox.inbox)

    fetched = mailbox._call(f"search {folder}", look)
    found: set[str] = set()
    for item in fetched.values():
        for value in item.values():
            if isinstance(value, bytes):
                found.update(match.decode() for match in _MESSAGE_ID.findall(value))
    return found & set(message_ids)
