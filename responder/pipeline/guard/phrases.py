"""The phrase book: config/machine_phrases.toml compiled into folded, whole-word patterns.

Admins extend the lists without touching code; folding (responder.pipeline.textnorm.fold)
makes "Réponse automatique", "reponse automatique" and "RÉPONSE AUTOMATIQUE" one phrase.
Japanese and other scripts written without spaces have no word boundaries to anchor on,
so their phrases match anywhere.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from responder.errors import ConfigError
from responder.pipeline.textnorm import fold

DEFAULT_PATH = Path(__file__).resolve().parents[3] / "config" / "machine_phrases.toml"
KEY = "guard.phrases"
_NO_SPACES_SCRIPT = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uff00-\uffef]")
_SEPARATORS = re.compile(r"[._+\-=]+")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class _Phrase:
    words: frozenset[str]  # every whole word it needs: a cheap test before the regex
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class Phrases:
    """One compiled list; `find` returns the first phrase found, folded, or None.

    One big alternation regex costs about a millisecond per list on a 3 KB body (the engine
    tries every phrase at every position). Instead each phrase first checks that all its
    words occur in the text (a set test) and only then runs its own small regex.
    """

    phrases: tuple[_Phrase, ...]

    def find(self, folded_text: str, words: frozenset[str] | None = None) -> str | None:
        if not self.phrases or not folded_text:
            return None
        if words is None:
            words = text_words(folded_text)
        for phrase in self.phrases:
            if phrase.words <= words:
                found = phrase.pattern.search(folded_text)
                if found:
                    return found.group(0)
        return None


def text_words(folded_text: str) -> frozenset[str]:
    return frozenset(_WORD.findall(folded_text))


@dataclass(frozen=True)
class HeaderNames:
    """Header names (lower case) matched exactly, or by prefix where the file says `name*`."""

    exact: frozenset[str]
    prefixes: tuple[str, ...]


def header_names(names: list[str]) -> HeaderNames:
    cleaned = [n.strip().lower() for n in names if n.strip()]
    return HeaderNames(
        frozenset(n for n in cleaned if not n.endswith("*")),
        tuple(n.rstrip("*") for n in cleaned if n.endswith("*")),
    )


@dataclass(frozen=True)
class PhraseBook:
    bounce_subject: Phrases
    bounce_body: Phrases
    bounce_opening: Phrases
    autoreply_subject: Phrases
    autoreply_body: Phrases
    autoreply_opening: Phrases
    complaint_subject: Phrases
    complaint_body: Phrases
    display_names: frozenset[str]
    local_parts: frozenset[str]
    sender_tokens: Phrases
    mailers: tuple[str, ...]
    robot_headers: HeaderNames = HeaderNames(frozenset(), ())


def compile_phrases(terms: list[str]) -> Phrases:
    """Longest first, so the reported match is the most specific phrase."""
    compiled = []
    for term in sorted({fold(t.strip()) for t in terms if t.strip()}, key=len, reverse=True):
        prefix = term.endswith("*")
        words = term.rstrip("*").split()
        body = r"\s+".join(re.escape(word) for word in words)
        if _NO_SPACES_SCRIPT.search(term):
            compiled.append(_Phrase(frozenset(), re.compile(body)))
            continue
        pattern = re.compile(r"(?<!\w)" + body + (r"\w*" if prefix else "") + r"(?!\w)")
        needed = words[:-1] if prefix else words
        compiled.append(_Phrase(frozenset(w for w in needed if _WORD.fullmatch(w)), pattern))
    return Phrases(tuple(compiled))


def sender_words(text: str) -> str:
    """A local part or display name as words: `E500_SMTP_Mail_Service` -> `e500 smtp mail service`."""
    return " ".join(_SEPARATORS.sub(" ", fold(text)).split())


def build_phrasebook(data: dict[str, Any], where: str = KEY) -> PhraseBook:
    def strings(section: str, key: str) -> list[str]:
        value = data.get(section, {}).get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: {section}.{key}", "must be a list of strings")
        return value

    senders = data.get("senders", {})
    if not isinstance(senders, dict):
        raise ConfigError(f"{where}: senders", "must be a table")
    return PhraseBook(
        bounce_subject=compile_phrases(strings("bounce", "subject")),
        bounce_body=compile_phrases(strings("bounce", "body")),
        bounce_opening=compile_phrases(strings("bounce", "opening")),
        autoreply_subject=compile_phrases(strings("autoreply", "subject")),
        autoreply_body=compile_phrases(strings("autoreply", "body")),
        autoreply_opening=compile_phrases(strings("autoreply", "opening")),
        complaint_subject=compile_phrases(strings("complaint", "subject")),
        complaint_body=compile_phrases(strings("complaint", "body")),
        display_names=frozenset(sender_words(n) for n in strings("senders", "display_names")),
        local_parts=frozenset(fold(n.strip()) for n in strings("senders", "local_parts")),
        sender_tokens=compile_phrases([sender_words(t) for t in strings("senders", "tokens")]),
        mailers=tuple(fold(m) for m in strings("senders", "mailers") if m.strip()),
        robot_headers=header_names(strings("headers", "robot")),
    )


@functools.lru_cache(maxsize=8)
def load_phrasebook(path: str | Path = DEFAULT_PATH) -> PhraseBook:
    """Read and compile the phrase file once per process; a mistake is a one-line config error."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(KEY, f"machine phrases file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), f"not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(KEY, f"cannot read {path}: {exc.strerror}") from None
    return build_phrasebook(data, str(path))
