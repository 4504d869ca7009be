"""Keyword lists compiled to one stem index per language, shared by every routing rule.

A message is stemmed once; each stem is then one dictionary lookup, whatever the number
of rules, which keeps routing far under a millisecond. Three kinds of term:

- a word or phrase ("refund", "log in", "mot de passe"): matched on stems, so inflections
  follow; a phrase matches its stems in order; a term with accents is also indexed
  under the stems of its unaccented spelling ("atualização" finds "atualizacao");
- a prefix ending in `*` ("factur*"): any word starting with it (the old syntax, kept);
- an exact word starting with `=` ("=ups", "=utilisateur"): that word only, unstemmed, for
  words whose stem is an everyday word's (Snowball cuts "ups" to "up", "utilisateur" to
  the stem of "utiliser");
- in German and Dutch, a word inside a compound: "Rückerstattung" also finds
  "Rückerstattungsbetrag" and "Zahlungsfehler" finds "fehler" (a stem of at least
  COMPOUND_MIN letters at the start or end of a longer word). Such a hit is `partial`: a
  keyword matching the whole word outranks it ("Handynummer" is a phone number, not a
  "Handy").
- in German and Dutch, a separable verb split by the sentence: "zurückerstatten" also
  finds "erstatten Sie mir das Geld zurück", "terugsturen" finds "stuur ik het terug"
  (the particle at most SEPARABLE_WINDOW words after the verb).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from responder.pipeline.routing.stems import stem, words
from responder.pipeline.textnorm import fold

COMPOUND_LANGUAGES = frozenset({"de", "nl"})
COMPOUND_MIN = 4  # letters of a stem found inside a compound word
COMPOUND_REST = 3  # letters the rest of the compound must have
SEPARABLE = {  # verb particles, longest first
    "de": ("zuruck", "nach", "weg", "aus", "auf", "ein", "mit", "vor", "ab", "an", "um", "zu"),
    "nl": ("terug", "door", "over", "vast", "aan", "uit", "mee", "weg", "toe", "af", "op", "in"),
}
SEPARABLE_WINDOW = 6
SEPARABLE_REST = 4  # letters the verb must have without its particle


@dataclass(frozen=True)
class Hit:
    """One term of one rule, found in the subject or the body."""

    owner: int  # index of the rule that wrote the term
    term: str  # as the admin wrote it
    in_subject: bool
    key: str = ""  # the stem (or prefix) matched: "install", "installed" count once
    start: int = 0  # the words it covers, [start, end) in its subject or body
    end: int = 1
    partial: bool = False  # found inside a German or Dutch compound


Found = tuple[int, str, str, bool]  # (rule index, term as written, stem or prefix, partial)
PhraseStart = tuple[tuple[str, ...], int, str, str]  # (stems, rule index, term, key)
Entry = tuple[str, tuple[Found, ...], tuple[PhraseStart, ...]]
CACHE_WORDS = 20_000  # distinct words remembered per language


@dataclass
class _Index:
    single: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    phrases: dict[str, list[tuple[tuple[str, ...], int, str]]] = field(default_factory=dict)
    prefixes: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    prefix_lengths: set[int] = field(default_factory=set)
    whole: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # folded words
    exact: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # "=word" terms
    # stem of a separable verb without its particle -> (particle, rule index, term, key)
    separable: dict[str, list[tuple[str, int, str, str]]] = field(default_factory=dict)
    # word -> (its stem, what it matches by itself, phrases starting with it): words repeat,
    # so each is looked up once
    cache: dict[str, Entry] = field(default_factory=dict)

    def word(self, token: str, language: str) -> Entry:
        entry = self.cache.get(token)
        if entry is None:
            if len(self.cache) >= CACHE_WORDS:
                self.cache.clear()
            token_stem = stem(token, language)
            folded = fold(token)
            found: list[Found] = [
                (o, t, token_stem, False) for o, t in self.single.get(token_stem, ())
            ]
            found += [(o, t, "=" + folded, False) for o, t in self.exact.get(folded, ())]
            for length in self.prefix_lengths:
                if length > len(folded):
                    continue
                found += [
                    (o, t, folded[:length], False)
                    for o, t in self.prefixes.get(folded[:length], ())
                ]
            if language in COMPOUND_LANGUAGES and len(folded) >= COMPOUND_MIN + COMPOUND_REST:
                found += _compound_hits(self, folded, token_stem)
            phrases = tuple(
                (phrase, owner, term, " ".join(phrase))
                for phrase, owner, term in self.phrases.get(token_stem, ())
            )
            entry = self.cache[token] = (token_stem, tuple(found), phrases)
        return entry

    def add(self, owner: int, term: str, language: str) -> None:
        if term.startswith("=") and len(words(term)) == 1:
            word = fold(words(term)[0])
            self.exact.setdefault(word, []).append((owner, term))
            self.whole.setdefault(word, []).append((owner, term))
            return
        if term.endswith("*") and len(words(term)) == 1:
            prefix = fold(term.rstrip("*").strip().casefold())
            if prefix:
                self.prefixes.setdefault(prefix, []).append((owner, term))
                self.prefix_lengths.add(len(prefix))
            return
        # A phrase ending in * ("zwei-faktor*") is matched as the phrase of its stems.
        written = words(term.rstrip("*"))
        if not written:
            return
        if len(written) == 1:
            self.whole.setdefault(fold(written[0]), []).append((owner, term))
            self._separable(owner, term, fold(written[0]), language)
        # Customers often type without accents ("atualizacao", "devolucion"), and the
        # stemmer cuts an unaccented word differently: index the term both ways.
        variants = (written, [fold(word) for word in written])
        for stems in dict.fromkeys(tuple(stem(w, language) for w in v) for v in variants):
            if len(stems) == 1:
                self.single.setdefault(stems[0], []).append((owner, term))
            else:
                self.phrases.setdefault(stems[0], []).append((stems, owner, term))

    def _separable(self, owner: int, term: str, word: str, language: str) -> None:
        for particle in SEPARABLE.get(language, ()):
            if word.startswith(particle) and len(word) - len(particle) >= SEPARABLE_REST:
                rest = stem(word[len(particle) :], language)
                entry = (particle, owner, term, stem(word, language))
                self.separable.setdefault(rest, []).append(entry)
                return


class TermIndex:
    """Every rule's keywords, by language ("any" terms are added to every language)."""

    def __init__(self, languages: Iterable[str]) -> None:
        self.languages = tuple(languages)
        self._indexes: dict[str, _Index] = {lang: _Index() for lang in self.languages}

    def add(self, owner: int, table: Mapping[str, list[str]]) -> None:
        for key, terms in table.items():
            targets = self.languages if key == "any" else (key,)
            for language in targets:
                index = self._indexes.setdefault(language, _Index())
                for term in terms:
                    index.add(owner, term, language)
                index.cache.clear()

    def find(self, text: str, language: str, in_subject: bool) -> list[Hit]:
        index = self._indexes.get(language)
        if index is None:
            return []
        cache, lookup = index.cache, index.word
        tokens = words(text)
        entries = [cache.get(token) or lookup(token, language) for token in tokens]
        hits: list[Hit] = []
        separable = index.separable
        for position, (token_stem, found, phrases) in enumerate(entries):
            if separable and token_stem in separable:
                hits += _split_verb(separable[token_stem], tokens, position, in_subject)
            for owner, term, key, partial in found:
                hits.append(Hit(owner, term, in_subject, key, position, position + 1, partial))
            for phrase, owner, term, key in phrases:
                end = position + len(phrase)
                if tuple(entry[0] for entry in entries[position:end]) == phrase:
                    hits.append(Hit(owner, term, in_subject, key, position, end))
        return hits


def _split_verb(
    verbs: list[tuple[str, int, str, str]], tokens: list[str], position: int, in_subject: bool
) -> list[Hit]:
    """The verb at `position` with its particle a few words later ("stuur ... terug")."""
    following = [fold(t) for t in tokens[position + 1 : position + 1 + SEPARABLE_WINDOW]]
    return [
        Hit(owner, term, in_subject, key, position, position + 1)
        for particle, owner, term, key in verbs
        if particle in following
    ]


def _compound_hits(index: _Index, folded: str, token_stem: str) -> list[Found]:
    """A keyword as the head (end, inflected: compare stems) or the first part (start, not
    inflected: compare whole words) of a longer German or Dutch word.

    "Zahlungsfehlern" ends with the stem of "Fehler"; "Rückerstattungsantrag" starts with
    the word "Rückerstattung"; "zurücksetzen" does not start with "zurücksenden".
    """
    hits: list[Found] = []
    for cut in range(COMPOUND_REST, len(token_stem) - COMPOUND_MIN + 1):
        head = token_stem[cut:]
        for owner, term in index.single.get(head, ()):
            hits.append((owner, term, head, True))
    for cut in range(COMPOUND_REST, len(folded) - COMPOUND_MIN + 1):
        for owner, term in index.exact.get(folded[cut:], ()):
            hits.append((owner, term, "=" + folded[cut:], True))
    for cut in range(COMPOUND_MIN + 1, len(folded) - COMPOUND_REST + 1):
        first = folded[:cut]
        for owner, term in index.whole.get(first, ()):
            hits.append((owner, term, first, True))
    return hits
