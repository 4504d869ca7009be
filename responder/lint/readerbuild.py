"""Building a Reader from a language's cue list (config/lint/<lang>.toml) merged with any.toml.

Kept apart from responder/lint/reader.py, which reads sentences: this module only turns
the TOML tables into compiled cue groups and checks the few settings beside them
(`[severity] error_at`, `[syntax] comma_ends_gap`, `[negation] after`).
"""

from __future__ import annotations

from typing import Any

from responder.lint.cues import compile_cues, compile_patterns
from responder.lint.notation import PhraseListError
from responder.lint.reader import Group, Reader


def _strings(where: str, table: dict[str, Any], key: str) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PhraseListError(f"{where}.{key}: must be a list of strings")
    return value


def _groups(
    data: list[tuple[str, dict[str, Any]]],
    section: str,
    language: str,
    normaliser: str,
    commas: bool = False,
) -> tuple[Group, ...]:
    """Every `[section.<name>]` table of the language file and any.toml, merged by name."""
    merged: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for source, table in data:
        value = table.get(section, {})
        if not isinstance(value, dict):
            raise PhraseListError(f"{source}: [{section}] must be a table")
        for name, entry in value.items():
            if not isinstance(entry, dict):
                raise PhraseListError(f"{source}: {section}.{name} must be a table")
            merged.setdefault(name, []).append((f"{source}: {section}.{name}", entry))
    groups = []
    for name, parts in merged.items():
        cues = [c for where, t in parts for c in _strings(where, t, "cues")]
        patterns = [c for where, t in parts for c in _strings(where, t, "patterns")]
        first = {k: v for _, t in reversed(parts) for k, v in t.items()}
        groups.append(
            Group(
                name,
                compile_cues(cues, language, normaliser, parts[0][0], commas)
                + compile_patterns(patterns, parts[0][0]),
                about=str(first.get("about", "")),
                hint=str(first.get("hint", "")),
                topic=str(first.get("topic", name if section == "alone" else "")),
                negatable=bool(first.get("negatable", False)),
            )
        )
    return tuple(groups)


def _single(
    data: list[tuple[str, dict[str, Any]]],
    section: str,
    key: str,
    language: str,
    normaliser: str,
    commas: bool = False,
) -> Group:
    cues: list[str] = []
    for source, table in data:
        value = table.get(section, {})
        if not isinstance(value, dict):
            raise PhraseListError(f"{source}: [{section}] must be a table")
        cues += _strings(f"{source}: {section}", value, key)
    # grammatical forms words cannot say ("I've <participle>"): raw regexes beside the cues
    patterns = [p for source, t in data for p in _patterns(source, t, section, key)]
    return Group(
        f"{section}.{key}",
        compile_cues(cues, language, normaliser, section, commas)
        + compile_patterns(patterns, section),
    )


def _patterns(source: str, table: dict[str, Any], section: str, key: str) -> list[str]:
    """`patterns` of `[ownership]` (beside `cues`); other single lists take none."""
    value = table.get(section, {})
    if key != "cues" or not isinstance(value, dict):
        return []
    return _strings(f"{source}: {section}", value, "patterns")


def build_reader(language: str, data: list[tuple[str, dict[str, Any]]], normaliser: str) -> Reader:
    """A Reader from the parsed language file and any.toml, as (source, table) pairs."""
    error_at = 1.0
    for source, table in data:
        severity = table.get("severity", {})
        value = severity.get("error_at", error_at) if isinstance(severity, dict) else None
        if not isinstance(value, (int, float)) or not 0 < value <= 1:
            raise PhraseListError(f"{source}: severity.error_at must be a number in (0, 1]")
        error_at = float(value)
    commas = _comma_ends_gap(data)
    return Reader(
        language,
        normaliser,
        topics=_groups(data, "topic", language, normaliser, commas),
        moves=_groups(data, "move", language, normaliser, commas),
        alone=_groups(data, "alone", language, normaliser, commas),
        ownership=_single(data, "ownership", "cues", language, normaliser, commas),
        necessity=_single(data, "negation", "necessity", language, normaliser, commas),
        negators=_single(data, "negation", "not", language, normaliser),
        breaks=_single(data, "negation", "breaks", language, normaliser),
        contrast=_single(data, "negation", "contrast", language, normaliser),
        clause=_single(data, "negation", "clause", language, normaliser),
        cleared=_single(data, "negation", "cleared", language, normaliser, commas),
        error_at=error_at,
        comma_ends_clause=commas,
        negation_after=_negation_after(data),
    )


def _negation_after(data: list[tuple[str, dict[str, Any]]]) -> int:
    """`[negation] after`: tokens after an ownership cue in which a negation still undoes it."""
    source, table = data[0]
    negation = table.get("negation", {})
    value = negation.get("after", 0) if isinstance(negation, dict) else None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 12:
        raise PhraseListError(f"{source}: negation.after must be a whole number from 0 to 12")
    return value


def _comma_ends_gap(data: list[tuple[str, dict[str, Any]]]) -> bool:
    """`[syntax] comma_ends_gap` of the language file (false where commas mark every clause)."""
    source, table = data[0]
    syntax = table.get("syntax", {})
    value = syntax.get("comma_ends_gap", False) if isinstance(syntax, dict) else None
    if not isinstance(value, bool):
        raise PhraseListError(f"{source}: syntax.comma_ends_gap must be true or false")
    return value
