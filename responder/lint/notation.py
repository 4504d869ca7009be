"""What the cue notation and every cue list share: the error, and how text is cut into words."""

from __future__ import annotations

import re

from responder.pipeline.textnorm import fold

APOSTROPHES = re.compile(r"['’ʼ`´]")
INNER_HYPHENS = re.compile(r"(?<=\w)[-‐‑](?=\w)")
GAP = re.compile(r"~(\d*)")
TOKEN = re.compile(r"(?:\([^()]*\)|[^\s()])+")  # parentheses only protect spaces


class PhraseListError(ValueError):
    """A cue list is missing or malformed; the message names the file."""


def lint_fold(text: str) -> str:
    """Fold for matching: casefold, no accents, `l’eau` → `l' eau`, `e-mail` → `e mail`."""
    text = APOSTROPHES.sub("' ", text)
    return fold(INNER_HYPHENS.sub(" ", text))
