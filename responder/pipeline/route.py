"""Route: which human queue a message belongs to, and whether it is priority.

Rules come from a TOML file admins edit (config/routing.toml). They are compiled
once into regexes; a message is matched against its folded subject and new text,
so the cost per message is a handful of regex searches.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from responder.errors import ConfigError
from responder.pipeline.textnorm import fold, keyword_pattern

FALLBACK_QUEUE = "general"
_QUEUE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}$")
_RULE_KEYS = {
    "name",
    "queue",
    "keywords",
    "subject_regex",
    "body_regex",
    "senders",
    "sender_domains",
    "languages",
}
# What a customer writes about comes first; a pasted log or contract further down only
# slows every keyword search without changing where the mail belongs.
CLASSIFY_CHARS = 6000
SHOUTING_MIN_LETTERS = 12
SHOUTING_RATIO = 0.7


@dataclass(frozen=True)
class MessageFacts:
    """What routing looks at: one mail, already parsed and language-tagged."""

    subject: str
    new_text: str
    sender: str  # lower case
    language: str

    @property
    def folded(self) -> str:
        return fold(self.subject + "\n" + self.new_text[:CLASSIFY_CHARS])


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
class RouteRule:
    name: str
    queue: str
    keywords: KeywordSet | None = None
    subject_regex: tuple[re.Pattern[str], ...] = ()
    body_regex: tuple[re.Pattern[str], ...] = ()
    senders: frozenset[str] = frozenset()
    sender_domains: tuple[str, ...] = ()
    languages: frozenset[str] = frozenset()

    def matches(self, facts: MessageFacts, folded: str) -> bool:
        """All given kinds of condition must hold; within one kind, any item suffices.

        Cheap checks first; a rule with no condition at all never matches.
        """
        if self.languages and facts.language not in self.languages:
            return False
        if self.senders and facts.sender not in self.senders:
            return False
        if self.sender_domains and not _in_domains(facts.sender, self.sender_domains):
            return False
        if self.subject_regex and not any(p.search(facts.subject) for p in self.subject_regex):
            return False
        if self.body_regex and not any(p.search(facts.new_text) for p in self.body_regex):
            return False
        if self.keywords is not None and self.keywords.search(folded, facts.language) is None:
            return False
        return bool(
            self.languages
            or self.senders
            or self.sender_domains
            or self.subject_regex
            or self.body_regex
            or self.keywords
        )


@dataclass(frozen=True)
class RouteResult:
    queue: str
    rule: str | None  # the matching rule's name, None for the fallback
    priority: bool
    priority_reasons: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Router:
    rules: tuple[RouteRule, ...]
    priority_keywords: Mapping[str, KeywordSet]
    vip_senders: frozenset[str]
    vip_domains: tuple[str, ...]
    shouting: bool

    @property
    def queues(self) -> tuple[str, ...]:
        names = dict.fromkeys(rule.queue for rule in self.rules)
        names[FALLBACK_QUEUE] = None
        return tuple(names)

    def route(self, facts: MessageFacts) -> RouteResult:
        folded = facts.folded
        queue, rule_name = FALLBACK_QUEUE, None
        for rule in self.rules:
            if rule.matches(facts, folded):
                queue, rule_name = rule.queue, rule.name
                break
        reasons = self.priority_reasons(facts, folded)
        return RouteResult(queue, rule_name, bool(reasons), reasons)

    def priority_reasons(self, facts: MessageFacts, folded: str) -> tuple[str, ...]:
        reasons = [
            category
            for category, keywords in self.priority_keywords.items()
            if keywords.search(folded, facts.language)
        ]
        if self.shouting and (_is_shouting(facts.subject) or _is_shouting(facts.new_text)):
            reasons.append("shouting")
        if facts.sender in self.vip_senders or _in_domains(facts.sender, self.vip_domains):
            reasons.append("vip")
        return tuple(reasons)


def _in_domains(address: str, domains: tuple[str, ...]) -> bool:
    domain = address.rpartition("@")[2]
    return any(domain == d or domain.endswith("." + d) for d in domains)


def _is_shouting(text: str) -> bool:
    letters = "".join(filter(str.isalpha, text[:CLASSIFY_CHARS]))
    if len(letters) < SHOUTING_MIN_LETTERS:
        return False
    return sum(map(str.isupper, letters)) / len(letters) >= SHOUTING_RATIO


def load_router(path: str | Path) -> Router:
    """Read and compile the routing rules; every mistake names its place in the file."""
    where = str(path)
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError("routing.rules", f"routing rules file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(where, f"not valid TOML: {exc}") from None
    return build_router(data, where)


def build_router(data: dict[str, Any], where: str = "routing") -> Router:
    rules = tuple(
        _rule(f"{where}: rule #{i + 1}", raw) for i, raw in enumerate(data.get("rule", []))
    )
    priority = data.get("priority", {})
    keywords = {
        category: KeywordSet.from_table(f"{where}: priority.keywords.{category}", table)
        for category, table in priority.get("keywords", {}).items()
    }
    return Router(
        rules=rules,
        priority_keywords=keywords,
        vip_senders=frozenset(s.lower() for s in _strings(where, "vip_senders", priority)),
        vip_domains=tuple(d.lower().lstrip("@.") for d in _strings(where, "vip_domains", priority)),
        shouting=bool(priority.get("shouting", True)),
    )


def _rule(where: str, raw: dict[str, Any]) -> RouteRule:
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise ConfigError(where, f"unknown key {sorted(unknown)[0]!r}")
    queue = raw.get("queue")
    if not isinstance(queue, str) or not _QUEUE_NAME.match(queue):
        raise ConfigError(where, f"queue must be a short lower-case name, got {queue!r}")
    keywords = raw.get("keywords")
    return RouteRule(
        name=str(raw.get("name", queue)),
        queue=queue,
        keywords=KeywordSet.from_table(f"{where}.keywords", keywords) if keywords else None,
        subject_regex=_regexes(where, "subject_regex", raw),
        body_regex=_regexes(where, "body_regex", raw),
        senders=frozenset(s.lower() for s in _strings(where, "senders", raw)),
        sender_domains=tuple(
            d.lower().lstrip("@.") for d in _strings(where, "sender_domains", raw)
        ),
        languages=frozenset(_strings(where, "languages", raw)),
    )


def _strings(where: str, key: str, raw: dict[str, Any]) -> list[str]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}.{key}", "must be a list of strings")
    return value


def _regexes(where: str, key: str, raw: dict[str, Any]) -> tuple[re.Pattern[str], ...]:
    compiled = []
    for text in _strings(where, key, raw):
        try:
            compiled.append(re.compile(text))
        except re.error as exc:
            raise ConfigError(f"{where}.{key}", f"bad regex {text!r}: {exc}") from None
    return tuple(compiled)
