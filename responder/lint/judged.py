"""The cue reader with the model's second opinion: a veto on rule findings, an extra catch.

`judged(book, mode)` returns a PhraseBook whose `read` is the rules' findings,
adjusted by the shipped model (responder/lint/model.py) according to `mode`:

- `veto`: a rule finding on a sentence the model is confident is good (p below
  the model's `veto_below`) is dropped: plain `lint`/`check` do not show it, and
  `lint --explain` lists it with the model's reasons. A model may name kinds of
  finding (its `keep`: a move that deflects alone, a refusal, a topic, a sentence of
  N words or more) that a veto only demotes to a warning. The shipped one keeps none:
  on the 19 blocks of fresh writers (bench/lint_model_report.txt, fifth pass)
  dropping every vetoed finding was the only policy on target in every language;
  keeping refusals, policy findings and lone moves, as the fourth pass did, showed
  users one good sentence in twelve. The known cost: a deflecting clause inside a
  long sentence that otherwise owns the problem can be read as good;
  the model never vetoes a sentence of fewer than PROSE_WORDS words: its verdict there
  rests on two or three words and its prior (on the fresh blocks no such finding occurred,
  so the guard costs nothing there; it kept "Your complaint is unfounded." in sight);
- `catch`: a sentence the rules pass but whose words point to a deflection (the
  model's evidence, its score without the intercept and language bias, above
  `catch_above`; a sentence of at least PROSE_WORDS words) gets a `deflection/<topic>` warning (the topic the reader saw, or
  `model`), never an error: a statistical guess does not block a template alone;
- `both`, or `off` (the rules alone).

Every changed verdict carries the model's probability and strongest features, so a
finding the model adds or removes is still explained. Which mode is the default
is what bench/lint_model_report.txt supports.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from responder.lint.model import PROSE_WORDS, Model, Verdict, load_model, prose_words
from responder.lint.phrases import PhraseBook
from responder.lint.reader import Deflection
from responder.pipeline.textnorm import fold

MODES = ("off", "veto", "catch", "both")
DEFAULT_MODE = "both"
# What the fourth pass's veto never dropped (only demoted): a move that deflects alone ("it
# is out of our hands"), an explicit refusal, a finding on the policy topic (see `kinds`;
# bench/lint_model.py compares it as the policy "drop-policy").
KEPT = frozenset({"alone", "move:refusal", "topic:policy"})


LONG_SENTENCES = (20, 25, 30)  # "words>=N" kinds: where a bag of words is diluted


def kinds(finding: Deflection, sentence: str = "") -> frozenset[str]:
    """What kind of finding the rules made, and in how long a sentence, in the terms of a
    model's `keep` (bench/lint_model.py uses it too)."""
    move = "alone" if not finding.topic_words else f"move:{finding.move}"
    words = prose_words(sentence)
    longer = {f"words>={n}" for n in LONG_SENTENCES if words >= n}
    return frozenset({move, f"topic:{finding.topic}", *longer})


@dataclass(frozen=True)
class ModelDeflection(Deflection):
    """A deflection the rules missed and the model caught, or a rule finding it vetoed."""

    verdict: Verdict | None = None
    vetoed: bool = False

    def why(self) -> str:
        model = self.verdict.why() if self.verdict else "model"
        if self.vetoed:
            return f"{super().why()}; a warning only, vetoed by the {model}"
        if self.topic_words:
            return f"topic {self.topic} ({', '.join(self.topic_words)}) + {model}"
        return model


@dataclass(frozen=True)
class Veto:
    """A rule finding the model vetoed: the sentence, the finding, the model's reasons."""

    language: str
    sentence: str
    finding: Deflection
    verdict: Verdict
    dropped: bool = True  # False: one of the KEPT kinds, demoted to a warning

    def __str__(self) -> str:
        fate = "dropped" if self.dropped else "kept as a warning"
        return (
            f"{self.language}: vetoed {self.finding.rule}, {fate} "
            f"({self.finding.why()}): "
            f"{' '.join(self.sentence.split())}\n    {self.verdict.why()}"
        )

    def as_json(self) -> dict[str, object]:
        return {
            "language": self.language,
            "vetoed": self.finding.rule,
            "dropped": self.dropped,
            "rules": self.finding.why(),
            "model": self.verdict.why(),
            "text": " ".join(self.sentence.split()),
        }


@dataclass(frozen=True)
class JudgedBook(PhraseBook):
    model: Model | None = None
    mode: str = "off"
    vetoes: dict[tuple[str, str], Veto] = field(default_factory=dict, compare=False)

    def read(self, sentence: str) -> list[Deflection]:
        found = self.reader.deflections(sentence)
        if self.model is None or self.mode == "off":
            return found
        if (found and self.mode == "catch") or (not found and self.mode == "veto"):
            return found
        if found and prose_words(sentence) < PROSE_WORDS:
            return found  # "Your complaint is unfounded.": too few words to outweigh a rule
        verdict = self.model.verdict(self, sentence, found)
        if found:
            if verdict.probability >= self.model.veto_below:
                return found
            kept = [f for f in found if kinds(f, sentence) & self.model.keep]
            for finding in found:
                veto = Veto(self.language, sentence, finding, verdict, finding not in kept)
                self.vetoes.setdefault((finding.rule, sentence), veto)
            return [_demoted(finding, verdict) for finding in kept]
        # a catch is decided on what the words say, not on the prior ("re:", "Regards,")
        if verdict.evidence <= self.model.catch_above or prose_words(sentence) < PROSE_WORDS:
            return []
        return [self._caught(sentence, verdict)]

    def _caught(self, sentence: str, verdict: Verdict) -> ModelDeflection:
        assert self.model is not None  # only a judged book catches
        topic, topic_words = self.model.topic(self, sentence)
        hints = [g.hint for g in self.reader.topics if g.name == topic and g.hint]
        hints += [g.hint for g in self.reader.alone if g.hint]
        words = tuple(sentence.split()[:3])
        return ModelDeflection(
            topic=topic,
            move="model",
            topic_words=topic_words,
            move_words=tuple(f.rsplit(":", 1)[-1] for f, _ in verdict.strongest),
            severity="warning",
            hint=hints[0] if hints else "",
            anchor=fold(" ".join(words)).casefold(),
            start=0,
            verdict=verdict,
        )


def _demoted(finding: Deflection, verdict: Verdict) -> ModelDeflection:
    kept = {f.name: getattr(finding, f.name) for f in fields(Deflection)}
    return ModelDeflection(**(kept | {"severity": "warning"}), verdict=verdict, vetoed=True)


def judged(book: PhraseBook, mode: str = DEFAULT_MODE, model: Model | None = None) -> PhraseBook:
    """The book with the model's second opinion; the book itself when off, when no model
    ships, or for a language the model was not trained on (an admin's new language)."""
    model = model if model is not None else load_model()
    if mode == "off" or model is None or not model.knows(book.language):
        return book
    return JudgedBook(book.language, book.path, book.reader, book.required, model, mode)
