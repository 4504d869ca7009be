"""Cue lists for the template linter: one TOML file per language (config/lint/<lang>.toml).

A cue list names the deflection topics and moves (read by responder/lint/reader.py,
matched on stems by responder/lint/cues.py) and the words that must be present
(an apology; for priority mail, a senior person). Both use a tiny notation; the
required words are matched against folded text (lower case, accents removed,
apostrophes and hyphens turned into word breaks), whole words only:

    our policy            the words in that order (spaces or punctuation between them)
    polic*  *beleid       `*` at either end of a word: any ending / any beginning
    your|the contract     `|` inside a word: alternatives for that one word
    (do not|don't) allow  `( | )`: alternatives of several words
    supplier* ~6 delay*   `~N` (default 3): up to N other words in between

`patterns` take raw regular expressions (on the same folded text) for what the
notation cannot say, such as URLs. config/lint/any.toml is merged into every language.
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
from responder.lint.cues import DEFAULT_NORMALISER
from responder.lint.notation import (
    APOSTROPHES,
    GAP,
    INNER_HYPHENS,
    TOKEN,
    PhraseListError,
    lint_fold,
)
from responder.lint.reader import Deflection, Reader
from responder.lint.readerbuild import build_reader
from responder.pipeline.textnorm import fold

PHRASE_DIR = LINT_PHRASES  # shipped as package data
SHARED = "any"
DEFAULT_GAP = 3
_APOSTROPHES, _INNER_HYPHENS, _GAP, _TOKEN = APOSTROPHES, INNER_HYPHENS, GAP, TOKEN
__all__ = ["PhraseBook", "PhraseListError", "lint_fold", "load_phrasebook", "split_sentences"]
_SENTENCE_END = re.compile(
    r"(?<=[.!?…])[\"'»”’)\]]*\s+"  # end punctuation (and closing quotes) then a space
    r"|\n[ \t]*\n\s*"  # a blank line
    r"|\n[ \t]*(?=[-*•·]\s)"  # a bullet
    r"|¶"  # a block break marked by the HTML reader
)


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
class PhraseBook:
    """A language's compiled cue lists (deflection) and required words (apology, senior)."""

    language: str
    path: Path
    reader: Reader
    required: dict[str, re.Pattern[str]]

    def read(self, sentence: str) -> list[Deflection]:
        """Every deflection in one sentence, each with its topic, move, words and hint."""
        return self.reader.deflections(sentence)

    def deflections(self, sentence: str) -> list[tuple[Deflection, str]]:
        """(deflection, the words that gave it away) pairs, as the phrase-list linter gave."""
        return [(found, found.anchor) for found in self.read(sentence)]

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


def load_phrasebook(
    language: str, directory: Path = PHRASE_DIR, normaliser: str = DEFAULT_NORMALISER
) -> PhraseBook:
    """Read `<directory>/<language>.toml` merged with `any.toml`; raise PhraseListError."""
    path = directory / f"{language}.toml"
    if not path.is_file():
        raise PhraseListError(
            f"{path}: no phrase list for language {language!r} "
            f"(copy {directory / 'en.toml'} and write the phrases of {language!r})"
        )
    shared = directory / f"{SHARED}.toml"
    stamp = path.stat().st_mtime_ns + (shared.stat().st_mtime_ns if shared.is_file() else 0)
    return _cached(str(path), stamp, str(shared), normaliser)


@lru_cache(maxsize=32)
def _cached(path_text: str, _mtime: int, shared_text: str, normaliser: str) -> PhraseBook:
    path, shared_path = Path(path_text), Path(shared_text)
    own, shared = _read(path), _read(shared_path)
    if "deflection" in own:
        raise PhraseListError(
            f"{path}: [deflection] phrase lists are replaced by [topic], [move], [alone] "
            "and [ownership] cues (see config/lint/en.toml)"
        )
    reader = build_reader(path.stem, [(str(path), own), (str(shared_path), shared)], normaliser)
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
    return PhraseBook(path.stem, path, reader, required)
