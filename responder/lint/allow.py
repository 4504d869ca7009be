"""Deliberate exceptions: `{# lint: allow deflection/<topic> — reason #}` accepts one sentence.

The comment covers the line it stands on; standing alone on its line, it covers
the next line that has text. The reason is required (after `—`, `--`, `-` or
`:`), because an exception nobody can explain is a deflection nobody chose;
`responder lint --explain` shows every accepted sentence with its reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ALLOW = re.compile(r"\{#-?\s*lint\s*:\s*allow\b(?P<body>.*?)-?#\}", re.S | re.I)
_BODY = re.compile(r"\s*(?P<rule>deflection/[\w-]+)?\s*(?:(?:—|–|--|-|:)\s*(?P<reason>.*))?", re.S)


@dataclass(frozen=True)
class Allow:
    """One accepted rule on one line, and why."""

    line: int  # a line the comment covers (a sentence may take several)
    comment_line: int
    rule: str
    reason: str


@dataclass(frozen=True)
class BadAllow:
    line: int
    text: str


def read_allows(source: str) -> tuple[list[Allow], list[BadAllow]]:
    """The allow comments of a template source, and those that cannot be honoured."""
    allows: list[Allow] = []
    bad: list[BadAllow] = []
    lines = source.split("\n")
    for found in _ALLOW.finditer(source):
        line = source.count("\n", 0, found.start()) + 1
        body = _BODY.fullmatch(found.group("body"))
        rule = body.group("rule") if body else None
        reason = " ".join((body.group("reason") or "").split()) if body else ""
        if not rule:
            bad.append(
                BadAllow(
                    line, "lint: allow needs a rule: {# lint: allow deflection/<topic> — reason #}"
                )
            )
            continue
        if not reason:
            bad.append(
                BadAllow(
                    line,
                    f"lint: allow {rule} needs a reason after '—' (why is this sentence fine?)",
                )
            )
            continue
        start = source.rfind("\n", 0, found.start()) + 1
        end = source.find("\n", found.end())
        rest = source[start : found.start()] + source[found.end() : end if end >= 0 else None]
        first = line + source.count("\n", found.start(), found.end())
        if not rest.strip():
            first = next(
                (n for n in range(first + 1, len(lines) + 1) if lines[n - 1].strip()), line
            )
        for covered in _sentence_lines(lines, first):
            allows.append(Allow(covered, line, rule, reason))
    return allows, bad


def _sentence_lines(lines: list[str], first: int) -> range:
    """The line a sentence starts on and the lines it runs on to, up to its full stop."""
    last = first
    while (
        last < len(lines)
        and lines[last].strip()
        and not re.search(r"[.!?…]\W*$", lines[last - 1].strip())
    ):
        last += 1
    return range(first, last + 1)
