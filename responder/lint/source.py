"""Template source as the linter reads it: Jinja and HTML markup blanked out, lines kept.

Every transformation here keeps the text the same length and every newline in
place, so an offset in the cleaned text is an offset in the file, and a line
number found in one is the line number in the other.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser

from responder.lint.cues import prepare
from responder.lint.phrases import PhraseBook, lint_fold, split_sentences
from responder.lint.reader import Deflection

VARIABLE_STAND_IN = "_"
MAX_SHOWN = 160
_JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.S)
_STRING = re.compile(r"""(["'])((?:\\.|(?!\1)[^\\])*)\1""", re.S)
_TAG = re.compile(r"<!--.*?-->|<(script|style)\b.*?</\1\s*>|<[^>]*>", re.S | re.I)
_BLOCK_TAG = re.compile(
    r"</?(?:p|div|br|li|ul|ol|tr|td|th|table|h[1-6]|blockquote|hr|section|header|footer)\b", re.I
)
_HREF = re.compile(r"""\b(?:href|src)\s*=\s*["']?([^"'\s>]+)""", re.I)
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-f]+|\w+);", re.I)


@dataclass(frozen=True)
class Finding:
    """A deflecting sentence at a line of a file (before it becomes a Problem)."""

    line: int
    rule: str
    text: str
    why: Deflection


def blank(text: str) -> str:
    return "".join(c if c == "\n" else " " for c in text)


def shown(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def strip_jinja(source: str) -> tuple[str, list[tuple[int, str]]]:
    """The literal text of a template, and the string literals inside its tags (offset, text).

    A `{{ … }}` becomes one stand-in word, so "our {{ queue_name }} team" still
    reads as three words; tags and comments become blanks.
    """
    out: list[str] = []
    literals: list[tuple[int, str]] = []
    position = 0
    for construct in _JINJA.finditer(source):
        out.append(source[position : construct.start()])
        text = construct.group(0)
        if text.startswith("{{"):
            out.append(VARIABLE_STAND_IN + blank(text[1:]))
        else:
            out.append(blank(text))
        if not text.startswith("{#"):
            literals += [
                (construct.start() + s.start(2), s.group(2)) for s in _STRING.finditer(text)
            ]
        position = construct.end()
    out.append(source[position:])
    return "".join(out), literals


def strip_html(text: str) -> str:
    """Tags blanked (block tags leave a sentence break `¶`), link targets kept in place."""

    def tag(match: re.Match[str]) -> str:
        chars = list(blank(match.group(0)))
        if _BLOCK_TAG.match(match.group(0)):
            chars[0] = "¶"
        for href in _HREF.finditer(match.group(0)):
            chars[href.start(1) : href.end(1)] = list(href.group(1))
        return "".join(chars)

    def entity(match: re.Match[str]) -> str:
        value = html.unescape(match.group(0))
        return value[: len(match.group(0))].ljust(len(match.group(0)))

    return _ENTITY.sub(entity, _TAG.sub(tag, text))


def clean_source(source: str, is_html: bool) -> tuple[str, list[tuple[int, str]]]:
    text, literals = strip_jinja(source)
    return (strip_html(text) if is_html else text), literals


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def scan(
    text: str, book: PhraseBook, first_line: int = 1, original: str | None = None
) -> Iterator[Finding]:
    """Deflections in `text`, sentence by sentence; `original` (same length) is what is shown."""
    shown_from = text if original is None else original
    for offset, sentence in split_sentences(text):
        for found in book.read(sentence):
            within = prepare(sentence).count("\n", 0, found.start)
            line = first_line + text.count("\n", 0, offset) + within
            yield Finding(
                line, found.rule, shown(shown_from[offset : offset + len(sentence)]), found
            )


def scan_source(source: str, book: PhraseBook, is_html: bool) -> list[Finding]:
    """Deflections written in the template file itself, including string literals in tags."""
    text, literals = clean_source(source, is_html)
    findings = list(scan(text, book, original=strip_html(source) if is_html else source))
    for offset, literal in literals:
        findings += scan(literal, book, first_line=line_of(source, offset))
    return findings


class _Reader(HTMLParser):
    """Rendered HTML to text: blocks become sentence breaks, link targets stay readable."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.hidden += 1
        if _BLOCK_TAG.match(f"<{tag}"):
            self.parts.append("¶")
        self.parts += [f" {value} " for name, value in attrs if name in ("href", "src") and value]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.hidden = max(0, self.hidden - 1)
        if _BLOCK_TAG.match(f"</{tag}"):
            self.parts.append("¶")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_text(rendered: str) -> str:
    reader = _Reader()
    reader.feed(rendered)
    reader.close()
    return "".join(reader.parts)


def locate(phrase: str, sources: list[tuple[str, str]]) -> tuple[str, int] | None:
    """Where a rendered phrase (folded) is written: (name, line) in the first source holding it.

    `sources` are (name, folded cleaned text) pairs, the rendered template first.
    """
    words = phrase.split()
    if not words:
        return None
    pattern = re.compile(r"\s+".join(re.escape(w) for w in words))
    for name, folded in sources:
        found = pattern.search(folded)
        if found:
            return name, line_of(folded, found.start())
    return None


def closest_line(sentence: str, folded_source: str) -> int:
    """The source line sharing most words with a rendered sentence (a last resort)."""
    wanted = set(lint_fold(sentence).split())
    best, best_line = 0, 1
    for number, line in enumerate(folded_source.split("\n"), start=1):
        score = len(wanted & set(line.split()))
        if score > best:
            best, best_line = score, number
    return best_line
