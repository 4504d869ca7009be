"""The guard's vocabulary: a rule, the evidence it records, the verdict it gives.

Every rule returns the evidence it found (an empty tuple when it does not match), so
`responder inspect --json` can show an admin not only which rule refused a message but
which header, phrase or part made it match, and which weak signals fired on mail we
still answered.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from responder.pipeline.guard.phrases import PhraseBook

# What a signal is about. Only "content" and "detector" signals need a second one to refuse.
SIGNAL_KINDS = ("sender", "headers", "structure", "loop", "content", "detector")
# What a rule needs: one signal of a kind that refuses alone, or ("+") a second machine signal.
RULE_KINDS = (
    "sender",
    "headers",
    "structure",
    "loop",
    "detector+",
    "structure+content",
    "content+",
    # A content subject confirmed by the body's first line: the position is the second signal.
    "content+opening",
)


@dataclass(frozen=True)
class Evidence:
    """One signal that fired: which rule or check, what kind, where, and what matched."""

    rule: str
    kind: str  # one of SIGNAL_KINDS
    where: str  # a header name ("return-path"), "subject", "body", "mime" or "detector"
    matched: str  # the value or phrase that matched, shortened for display

    def as_json(self) -> dict[str, str]:
        return {"rule": self.rule, "kind": self.kind, "where": self.where, "matched": self.matched}


Found = tuple[Evidence, ...]


@dataclass(frozen=True)
class GuardContext:
    """What the rules need beyond the message: our own addresses (lower case), the phrase book."""

    own_addresses: frozenset[str]
    phrases: PhraseBook | None = None  # None: the shipped config/machine_phrases.toml


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str  # one of RULE_KINDS
    description: str
    check: Callable[[Any, GuardContext], Found]  # (Facts, context) -> evidence


@dataclass(frozen=True)
class Verdict:
    may_reply: bool
    reason: str | None  # the refusing rule's name, None when we may reply
    evidence: Found = field(default=())


_COMMENT = re.compile(r"\([^()]*\)")


def header_value(header: str | None) -> str:
    """A header's value without RFC 5322 comments or parameters, lower case."""
    if header is None:
        return ""
    return _COMMENT.sub("", header).split(";")[0].strip().lower()


def short(text: str, limit: int = 120) -> str:
    """Evidence is for humans: one line, bounded."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
