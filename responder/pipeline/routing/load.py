"""Read config/routing.toml into a Router; every mistake names its place in the file."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from responder.errors import ConfigError
from responder.pipeline.routing.priority import parse_priority
from responder.pipeline.routing.router import FALLBACK_QUEUE, Learning, Router, Scoring
from responder.pipeline.routing.rules import parse_rule
from responder.pipeline.routing.stems import languages
from responder.pipeline.routing.terms import TermIndex

_SCORING_KEYS = {"subject_weight", "margin", "min_score", "fallback", "other_languages"}
_LEARNING_KEYS = {"enabled", "confidence", "min_examples"}


def load_router(path: str | Path) -> Router:
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
    unknown = set(data) - {"rule", "priority", "scoring", "learning"}
    if unknown:
        raise ConfigError(where, f"unknown table {sorted(unknown)[0]!r}")
    raw_rules = data.get("rule", [])
    if not isinstance(raw_rules, list):
        raise ConfigError(f"{where}: rule", "must be an array of tables ([[rule]])")
    rules = tuple(parse_rule(f"{where}: rule #{i + 1}", raw) for i, raw in enumerate(raw_rules))
    terms = TermIndex(languages())
    for index, rule in enumerate(rules):
        if rule.keywords:
            terms.add(index, rule.keywords)
    return Router(
        rules=rules,
        priority_rules=parse_priority(where, data.get("priority", {})),
        terms=terms,
        scoring=_scoring(f"{where}: scoring", data.get("scoring", {})),
        learning=_learning(f"{where}: learning", data.get("learning", {})),
    )


def _table(where: str, raw: Any, keys: set[str]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ConfigError(where, "must be a table")
    unknown = set(raw) - keys
    if unknown:
        raise ConfigError(where, f"unknown key {sorted(unknown)[0]!r}")
    return raw


def _number(where: str, raw: dict[str, Any], key: str, default: float, low: float = 0.0) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < low:
        raise ConfigError(f"{where}.{key}", f"must be a number ≥ {low:g}, got {value!r}")
    return float(value)


def _scoring(where: str, raw: Any) -> Scoring:
    raw = _table(where, raw, _SCORING_KEYS)
    fallback = raw.get("fallback", FALLBACK_QUEUE)
    if not isinstance(fallback, str) or not fallback:
        raise ConfigError(f"{where}.fallback", f"must be a queue name, got {fallback!r}")
    default = Scoring()
    return Scoring(
        subject_weight=_number(where, raw, "subject_weight", default.subject_weight),
        margin=_number(where, raw, "margin", default.margin),
        min_score=_number(where, raw, "min_score", default.min_score),
        fallback=fallback,
        other_languages=_number(where, raw, "other_languages", default.other_languages),
    )


def _learning(where: str, raw: Any) -> Learning:
    raw = _table(where, raw, _LEARNING_KEYS)
    default = Learning()
    enabled = raw.get("enabled", default.enabled)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{where}.enabled", f"must be true or false, got {enabled!r}")
    confidence = _number(where, raw, "confidence", default.confidence)
    if confidence > 1:
        raise ConfigError(f"{where}.confidence", f"must be a probability ≤ 1, got {confidence}")
    return Learning(
        enabled=enabled,
        confidence=confidence,
        min_examples=int(_number(where, raw, "min_examples", default.min_examples)),
    )
