"""Provider quirks from what a server advertises (capabilities and PERMANENTFLAGS as sent by
Exchange Online, Gmail and Dovecot)."""

from __future__ import annotations

from responder.service.quirks import GMAIL_IDLE_CAP, Quirks

EXCHANGE_FLAGS = (b"\\Seen", b"\\Draft", b"\\Deleted", b"\\Flagged", b"\\Answered")
EXCHANGE_CAPS = (b"IMAP4", b"IMAP4REV1", b"AUTH=PLAIN", b"AUTH=XOAUTH2", b"SASL-IR", b"UIDPLUS",
                 b"ID", b"UNSELECT", b"CHILDREN", b"IDLE", b"NAMESPACE", b"LITERAL+")  # fmt: skip
GMAIL_CAPS = (b"IMAP4REV1", b"UNSELECT", b"IDLE", b"NAMESPACE", b"QUOTA", b"ID", b"XLIST",
              b"CHILDREN", b"X-GM-EXT-1", b"UIDPLUS", b"COMPRESS=DEFLATE", b"ENABLE", b"MOVE",
              b"CONDSTORE", b"ESEARCH", b"UTF8=ACCEPT", b"LIST-EXTENDED", b"LIST-STATUS",
              b"LITERAL-", b"SPECIAL-USE", b"APPENDLIMIT=35651584")  # fmt: skip
GMAIL_FLAGS = (b"\\Answered", b"\\Flagged", b"\\Draft", b"\\Deleted", b"\\Seen", b"$NotPhishing",
               b"$Phishing", b"\\*")  # fmt: skip


def test_exchange_keeps_system_flags_but_no_keywords() -> None:
    quirks = Quirks.detect(EXCHANGE_CAPS, EXCHANGE_FLAGS)
    assert quirks.storable(["billing", "\\Flagged", "priority", "#R-1"]) == ["\\Flagged"]
    assert quirks.notes() == ["no custom keywords (PERMANENTFLAGS lacks \\*): filing without tags"]
    assert not quirks.server_saves_sent and quirks.idle_cap == float("inf")


def test_gmail_labels_sent_copies_and_idle_cap() -> None:
    quirks = Quirks.detect(GMAIL_CAPS, GMAIL_FLAGS)
    assert quirks.storable(["billing", "\\Flagged"]) == ["billing", "\\Flagged"]
    assert quirks.server_saves_sent and quirks.idle_cap == GMAIL_IDLE_CAP < 10 * 60
    assert len(quirks.notes()) == 1 and quirks.notes()[0].startswith("Gmail: folders are labels")


def test_no_permanentflags_means_everything_is_kept() -> None:
    quirks = Quirks.detect([b"IMAP4REV1"], None)  # RFC 3501: absent means all flags
    assert quirks.storable(["x", "\\Flagged"]) == ["x", "\\Flagged"] and quirks.notes() == []
