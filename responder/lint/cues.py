"""Cues matched on word stems (or lemmas), not on spellings, so one cue covers every inflection.

A sentence is turned into tokens, each written `surface#key`: the surface is the
folded word as written (lower case, no accents), the key its Snowball stem or
its `simplemma` lemma (folded too). A cue uses the phrase notation of
responder/lint/phrases.py, but each plain word matches on its key, so `refund`
finds "refunded" and "refunds", `política` finds "políticas". A word with a `*`
matches its surface instead (`*beleid` finds "managementbeleid"), which is how
compound words are caught. A cue starting with `?` is weak: alone it only gives
a warning (see responder/lint/reader.py).

Why both stemmers: `bench/lint_metrics.py --normaliser` measures each on the
held-out rounds; the one the phrase lists are written for is `DEFAULT_NORMALISER`.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache

from responder.lint.notation import APOSTROPHES as _APOSTROPHES
from responder.lint.notation import GAP as _GAP
from responder.lint.notation import INNER_HYPHENS as _INNER_HYPHENS
from responder.lint.notation import TOKEN as _TOKEN
from responder.lint.notation import PhraseListError
from responder.pipeline.textnorm import SNOWBALL_ALGORITHMS, fold

NORMALISERS = ("snowball", "simplemma")
DEFAULT_NORMALISER = "snowball"
DEFAULT_GAP = 3
_WORD = re.compile(r"\w+|[,;:!?.()\[\]—–^]")
CLAUSE_BREAKS = frozenset(";:.!?()[]—–")
# A `~N` gap skips words, never a clause break; in a language whose phrase list sets
# `[syntax] comma_ends_gap`, not a comma either ("you used, so I can ask the bank" is not
# "you … ask the bank"; German writes a comma before every subordinate clause, so there
# a comma must not end a gap).
_GAP_WORD = r"(?![;:.!?()\[\]—–]#)\S+"


def prepare(text: str) -> str:
    """Casefolded text with `l’eau` → `l' eau` and `e-mail` → `e mail` (accents kept for stemming)."""
    return _INNER_HYPHENS.sub(" ", _APOSTROPHES.sub("' ", text)).casefold()


def split_words(prepared: str) -> list[tuple[int, int, str]]:
    """(start, end, word) of each word; English "don' t" reads as "do" + "not"."""
    out: list[tuple[int, int, str]] = []
    for found in _WORD.finditer(prepared):
        word = found.group(0)
        if (
            word == "t"
            and out
            and out[-1][2].endswith("n")
            and out[-1][2] != "n"
            and prepared[out[-1][1] : found.start()] in ("' ", "'")
        ):
            start, end, previous = out[-1]
            out[-1] = (start, end, previous[:-1])
            word = "not"
        out.append((found.start(), found.end(), word))
    return out


@lru_cache(maxsize=16)
def _stemmer(language: str, normaliser: str) -> object | None:
    if normaliser == "snowball":
        import snowballstemmer

        name = SNOWBALL_ALGORITHMS.get(language)
        return snowballstemmer.stemmer(name) if name else None
    return None


@lru_cache(maxsize=65536)
def word_key(word: str, language: str, normaliser: str = DEFAULT_NORMALISER) -> str:
    """The matching key of one prepared word: its stem or lemma, folded."""
    if not word[0].isalnum() and word[0] != "_":
        return word
    if normaliser == "simplemma":
        import simplemma

        try:
            return fold(simplemma.lemmatize(word, lang=language))
        except ValueError:  # a language simplemma does not know: the word itself
            return fold(word)
    stemmer = _stemmer(language, normaliser)
    stem = stemmer.stemWord(word) if stemmer is not None else word  # type: ignore[attr-defined]
    return fold(stem)


@dataclass(frozen=True)
class Tokens:
    """A sentence as `surface#key` tokens, with where each token sits in the prepared text."""

    prepared: str
    line: str  # the tokens, space-separated
    starts: tuple[int, ...]  # token i's offset in `prepared`
    ends: tuple[int, ...]
    surfaces: tuple[str, ...]
    _offsets: tuple[int, ...]  # token i's offset in `line`

    def index(self, line_offset: int) -> int:
        return bisect.bisect_right(self._offsets, line_offset) - 1

    def at(self, offset: int) -> int:
        """The token at or after an offset in the prepared text."""
        return min(bisect.bisect_left(self.ends, offset + 1), len(self.starts) - 1)

    def span_text(self, first: int, last: int) -> str:
        """The words as written (lower case, accents kept): what a finding shows."""
        return self.prepared[self.starts[first] : self.ends[last]]


def tokenize(sentence: str, language: str, normaliser: str = DEFAULT_NORMALISER) -> Tokens:
    prepared = prepare(sentence)
    starts, ends, surfaces, parts, offsets = [0], [0], ["^"], ["^#^"], [0]
    position = 4
    for start, end, word in split_words(prepared):
        surface = fold(word)
        token = f"{surface}#{word_key(word, language, normaliser)}"
        starts.append(start)
        ends.append(end)
        surfaces.append(surface)
        offsets.append(position)
        parts.append(token)
        position += len(token) + 1
    return Tokens(
        prepared,
        " ".join(parts),
        tuple(starts),
        tuple(ends),
        tuple(surfaces),
        tuple(offsets),
    )


def _word(word: str, language: str, normaliser: str, where: str) -> str:
    """The regex of one notation word (alternatives with `|`, each possibly several words)."""
    alternatives = []
    for alternative in word.split("|"):
        if alternative[:1] in "=!" and len(alternative) > 1:  # the word exactly as written
            exact = [w for _, _, w in split_words(prepare(alternative[1:]))]
            alternatives.append(" ".join(re.escape(fold(w)) + r"#\S+" for w in exact))
            continue
        head = alternative.startswith("*")
        tail = alternative.endswith("*") and len(alternative) > 1
        core = alternative.strip("*")
        words = [w for _, _, w in split_words(prepare(core))]
        if not words:
            raise PhraseListError(f"{where}: empty word in {word!r}")
        pieces = []
        for i, part in enumerate(words):
            if part == "^":
                pieces.append(r"\^#\^")
            elif (head and i == 0) or (tail and i == len(words) - 1):
                before = r"[^\s#]*" if head and i == 0 else ""
                after = r"[^\s#]*" if tail and i == len(words) - 1 else ""
                pieces.append(before + re.escape(fold(part)) + after + r"#\S+")
            else:
                pieces.append(r"[^\s#]+#" + re.escape(word_key(part, language, normaliser)))
        alternatives.append(" ".join(pieces))
    return "(?:" + "|".join(alternatives) + ")"


def cue_regex(cue: str, language: str, normaliser: str, where: str = "cue") -> re.Pattern[str]:
    """One cue in the phrase notation, compiled to match a `Tokens.line`."""
    parts: list[str] = []
    gap: int | None = None
    if cue.count("(") != cue.count(")"):
        raise PhraseListError(f"{where}: {cue!r}: unbalanced parentheses")
    for token in _TOKEN.findall(cue):
        gap_match = _GAP.fullmatch(token)
        if gap_match:
            if not parts or gap is not None:
                raise PhraseListError(f"{where}: {cue!r}: `~` must stand between two words")
            gap = int(gap_match.group(1) or DEFAULT_GAP)
            continue
        if "(" in token and "~" in token:  # read as a word, the gap could never match
            raise PhraseListError(f"{where}: {cue!r}: `~` cannot stand inside parentheses")
        if parts:
            parts.append(rf"(?: {_GAP_WORD}){{0,{gap}}}? " if gap else " ")
        parts.append(_word(token.replace("(", "").replace(")", ""), language, normaliser, where))
        gap = None
    if not parts or gap is not None:
        raise PhraseListError(f"{where}: {cue!r}: a cue must start and end with a word")
    return re.compile(r"(?<!\S)" + "".join(parts) + r"(?!\S)")


@dataclass(frozen=True)
class Span:
    """Where one cue matched: token indices (inclusive) and how much it counts."""

    first: int
    last: int
    weak: bool
    words: str


@dataclass(frozen=True)
class Cue:
    pattern: re.Pattern[str]
    weak: bool
    text: str
    comma_ends_gap: bool = False
    accented: tuple[frozenset[str], ...] = ()  # `!word` groups: one must match with its accents

    def spans(self, tokens: Tokens) -> list[Span]:
        found = []
        for match in self.pattern.finditer(tokens.line):
            first, last = tokens.index(match.start()), tokens.index(match.end() - 1)
            if self.comma_ends_gap and "," in tokens.surfaces[first + 1 : last]:
                continue
            if self.accented:
                written = {
                    tokens.prepared[tokens.starts[i] : tokens.ends[i]]
                    for i in range(first, last + 1)
                }
                if not all(group & written for group in self.accented):
                    continue
            found.append(Span(first, last, self.weak, tokens.span_text(first, last)))
        return found


@dataclass(frozen=True)
class RawCue:
    """A raw regex on the folded sentence, for what words cannot say (a web address)."""

    pattern: re.Pattern[str]
    weak: bool = False

    def spans(self, tokens: Tokens) -> list[Span]:
        folded = fold(tokens.prepared)
        if not tokens.starts or len(folded) != len(tokens.prepared):
            folded = tokens.prepared
        found = []
        for match in self.pattern.finditer(folded):
            first, last = tokens.at(match.start()), tokens.at(max(match.end() - 1, match.start()))
            found.append(Span(first, last, self.weak, match.group(0)))
        return found


def compile_patterns(patterns: list[str], where: str) -> tuple[RawCue, ...]:
    out = []
    for pattern in patterns:
        literal = re.sub(r"\\.", "", pattern)
        if literal != fold(literal):
            raise PhraseListError(
                f"{where}: pattern {pattern!r} must be written folded (lower case)"
            )
        try:
            out.append(RawCue(re.compile(pattern)))
        except re.error as exc:
            raise PhraseListError(f"{where}: bad pattern {pattern!r}: {exc}") from None
    return tuple(out)


def _accented(cue: str, where: str) -> tuple[frozenset[str], ...]:
    """The `!word` groups of a cue: words that must match as written, accents included
    ("le explico", never "se le explicó": folded, both read "explico")."""
    groups = []
    for token in _TOKEN.findall(cue):
        alternatives = token.replace("(", "").replace(")", "").split("|")
        marked = [a[1:] for a in alternatives if a.startswith("!") and len(a) > 1]
        if not marked:
            continue
        if len(marked) != len(alternatives) or any(" " in a for a in marked):
            raise PhraseListError(f"{where}: {cue!r}: `!` marks every alternative, one word each")
        groups.append(frozenset(prepare(a) for a in marked))
    return tuple(groups)


def compile_cues(
    cues: list[str], language: str, normaliser: str, where: str, comma_ends_gap: bool = False
) -> tuple[Cue, ...]:
    out = []
    for cue in cues:
        weak = cue.startswith("?")
        text = cue[1:] if weak else cue
        pattern = cue_regex(text, language, normaliser, where)
        accented = _accented(text, where)
        out.append(Cue(pattern, weak, text, comma_ends_gap and "," not in text, accented))
    return tuple(out)
