"""Language: which of the configured languages the customer wrote in, offline.

lingua restricted to the configured languages is accurate on the short texts
customers write (a subject and two lines) and costs well under a millisecond
per message once its models are loaded. Loading takes about a second, so one
detector per language set is built lazily and kept for the process's life.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

MIN_CONFIDENCE = 0.5
MIN_LETTERS = 3
MAX_CHARS = 800  # enough for a confident guess; more only costs time


@lru_cache(maxsize=4)
def _detector(languages: tuple[str, ...]) -> Any:
    """Build (once) a detector for exactly these ISO 639-1 codes."""
    chosen = [
        Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in languages
    ]
    if len(chosen) < 2:
        return None
    return LanguageDetectorBuilder.from_languages(*chosen).with_preloaded_language_models().build()


def supported(code: str) -> bool:
    return hasattr(IsoCode639_1, code.upper())


def detect(text: str, languages: tuple[str, ...], default: str) -> str:
    """The most likely configured language of `text`, or `default` when the text says too little."""
    sample = text[:MAX_CHARS]
    if len("".join(filter(str.isalpha, sample))) < MIN_LETTERS:
        return default
    detector = _detector(tuple(sorted(languages)))
    if detector is None:
        return default
    confidences = detector.compute_language_confidence_values(sample)
    if not confidences or confidences[0].value < MIN_CONFIDENCE:
        return default
    return str(confidences[0].language.iso_code_639_1.name).lower()
