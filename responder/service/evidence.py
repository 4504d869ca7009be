"""Did a person answer? Evidence from what the folder watcher saw, strongest first.

1. Strong: a mail in the Sent folder (or a configured evidence folder) addressed to the
   customer, tied to the conversation by In-Reply-To/References or `[#REF]`, that is not one of
   our own automatic mails (Auto-Submitted, or a Message-ID we generated).
2. Strong: an agent's copy in the INBOX, a queue folder or the refused folder (agents who
   answer from their own mailbox, or from the support address in another client, and Cc/Bcc
   support): From a configured agent address or domain or our own address (never automatic),
   the customer among the recipients, tied to the conversation. An internal forward has no customer among its
   recipients and does not count.
3. Weak: the \\Answered flag on the customer's message: someone pressed "reply", but we cannot
   see the reply. It stops the customer update, not the supervisor notice.

The verdicts are pure (header bytes in, a finding out) so they are tested on real headers; the
Recorder applies them to the ledger idempotently (a change may be reported twice).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses, parseaddr

from responder.config import Config
from responder.pipeline.threads import REFERENCE_TAG
from responder.service.promises import PromiseBook
from responder.service.watcher import SeenMessage

log = logging.getLogger("responder.promises")
_MSGID = re.compile(r"<([^<>\s]+)>")
_FORWARD = re.compile(r"^\s*(fwd?|wg|tr|rv|doorst|enc|i)\s*:", re.IGNORECASE)


@dataclass(frozen=True)
class Header:
    """The few header facts the verdicts need."""

    message_id: str | None
    refers_to: tuple[str, ...]  # In-Reply-To and References, without <>
    references: tuple[str, ...]  # [#REF] tags in the subject
    sender: str
    recipients: frozenset[str]
    automatic: bool
    forward: bool


def read_header(raw: bytes) -> Header:
    message = BytesHeaderParser(policy=compat32).parsebytes(raw)

    def values(name: str) -> list[str]:
        return [str(v) for v in message.get_all(name, [])]

    ids = _MSGID.findall(" ".join(values("In-Reply-To") + values("References")))
    subject = " ".join(values("Subject"))
    recipients = {
        addr.lower()
        for _, addr in getaddresses(values("To") + values("Cc") + values("Bcc"))
        if addr
    }
    auto = " ".join(values("Auto-Submitted")).strip().lower()
    own = _MSGID.search(" ".join(values("Message-ID")))
    return Header(
        message_id=own.group(1) if own else None,
        refers_to=tuple(ids),
        references=tuple(REFERENCE_TAG.findall(subject)),
        sender=parseaddr(" ".join(values("From")))[1].lower(),
        recipients=frozenset(recipients),
        automatic=bool(auto) and auto != "no",
        forward=bool(_FORWARD.match(subject)),
    )


class Recorder:
    """Applies evidence to promises; knows which folders are "sent" and who the agents are."""

    def __init__(self, config: Config, book: PromiseBook, sent_folders: Iterable[str]) -> None:
        self.book = book
        self.sent_folders = frozenset(sent_folders)
        promises = config.promises
        self.agents = frozenset(a.lower() for a in promises.agent_addresses)
        self.agent_domains = frozenset(d.lower().lstrip("@") for d in promises.agent_domains)
        self.own = config.mailbox.own_addresses

    def observe(self, changes: Iterable[SeenMessage], now: float) -> list[int]:
        """Record what the changes prove; returns the promises that were kept just now."""
        kept: list[int] = []
        for seen in changes:
            if seen.message_id:
                self._follow(seen)
            header = read_header(seen.header)
            verdict = self.strong(seen.folder, header)
            if verdict is not None:
                conversation, why = verdict
                for promise in self.book.active_in(conversation):
                    if self.book.settle(promise.id, "kept", why, now):
                        log.info("promise %d (%s) kept: %s", promise.id, conversation, why)
                        kept.append(promise.id)
                for promise in self.book.late_owed(conversation):  # answered, if too late:
                    if self.book.take_step(promise.id, "updated", now):  # no late update then
                        log.info("promise %d answered after its deadline: %s", promise.id, why)
            if "\\Answered" in seen.flags and seen.message_id:
                for promise in self.book.by_message_id(seen.message_id):
                    if self.book.settle(promise.id, "answered-unverified", "\\Answered flag", now):
                        log.info("promise %d answered (flag only, unverified)", promise.id)
        return kept

    def _follow(self, seen: SeenMessage) -> None:
        if seen.new and seen.message_id and self.book.by_message_id(seen.message_id):
            self.book.locate(seen.message_id, seen.folder, seen.uid)

    def strong(self, folder: str, header: Header) -> tuple[str, str] | None:
        """(conversation, why) when this mail is a person's answer to a customer."""
        if header.automatic or (header.message_id and self.book.is_ours(header.message_id)):
            return None
        conversation = self._conversation(header)
        if conversation is None:
            return None
        promises = self.book.active_in(conversation) + self.book.late_owed(conversation)
        customers = {p.customer.lower() for p in promises}
        if not customers & header.recipients:
            return None  # an internal forward or a note to a colleague
        if folder in self.sent_folders:
            return conversation, f"reply in {folder} ({header.message_id})"
        if header.sender in self.own:  # a person wrote from the support address, Bcc to itself
            return conversation, f"reply from {header.sender}, copy in {folder}"
        if self._is_agent(header.sender) and not header.forward:
            return conversation, f"agent {header.sender} answered, copy in {folder}"
        return None

    def _conversation(self, header: Header) -> str | None:
        found = self.book.conversation_of(list(header.refers_to))
        if found is not None:
            return found
        for reference in header.references:
            if self.book.active_in(reference):
                return reference
        return None

    def _is_agent(self, sender: str) -> bool:
        if not sender or sender in self.own:
            return False
        return sender in self.agents or sender.rpartition("@")[2] in self.agent_domains
