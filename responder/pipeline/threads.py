"""What a conversation is, without storage: subject normalisation, the reference tag, and
the questions the pipeline asks of history.

The pipeline decides follow-ups and caps by asking a `ConversationHistory`; the service
answers from the ledger (`responder.service.conversation.History`), `inspect --state`
from a read-only ledger, and tests from whatever they like.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from responder.pipeline.parse import ParsedMessage
from responder.pipeline.textnorm import fold

# Reply/forward prefixes of the shipped languages and common clients, repeated and
# bracketed: "Re: AW: Fwd[2]: RV:" — all go.
_PREFIX = re.compile(
    r"^\s*(?:(?:re|aw|sv|vs|antw|antwoord|antwort|rv|r|ref|réf|rif|enc|fw|fwd|wg|tr|doorst|"
    r"odp|res|resp|ynt|vb|vl|atb|tr|trans|fs|wtr)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*"
    r"|\[(?!#)[^\]]{0,40}\]\s*)",
    re.IGNORECASE,
)
REFERENCE_TAG = re.compile(r"\[#([A-Z2-9]{6,12})\]")


def normalize_subject(subject: str) -> str:
    """The subject a conversation is known by: no prefixes, no reference tag, folded, single-spaced."""
    text = REFERENCE_TAG.sub(" ", subject)
    previous = None
    while previous != text:
        previous = text
        text = _PREFIX.sub("", text, count=1)
    return " ".join(fold(text).split())


@dataclass(frozen=True)
class Thread:
    conversation: str  # the reference of its first message
    queue: str
    priority: bool
    respond_by: float | None = None  # the deadline still promised in it (a follow-up repeats it)


@dataclass(frozen=True)
class Consultation:
    """What history says about a message the guard would let us answer."""

    thread: Thread | None  # the conversation it continues, if any
    cap: str | None  # sender-cap | global-cap | None: whether one more reply would exceed a cap


class ConversationHistory(Protocol):
    """Where the pipeline learns whether a message continues a conversation or hits a cap."""

    def consult(
        self, message: ParsedMessage, sender: str, now: float | None = None
    ) -> Consultation: ...

    def count_reply(self, now: float) -> None: ...
