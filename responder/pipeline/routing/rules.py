"""One routing rule: its conditions, and how much evidence it gives its queue when they hold.

Rules are data from config/routing.toml. A keyword rule gives `weight` points per distinct
term found (`subject_weight` times that in the subject); a rule without keywords gives
`weight` once when its conditions hold; a rule of weight 0 lists phrases that are no
evidence and silence the keywords inside them ("par erreur" is no error message). A `hard`
rule (by default, one that only names senders or sender domains) decides outright: the
admin said "this sender goes there".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from responder.errors import ConfigError

_QUEUE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}$")
RULE_KEYS = frozenset(
    {
        "name",
        "queue",
        "weight",
        "hard",
        "keywords",
        "subject_regex",
        "body_regex",
        "senders",
        "sender_domains",
        "languages",
    }
)


@dataclass(frozen=True)
class RouteRule:
    name: str
    queue: str
    weight: float = 1.0
    hard: bool = False
    keywords: Mapping[str, list[str]] | None = None
    subject_regex: tuple[re.Pattern[str], ...] = ()
    body_regex: tuple[re.Pattern[str], ...] = ()
    senders: frozenset[str] = frozenset()
    sender_domains: tuple[str, ...] = ()
    languages: frozenset[str] = frozenset()

    @property
    def has_conditions(self) -> bool:
        return bool(
            self.languages
            or self.senders
            or self.sender_domains
            or self.subject_regex
            or self.body_regex
            or self.keywords
        )

    def conditions_hold(self, subject: str, body: str, sender: str, language: str) -> bool:
        """Every non-keyword kind of condition holds (within one kind, any item suffices)."""
        if self.languages and language not in self.languages:
            return False
        if self.senders and sender not in self.senders:
            return False
        if self.sender_domains and not in_domains(sender, self.sender_domains):
            return False
        if self.subject_regex and not any(p.search(subject) for p in self.subject_regex):
            return False
        return not self.body_regex or any(p.search(body) for p in self.body_regex)


def in_domains(address: str, domains: tuple[str, ...]) -> bool:
    domain = address.rpartition("@")[2]
    return any(domain == d or domain.endswith("." + d) for d in domains)


def parse_rule(where: str, raw: Any) -> RouteRule:
    if not isinstance(raw, dict):
        raise ConfigError(where, "must be a table")
    unknown = set(raw) - RULE_KEYS
    if unknown:
        raise ConfigError(where, f"unknown key {sorted(unknown)[0]!r}")
    queue = raw.get("queue")
    if not isinstance(queue, str) or not _QUEUE_NAME.match(queue):
        raise ConfigError(where, f"queue must be a short lower-case name, got {queue!r}")
    weight = raw.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
        raise ConfigError(f"{where}.weight", f"must be a number ≥ 0, got {weight!r}")
    senders = frozenset(s.lower() for s in strings(where, "senders", raw))
    domains = tuple(d.lower().lstrip("@.") for d in strings(where, "sender_domains", raw))
    keywords = _keyword_table(f"{where}.keywords", raw.get("keywords"))
    subject_regex = _regexes(where, "subject_regex", raw)
    body_regex = _regexes(where, "body_regex", raw)
    only_senders = bool(senders or domains) and not (keywords or subject_regex or body_regex)
    hard = raw.get("hard", only_senders)
    if not isinstance(hard, bool):
        raise ConfigError(f"{where}.hard", f"must be true or false, got {hard!r}")
    return RouteRule(
        name=str(raw.get("name", queue)),
        queue=queue,
        weight=float(weight),
        hard=hard,
        keywords=keywords,
        subject_regex=subject_regex,
        body_regex=body_regex,
        senders=senders,
        sender_domains=domains,
        languages=frozenset(strings(where, "languages", raw)),
    )


def _keyword_table(where: str, table: Any) -> dict[str, list[str]] | None:
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError(where, "must be a table of language = [keywords]")
    for language, terms in table.items():
        if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
            raise ConfigError(f"{where}.{language}", "must be a list of strings")
    return {language: list(terms) for language, terms in table.items() if terms} or None


def strings(where: str, key: str, raw: Mapping[str, Any]) -> list[str]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}.{key}", "must be a list of strings")
    return value


def _regexes(where: str, key: str, raw: Mapping[str, Any]) -> tuple[re.Pattern[str], ...]:
    compiled = []
    for text in strings(where, key, raw):
        try:
            compiled.append(re.compile(text))
        except re.error as exc:
            raise ConfigError(f"{where}.{key}", f"bad regex {text!r}: {exc}") from None
    return tuple(compiled)
