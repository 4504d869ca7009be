"""What a server advertises, and what we do differently because of it.

We honour the server instead of assuming Dovecot: Exchange announces no `\\*` in
PERMANENTFLAGS (no custom keywords: filing goes on without tags), Gmail has labels, not
folders (a MOVE out of INBOX removes the INBOX label; its SMTP files a copy of what we send in
[Gmail]/Sent Mail by itself, so we append none) and ends IDLE after about ten minutes.
`responder check` prints `Quirks.notes()`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

log = logging.getLogger("responder.service.imap")
GMAIL_IDLE_CAP = 9 * 60.0  # Gmail drops an IDLE after ~10 minutes: re-issue before
NO_CAP = float("inf")


@dataclass(frozen=True)
class Quirks:
    keywords: bool = True  # PERMANENTFLAGS has \*: new keywords are kept
    permanent: frozenset[str] | None = None  # system flags the server keeps (None: not said)
    gmail: bool = False

    @classmethod
    def detect(cls, capabilities: Iterable[bytes], permanent_flags: object) -> Quirks:
        gmail = b"X-GM-EXT-1" in set(capabilities)
        if not isinstance(permanent_flags, tuple | list):
            return cls(gmail=gmail)  # no PERMANENTFLAGS: RFC 3501 says assume all flags
        flags = {f.decode() if isinstance(f, bytes) else str(f) for f in permanent_flags}
        system = frozenset(f.lower() for f in flags if f.startswith("\\") and f != "\\*")
        return cls(keywords="\\*" in flags, permanent=system, gmail=gmail)

    @property
    def idle_cap(self) -> float:
        return GMAIL_IDLE_CAP if self.gmail else NO_CAP

    @property
    def server_saves_sent(self) -> bool:
        return self.gmail

    def storable(self, flags: Sequence[str]) -> list[str]:
        """The flags the server will keep: keywords only with \\*, system flags only if listed."""
        kept = [f for f in flags if self._keeps(f)]
        if len(kept) < len(flags):
            log.debug("server does not keep %s", ", ".join(f for f in flags if f not in kept))
        return kept

    def _keeps(self, flag: str) -> bool:
        if flag.startswith("\\"):
            return self.permanent is None or flag.lower() in self.permanent
        return self.keywords

    def notes(self) -> list[str]:
        """One line per difference from the defaults, saying what we will do instead."""
        notes = []
        if not self.keywords:
            notes.append("no custom keywords (PERMANENTFLAGS lacks \\*): filing without tags")
        if self.permanent is not None and "\\flagged" not in self.permanent:
            notes.append("\\Flagged not kept: priority is shown by the queue folder only")
        if self.gmail:
            notes.append(
                "Gmail: folders are labels (MOVE removes the INBOX label); Gmail files sent "
                "acknowledgments in [Gmail]/Sent Mail itself; IDLE re-issued every 9 min"
            )
        return notes
