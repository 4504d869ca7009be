"""Words to stems, per language: admins write "refund" once and "refunded", "refunds" follow.

Snowball stemmers (PyStemmer, C) rather than simplemma lemmas: on the routing tuning set they
route as well and cost about a microsecond per new word (see README, "Routing"); words
repeat, so each (language, word) is stemmed once and cached. The text is casefolded before
stemming (the algorithms know their accents: French "-é", German "ä") and the stem is then
stripped of diacritics, so "contrasena" and "contraseña" meet.
"""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

from responder.pipeline.textnorm import SNOWBALL_ALGORITHMS, fold

# The six languages the shipped rules are written in; others are only folded.
_ALGORITHMS = {code: SNOWBALL_ALGORITHMS[code] for code in ("en", "es", "nl", "de", "fr", "pt")}
# Letters and digits; an apostrophe splits ("l'appli" → "l", "appli"), a hyphen too
# ("e-mail" → "e", "mail": keywords are split the same way, so the phrase still matches).
_WORD = re.compile(r"[^\W_]+")
CACHE_WORDS = 50_000
SHORT = 3


@lru_cache(maxsize=len(_ALGORITHMS) + 1)
def _stemmer(language: str) -> Stemmer.Stemmer | None:
    algorithm = _ALGORITHMS.get(language)
    return Stemmer.Stemmer(algorithm) if algorithm else None


@lru_cache(maxsize=CACHE_WORDS)
def stem(word: str, language: str) -> str:
    """One casefolded word to its folded stem; unknown languages only fold.

    Words of SHORT letters or fewer are only folded: a stemmer gains nothing on them and
    loses a lot ("não" → "nã" → "na": "não entregue" would match "na entrega").
    """
    stemmer = _stemmer(language)
    if stemmer is None or len(word) <= SHORT:
        return fold(word)
    return fold(stemmer.stemWord(word))


def words(text: str) -> list[str]:
    """Casefolded words, in order (a keyword phrase must meet them in the same order)."""
    return _WORD.findall(text.casefold())


def stems(text: str, language: str) -> list[str]:
    return [stem(word, language) for word in words(text)]


def languages() -> tuple[str, ...]:
    return tuple(_ALGORITHMS)
