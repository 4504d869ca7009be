"""Phrase lists for the template linter: one TOML file per language, compiled to regexes.

A phrase list (config/lint/<lang>.toml) names deflection categories and the
words that must be present (an apology; for priority mail, a senior person).
Phrases use a tiny notation, matched against folded text (lower case, accents
removed, apostrophes and hyphens turned into word breaks), whole words only:

    our policy            the words in that order (spaces or punctuation between them)
    polic*  *beleid       `*` at either end of a word: any ending / any beginning
    your|the contract     `|` inside a word: alternatives for that one word
    (do not|don't) allow  `( | )`: alternatives of several words
    supplier* ~6 delay*   `~N` (default 3): up to N other words in between

`patterns` take raw regular expressions (on the same folded text) for what the
notation cannot say, such as URLs; `unless` phrases clear a sentence of that one
category (e.g. "no need to visit our website"). config/lint/any.toml is merged
into every language.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from responder.config.defaults import LINT_PHRASES
from responder.pipeline.textnorm import fold

PHRASE_DIR = LINT_PHRASES  # shipped as package data
SHARED = "any"
DEFAULT_GAP = 3
_APOSTROPHES = re.compile(r"['’ʼ`´]")
_INNER_HYPHENS = re.compile(r"(?<=\w)[-‐‑](?=\w)")
_GAP = re.compile(r"~(\d*)")
_TOKEN = re.compile(r"(?:\([^()]*\)|[^\s()])+")  # parentheses only protect spaces
_SENTENCE_END = re.compile(
    r"(?<=[.!?…])[\"'»”’)\]]*\s+"  # end punctuation (and closing quotes) then a space
    r"|\n[ \t]*\n\s*"  # a blank line
    r"|\n[ \t]*(?=[-*•·]\s)"  # a bullet
    r"|¶"  # a block break marked by the HTML reader
)


class PhraseListError(ValueError):
    """A phrase list is missing or malformed; the message names the file."""


def lint_fold(text: str) -> str:
    """Fold for matching: casefold, no accents, `l’eau` → `l' eau`, `e-mail` → `e mail`."""
    text = _APOSTROPHES.sub("' ", text)
    return fold(_INNER_HYPHENS.sub(" ", text))


def split_sentences(text: str) -> list[tuple[int, str]]:
    """(offset, sentence) pairs; a sentence may span lines but never a blank line."""
    pieces: list[tuple[int, str]] = []
    start = 0
    for boundary in _SENTENCE_END.finditer(text):
        pieces.append((start, text[start : boundary.start()]))
        start = boundary.end()
    pieces.append((start, text[start:]))
    return [(offset, piece) for offset, piece in pieces if piece.strip()]


def _word_regex(word: str, where: str) -> str:
    alternatives = []
    for alternative in word.split("|"):
        head, tail = alternative.startswith("*"), alternative.endswith("*") and len(alternative) > 1
        core = alternative.strip("*")
        folded_words = lint_fold(core).split()
        if not folded_words:
            raise PhraseListError(f"{where}: empty word in {word!r}")
        body = r"\W+".join(re.escape(w) for w in folded_words)
        alternatives.append((r"\w*" if head else "") + body + (r"\w*" if tail else ""))
    return "(?:" + "|".join(alternatives) + ")"


def phrase_regex(phrase: str, where: str = "phrase") -> str:
    """The regex source of one phrase in the notation above."""
    parts: list[str] = []
    gap: int | None = None
    if phrase.count("(") != phrase.count(")"):
        raise PhraseListError(f"{where}: {phrase!r}: unbalanced parentheses")
    for token in _TOKEN.findall(phrase):
        gap_match = _GAP.fullmatch(token)
        if gap_match:
            if not parts or gap is not None:
                raise PhraseListError(f"{where}: {phrase!r}: `~` must stand between two words")
            gap = int(gap_match.group(1) or DEFAULT_GAP)
            continue
        if parts:
            parts.append(rf"(?:\W+\w+){{0,{gap}}}?\W+" if gap else r"\W+")
        parts.append(_word_regex(token.replace("(", "").replace(")", ""), where))
        gap = None
    if not parts or gap is not None:
        raise PhraseListError(f"{where}: {phrase!r}: a phrase must start and end with a word")
    return r"(?<!\w)" + "".join(parts) + r"(?!\w)"


def compile_terms(
    phrases: Iterable[str], patterns: Iterable[str] = (), where: str = "phrases"
) -> re.Pattern[str] | None:
    sources = [phrase_regex(p, where) for p in phrases]
    for pattern in patterns:
        literal = re.sub(r"\\.", "", pattern)
        if literal != fold(literal):
            raise PhraseListError(
                f"{where}: pattern {pattern!r} must be written folded (lower case)"
            )
        try:
            re.compile(pattern)
        except re.error as exc:
            raise PhraseListError(f"{where}: bad pattern {pattern!r}: {exc}") from None
        sources.append(f"(?:{pattern})")
    if not sources:
        return None
    return re.compile("|".join(sources))


@dataclass(frozen=True)
class Category:
    """One kind of deflection; its rule is reported as `deflection/<name>`."""

    name: str
    about: str
    pattern: re.Pattern[str] | None
    unless: re.Pattern[str] | None

    @property
    def rule(self) -> str:
        return f"deflection/{self.name}"

    def search(self, folded_sentence: str) -> re.Match[str] | None:
        if self.pattern is None:
            return None
        found = self.pattern.search(folded_sentence)
        if found and self.unless is not None and self.unless.search(folded_sentence):
            return None
        return found


@dataclass(frozen=True)
class PhraseBook:
    """A language's compiled phrase list."""

    language: str
    path: Path
    categories: tuple[Category, ...]
    required: dict[str, re.Pattern[str]]

    def deflections(self, sentence: str) -> list[tuple[Category, re.Match[str]]]:
        """Every category that one sentence falls into, with the words that gave it away."""
        folded = lint_fold(sentence)
        hits = []
        for category in self.categories:
            found = category.search(folded)
            if found:
                hits.append((category, found))
        return hits

    def has(self, element: str, text: str) -> bool:
        pattern = self.required.get(element)
        return pattern is None or bool(pattern.search(lint_fold(text)))


def _strings(where: str, table: dict[str, Any], key: str) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PhraseListError(f"{where}.{key}: must be a list of strings")
    return value


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise PhraseListError(f"{path}: not valid TOML: {exc}") from None


def load_phrasebook(language: str, directory: Path = PHRASE_DIR) -> PhraseBook:
    """Read `<directory>/<language>.toml` merged with `any.toml`; raise PhraseListError."""
    path = directory / f"{language}.toml"
    if not path.is_file():
        raise PhraseListError(
            f"{path}: no phrase list for language {language!r} "
            f"(copy {directory / 'en.toml'} and write the phrases of {language!r})"
        )
    return _cached(str(path), path.stat().st_mtime_ns, str(directory / f"{SHARED}.toml"))


@lru_cache(maxsize=32)
def _cached(path_text: str, _mtime: int, shared_text: str) -> PhraseBook:
    path, shared_path = Path(path_text), Path(shared_text)
    own, shared = _read(path), _read(shared_path)
    tables: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for source, data in ((path, own), (shared_path, shared)):
        deflection = data.get("deflection", {})
        if not isinstance(deflection, dict):
            raise PhraseListError(f"{source}: [deflection] must be a table of categories")
        for name, table in deflection.items():
            if not isinstance(table, dict):
                raise PhraseListError(f"{source}: deflection.{name} must be a table")
            tables.setdefault(name, []).append((f"{source}: deflection.{name}", table))
    categories = []
    for name, parts in tables.items():
        phrases = [p for where, table in parts for p in _strings(where, table, "phrases")]
        patterns = [p for where, table in parts for p in _strings(where, table, "patterns")]
        unless = [p for where, table in parts for p in _strings(where, table, "unless")]
        where = parts[0][0]
        about = next((str(t["about"]) for _, t in parts if "about" in t), name)
        categories.append(
            Category(
                name,
                about,
                compile_terms(phrases, patterns, where),
                compile_terms(unless, (), where),
            )
        )
    required_table = own.get("required", {})
    if not isinstance(required_table, dict):
        raise PhraseListError(f"{path}: [required] must be a table")
    required = {}
    for element in required_table:
        compiled = compile_terms(
            _strings(f"{path}: required", required_table, element), (), str(path)
        )
        if compiled is not None:
            required[element] = compiled
    language = path.stem
    return PhraseBook(language, path, tuple(categories), required)
