"""Priority: legal threats, chargebacks, cancellation threats, insults, SHOUTING, VIP senders.

Separate from the queue on purpose: a priority mail can be in any queue. Priority terms are
matched as whole folded words and `*` prefixes, not stems: these lists are deliberately
strict (a stem of "court" or "scam" would catch too much), so they keep the exact
matching they were written and tested for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from responder.errors import ConfigError
from responder.pipeline.routing.rules import in_domains, strings
from responder.pipeline.textnorm import keyword_pattern

SHOUTING_MIN_LETTERS = 12
SHOUTING_RATIO = 0.7


@dataclass(frozen=True)
class KeywordSet:
    """Keyword lists per language plus "any"; compiled to one regex per language."""

    patterns: Mapping[str, re.Pattern[str]]

    @classmethod
    def from_table(cls, where: str, table: Any) -> KeywordSet:
        if not isinstance(table, dict):
            raise ConfigError(where, "must be a table of language = [keywords]")
        patterns = {}
        for language, terms in table.items():
            if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
                raise ConfigError(f"{where}.{language}", "must be a list of strings")
            pattern = keyword_pattern(terms)
            if pattern is not None:
                patterns[language] = pattern
        return cls(patterns)

    def search(self, folded_text: str, language: str) -> str | None:
        for key in (language, "any"):
            pattern = self.patterns.get(key)
            found = pattern.search(folded_text) if pattern else None
            if found:
                return found.group(0)
        return None


@dataclass(frozen=True)
class PriorityRules:
    keywords: Mapping[str, KeywordSet]
    vip_senders: frozenset[str] = frozenset()
    vip_domains: tuple[str, ...] = ()
    shouting: bool = True

    def reasons(
        self, folded: str, subject: str, text: str, sender: str, language: str
    ) -> tuple[str, ...]:
        found = [
            category
            for category, keywords in self.keywords.items()
            if keywords.search(folded, language)
        ]
        if self.shouting and (is_shouting(subject) or is_shouting(text)):
            found.append("shouting")
        if sender in self.vip_senders or in_domains(sender, self.vip_domains):
            found.append("vip")
        return tuple(found)


def is_shouting(text: str, limit: int = 6000) -> bool:
    letters = "".join(filter(str.isalpha, text[:limit]))
    if len(letters) < SHOUTING_MIN_LETTERS:
        return False
    return sum(map(str.isupper, letters)) / len(letters) >= SHOUTING_RATIO


def parse_priority(where: str, priority: Any) -> PriorityRules:
    if not isinstance(priority, dict):
        raise ConfigError(f"{where}: priority", "must be a table")
    keywords = {
        category: KeywordSet.from_table(f"{where}: priority.keywords.{category}", table)
        for category, table in priority.get("keywords", {}).items()
    }
    return PriorityRules(
        keywords=keywords,
        vip_senders=frozenset(s.lower() for s in strings(where, "vip_senders", priority)),
        vip_domains=tuple(d.lower().lstrip("@.") for d in strings(where, "vip_domains", priority)),
        shouting=bool(priority.get("shouting", True)),
    )
