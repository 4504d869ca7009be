"""Deflection as two signals: what a sentence is about (a topic) and what it does with it (a move).

"Our policy does not allow refunds" has a topic (policy) and a move (refusal):
it deflects. "We changed our policy for you" has the topic and no move: it does
not. "Our terms promise you a refund, and I have already sent it" has an
ownership move (we did it), which clears the whole sentence. Some moves deflect
on their own, whatever the topic ("it is out of our hands", "we are sorry if you
feel…", "you should have…"). A move such as "visit our website" is lifted when a
negation of necessity ("no need to", "you don't have to") stands before it in the
same clause.

The cue lists are data, one file per language (config/lint/<lang>.toml):
`[topic.<name>]`, `[move.<name>]`, `[alone.<name>]` (a move that deflects alone,
reported under its `topic`), `[ownership]` and `[negation]`. A finding is an
`error` when its cues are strong, a `warning` when one of them is weak (`?cue`);
`[severity] error_at` in any.toml moves that line.
"""

from __future__ import annotations

from dataclasses import dataclass

from responder.lint.cues import (
    CLAUSE_BREAKS,
    Cue,
    RawCue,
    Span,
    Tokens,
    tokenize,
)
from responder.pipeline.textnorm import fold

NEGATION_REACH = 8  # tokens between a "no need to" and the move it lifts
OWNERSHIP_NEGATION_REACH = 5  # a "not" this close before an ownership cue, same clause, undoes it


@dataclass(frozen=True)
class Group:
    """A named list of cues (a topic, a move, an ownership list…)."""

    name: str
    cues: tuple[Cue | RawCue, ...]
    about: str = ""
    hint: str = ""
    topic: str = ""  # for a move that deflects alone: the topic it is reported under
    negatable: bool = False  # lifted by a negation of necessity before it

    def spans(self, tokens: Tokens) -> list[Span]:
        return [span for cue in self.cues for span in cue.spans(tokens)]


@dataclass(frozen=True)
class Deflection:
    """One deflecting sentence, and why: the topic, the move and the words that gave each away."""

    topic: str
    move: str
    topic_words: tuple[str, ...]
    move_words: tuple[str, ...]
    severity: str  # "error" or "warning"
    hint: str
    anchor: str  # folded words of the first cue, to find the sentence in its source
    start: int  # offset of the first cue in the (prepared) sentence

    @property
    def rule(self) -> str:
        return f"deflection/{self.topic}"

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.topic_words, *self.move_words)))

    def why(self) -> str:
        topic = f"topic {self.topic} ({', '.join(self.topic_words)})" if self.topic_words else ""
        move = f"move {self.move} ({', '.join(self.move_words)})"
        return " + ".join(p for p in (topic, move) if p)


@dataclass(frozen=True)
class Reader:
    language: str
    normaliser: str
    topics: tuple[Group, ...]
    moves: tuple[Group, ...]
    alone: tuple[Group, ...]
    ownership: Group
    necessity: Group  # "no need to", "you don't have to": lifts a negatable move after it
    negators: Group  # "not", "never": undoes an ownership move they stand inside
    breaks: Group  # "but": ends the reach of a negation
    contrast: Group  # "but", "however": ownership before it does not clear a move after it
    clause: Group  # "until", "bis": opens a clause, so a "not" after it is not the owner's
    error_at: float
    # "not the courier's fault", "nicht Ihr Problem": a party named as *not* to blame. Its
    # "not" undoes no ownership, and it clears the sentence as ownership does.
    cleared: Group = Group("negation.cleared", ())
    comma_ends_clause: bool = False  # a comma ends a cue's gap and an ownership's clause
    negation_after: int = 0  # how far after an ownership cue a "not" still undoes it

    def deflections(self, sentence: str) -> list[Deflection]:
        tokens = tokenize(sentence, self.language, self.normaliser)
        owners = self._owners(tokens)
        if not owners:  # the common case: nothing can clear a finding
            return self._findings(tokens, [])
        lifted = self._lifts(tokens)
        moves = [s for g in self.moves for s in self._live(g, tokens, lifted)]
        alone = [s for g in self.alone for s in self._live(g, tokens, lifted)]
        # "we made the choice", "as we already explained": words of a move, not ownership
        # (but "our responsibility" holds the move "responsibility" and stays ownership)
        owners = [
            o
            for o in owners
            if not any(_inside(o, m) for m in moves)
            and not any(_overlap(o, m) and not _inside(m, o) for m in alone)
        ]
        return self._findings(tokens, owners)

    def _findings(self, tokens: Tokens, owners: list[Span]) -> list[Deflection]:
        lifted = self._lifts(tokens)
        contrasts = [s.first for s in self.contrast.spans(tokens)]
        found: dict[str, Deflection] = {}

        def cleared(move_spans: list[Span]) -> bool:
            # ownership clears the sentence, unless a "but" after it turns to the deflection:
            # "I've passed it on, but whether anything changes is up to the directors"
            start = min(s.first for s in move_spans)
            return any(not any(o.last < c < start for c in contrasts) for o in owners)

        for group in self.alone:
            spans = self._live(group, tokens, lifted)
            if spans and not cleared(spans):
                self._keep(found, self._make(group.topic, group, [], spans, tokens))
        moves = [(g, s) for g in self.moves if (s := self._live(g, tokens, lifted))]
        if moves:
            for topic in self.topics:
                spans = topic.spans(tokens)
                if spans:
                    move, move_spans = max(moves, key=lambda m: _score(m[1]))
                    if not cleared(move_spans):
                        self._keep(found, self._make(topic.name, move, spans, move_spans, tokens))
        return list(found.values())

    def _owners(self, tokens: Tokens) -> list[Span]:
        """Ownership cues that no negation undoes ("we will not refund" is no ownership)."""
        exempt = self.cleared.spans(tokens)
        # the "not" of "you don't have to" or "no need to" is no owner's either
        lifts = exempt + self._lifts(tokens)
        negated = {
            i
            for span in self.negators.spans(tokens)
            if not any(_inside(span, c) for c in lifts)
            for i in range(span.first, span.last + 1)
        }
        breaks = self._breaks(tokens)
        # a comma or a word opening a clause ("until", "bis") ends how far a later "not" reaches
        literal = frozenset(i for i, w in enumerate(tokens.surfaces) if w == ",")
        commas = literal | {s.first for s in self.clause.spans(tokens)}
        if self.comma_ends_clause:
            breaks |= commas
        return exempt + [  # "we will not refund", "nothing more we can do for you": not ownership
            span
            for span in self.ownership.spans(tokens)
            if not negated.intersection(_scope(span, breaks, self.negation_after, commas, literal))
        ]

    def _breaks(self, tokens: Tokens) -> set[int]:
        """Tokens that end a clause: punctuation and the `breaks` words ("but")."""
        return {s.first for s in self.breaks.spans(tokens)} | {
            i for i, w in enumerate(tokens.surfaces) if w in CLAUSE_BREAKS
        }

    def _lifts(self, tokens: Tokens) -> list[Span]:
        return self.necessity.spans(tokens)

    def _live(self, group: Group, tokens: Tokens, lifted: list[Span]) -> list[Span]:
        # "no need to" is not itself a refusal: a move overlapping it does not count
        # ("Sie müssen … nicht" holds the redirect "Sie müssen")
        spans = [s for s in group.spans(tokens) if not any(_overlap(n, s) for n in lifted)]
        if not group.negatable:
            return spans
        breaks = self._breaks(tokens)
        return [s for s in spans if not any(_reaches(n, s, breaks) for n in lifted)]

    def _make(
        self,
        topic: str,
        move: Group,
        topic_spans: list[Span],
        move_spans: list[Span],
        tokens: Tokens,
    ) -> Deflection:
        # a finding is as strong as its weakest signal; each signal as strong as its best cue
        score = min(_score(move_spans), _score(topic_spans) if topic_spans else 1.0)
        first = min([*topic_spans, *move_spans], key=lambda s: s.first)
        topic_hint = next((g.hint for g in self.topics if g.name == topic and g.hint), "")
        # a move that deflects alone has its own hint; a topic's hint is the language's fallback
        hint = (move.hint or topic_hint) if move.topic else (topic_hint or move.hint)
        return Deflection(
            topic=topic,
            move=move.name,
            topic_words=tuple(dict.fromkeys(s.words for s in topic_spans)),
            move_words=tuple(dict.fromkeys(s.words for s in move_spans)),
            severity="error" if score >= self.error_at else "warning",
            hint=hint,
            anchor=fold(first.words),
            start=tokens.starts[first.first],
        )

    @staticmethod
    def _keep(found: dict[str, Deflection], new: Deflection) -> None:
        old = found.get(new.topic)
        if old is None or (old.severity == "warning" and new.severity == "error"):
            found[new.topic] = new


def _score(spans: list[Span]) -> float:
    return 1.0 if any(not s.weak for s in spans) else 0.5


def _overlap(a: Span, b: Span) -> bool:
    return a.first <= b.last and b.first <= a.last


def _inside(inner: Span, outer: Span) -> bool:
    return outer.first <= inner.first and inner.last <= outer.last


def _scope(
    span: Span,
    breaks: set[int],
    after: int = 0,
    commas: frozenset[int] = frozenset(),
    before: frozenset[int] = frozenset(),
) -> range:
    """The tokens whose negation undoes an ownership cue: inside it, or shortly before in its
    clause, or (where the language puts "not" after the verb) shortly after it."""
    first, last = span.first, span.last
    # a "not" before a comma is the previous clause's: "kein Geld zurück, ich habe … erstattet"
    while first > max(span.first - OWNERSHIP_NEGATION_REACH, 0) and not {first - 1} & (
        breaks | before
    ):
        first -= 1
    while last < span.last + after and last + 1 not in breaks and last + 1 not in commas:
        last += 1
    return range(first, last + 1)


def _reaches(negation: Span, move: Span, breaks: set[int]) -> bool:
    """A negation of necessity lifts a move that follows it closely in the same clause."""
    if negation.first >= move.last or move.last - negation.last > NEGATION_REACH:
        return False
    return not any(negation.last < b < move.last for b in breaks)
