"""Text folding shared by routing and priority: the same word must match however it is cased or accented.

Customers write "contrasena" for "contraseña" and "FACTURACION" for "facturación";
folding both the keyword and the text makes one list serve all spellings.
"""

import re
import unicodedata
from collections.abc import Iterable

# ISO 639-1 code -> Snowball algorithm name, shared by routing (stems) and the linter (cues).
SNOWBALL_ALGORITHMS = {
    "en": "english",
    "es": "spanish",
    "nl": "dutch",
    "de": "german",
    "fr": "french",
    "pt": "portuguese",
    "it": "italian",
    "sv": "swedish",
    "da": "danish",
    "no": "norwegian",
    "fi": "finnish",
    "ru": "russian",
}

_COMBINING = re.compile(r"[\u0300-\u036f]")


def fold(text: str) -> str:
    """Casefold and strip diacritics, keeping the string's length close to the original."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return unicodedata.normalize("NFC", _COMBINING.sub("", decomposed))


def keyword_pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    """One regex for a list of keywords: whole words, `*` suffix = any word ending, spaces = any gap."""
    pieces = []
    for term in terms:
        term = fold(term.strip())
        if not term:
            continue
        prefix = term.endswith("*")
        words = term.rstrip("*").split()
        body = r"\s+".join(re.escape(word) for word in words)
        pieces.append(body + (r"\w*" if prefix else ""))
    if not pieces:
        return None
    # Longest first so that "charged twice" wins over "charged" in the reported match.
    pieces.sort(key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(pieces) + r")(?!\w)")
