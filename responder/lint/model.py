"""A small logistic model that second-guesses the cue reader on one sentence.

The cue reader (responder/lint/reader.py) decides from hand-written cue lists; on
sentences written blind by other people it both misses deflections worded in ways
no list foresaw and flags good sentences that name a topic. This model reads the
same sentence as a bag of features — the reader's own signals (which topics,
moves, ownership and negation cues it found, and what it concluded) plus word
stems and stem bigrams — and gives the probability that the sentence deflects.

Its weights are trained offline (`python bench/lint_model.py --train`) and shipped
as data (config/lint/model.json), so linting stays deterministic and needs no
training; scoring is a sum of weights, pure Python. Whether and how the linter uses
it (a veto on a rule finding, an extra catch) is decided by what the
cross-validation in bench/lint_model_report.txt supports, not here.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from responder.config.defaults import LINT_PHRASES
from responder.lint.cues import Tokens, tokenize
from responder.lint.phrases import PhraseBook
from responder.lint.reader import Deflection

MODEL_PATH = LINT_PHRASES / "model.json"
_PUNCTUATION = frozenset(",;:!?.()[]—–^")
# The model was trained on sentences (99 % have five words or more); it does not judge a
# shorter piece of text alone: "re:", "Kind regards,", a file name in `{% extends %}`.
PROSE_WORDS = 5
CHAR_GRAM = 4  # letters per piece of a word (kind "chars")


def prose_words(sentence: str) -> int:
    """Words made of letters: what tells prose from a salutation, a subject or a file name."""
    return sum(1 for w in re.findall(r"\w+", sentence) if w.isalpha())


def reader_signals(book: PhraseBook, tokens: Tokens, sentence: str) -> list[str]:
    """What the cue reader saw in the sentence: groups found, ownership, negation, its verdict."""
    reader = book.reader
    lifted = reader.necessity.spans(tokens)
    out: list[str] = []
    topics = [g.name for g in reader.topics if g.spans(tokens)]
    moves = [g.name for g in reader.moves if reader._live(g, tokens, lifted)]
    alone = [g.name for g in reader.alone if reader._live(g, tokens, lifted)]
    out += [f"T:{n}" for n in topics] + [f"M:{n}" for n in moves] + [f"A:{n}" for n in alone]
    if topics and moves:
        out.append("TM")
    if reader.ownership.spans(tokens):
        out.append("O:raw")
        if reader._owners(tokens):
            out.append("O:live")
    if reader.negators.spans(tokens):
        out.append("NEG")
    if lifted:
        out.append("NEC")
    found = reader.deflections(sentence)  # the rules alone, never a judged book's verdict
    out += [f"R:{d.topic}" for d in found] + [f"R:{d.severity}" for d in found]
    out.append("R:any" if found else "R:none")
    return out


def features(
    book: PhraseBook, sentence: str, kind: str = "all", found: list[Deflection] | None = None
) -> list[str]:
    """The sentence's features: reader signals (shared and per language), stems, stem bigrams.

    `kind` "all" takes every signal of the reader (which costs a second reading of the
    cues), "verdict" only whether the rules flag it (free when `found` is given), "words"
    none, "chars" none but the words' letter n-grams besides the stems."""
    language = book.language
    tokens = tokenize(sentence, language, book.reader.normaliser)
    signals: list[str] = []
    if kind == "all":
        signals = reader_signals(book, tokens, sentence)
    elif kind == "verdict":
        found = book.reader.deflections(sentence) if found is None else found
        signals = ["R:any" if found else "R:none"]
    keys = [t.rsplit("#", 1)[1] for t in tokens.line.split(" ")]
    words = [k for k in keys if k not in _PUNCTUATION]
    out = [f"s:{s}" for s in signals] + [f"{language}:s:{s}" for s in signals]
    out.append(f"{language}:bias")
    out += [f"{language}:w:{w}" for w in dict.fromkeys(words)]
    out += [f"{language}:b:{a}_{b}" for a, b in dict.fromkeys(itertools.pairwise(keys))]
    if kind == "chars":
        out += char_features(language, tokens.surfaces)
    return list(dict.fromkeys(out))


def char_features(language: str, surfaces: tuple[str, ...], size: int = CHAR_GRAM) -> list[str]:
    """Letter n-grams of each word as written (folded), with its edges marked.

    Why: a new writer's words are often ones no training sentence had ("Kulanzweg",
    "reembolsaremos"); their pieces ("ulanz", "bols") were seen. On the fresh writer blocks
    they lowered the false alarms more than they cost (bench/lint_model_report.txt)."""
    out: list[str] = []
    for surface in surfaces:
        if not surface.isalpha():
            continue
        marked = f"<{surface}>"
        out += [f"{language}:c:{marked[i : i + size]}" for i in range(len(marked) - size + 1)]
    return list(dict.fromkeys(out))


@dataclass(frozen=True)
class Verdict:
    """The model's probability that a sentence deflects, and the features that weighed most."""

    probability: float
    strongest: tuple[tuple[str, float], ...]  # (feature, weight), largest pull first
    evidence: float = 0.0  # the weights of the sentence's words, without the priors
    prior: float = 0.0  # intercept and language bias: where a sentence without words lands

    def why(self) -> str:
        words = ", ".join(f"{_shown(f)} {w:+.1f}" for f, w in self.strongest)
        return f"model: p={self.probability:.2f} (prior {self.prior:+.1f}), strongest: {words}"


@dataclass(frozen=True)
class Model:
    """Weights per feature, an intercept, and the thresholds the cross-validation chose."""

    weights: dict[str, float]
    intercept: float
    veto_below: float  # a rule finding with p below this is dropped (0: never)
    catch_above: float  # a sentence the rules pass whose words' evidence exceeds this is flagged
    trained_on: str = ""
    kind: str = "all"  # the feature set (see `features`)
    # kinds of rule finding (responder/lint/judged.py, `kinds`) a veto only demotes to a
    # warning instead of dropping; chosen with the thresholds (bench/lint_model.py --policy)
    keep: frozenset[str] = frozenset()
    # per topic (policy, blame…): weights of word stems, fitted on deflecting sentences only,
    # to name the topic of a deflection the rules missed (what the catch reports)
    topics: dict[str, dict[str, float]] = field(default_factory=dict)

    def topic(self, book: PhraseBook, sentence: str) -> tuple[str, tuple[str, ...]]:
        """The likeliest topic of a deflecting sentence and the words that point to it
        ("model" and none when the model has no topic weights)."""
        if not self.topics:
            return "model", ()
        feats = [f for f in features(book, sentence, "words") if ":w:" in f]
        best, best_score, best_words = "model", -math.inf, tuple[str, ...]()
        for name, weights in sorted(self.topics.items()):
            present = sorted(((weights[f], f) for f in feats if f in weights), reverse=True)
            score = weights.get("", 0.0) + sum(w for w, _ in present)
            if score > best_score:
                words = tuple(f.rsplit(":", 1)[-1] for w, f in present[:3] if w > 0)
                best, best_score, best_words = name, score, words
        return best, best_words

    def knows(self, language: str) -> bool:
        """Whether the model was trained on this language: on another one it knows no word,
        and its verdict would be its prior alone (which would veto every rule finding)."""
        return f"{language}:bias" in self.weights

    def verdict(
        self, book: PhraseBook, sentence: str, found: list[Deflection] | None = None, top: int = 4
    ) -> Verdict:
        """The probability that the sentence deflects; `found`: the rules' findings, if known."""
        feats = features(book, sentence, self.kind, found)
        present = [(f, self.weights[f]) for f in feats if f in self.weights]
        prior = self.intercept + sum(w for f, w in present if f.endswith(":bias"))
        words = [(f, w) for f, w in present if not f.endswith(":bias")]
        evidence = sum(w for _, w in words)
        probability = 1.0 / (1.0 + math.exp(-max(min(prior + evidence, 30.0), -30.0)))
        toward = 1.0 if probability >= 0.5 else -1.0  # explain the side the model came down on
        ranked = sorted(words, key=lambda fw: (-fw[1] * toward, fw[0]))
        return Verdict(probability, tuple(ranked[:top]), evidence, prior)

    def as_json(self) -> dict[str, object]:
        return {
            "intercept": self.intercept,
            "veto_below": self.veto_below,
            "catch_above": self.catch_above,
            "trained_on": self.trained_on,
            "kind": self.kind,
            "keep": sorted(self.keep),
            "topics": {n: dict(sorted(w.items())) for n, w in sorted(self.topics.items())},
            "weights": dict(sorted(self.weights.items())),
        }


def _shown(feature: str) -> str:
    """`en:w:refund` → `refund`; `s:R:policy` → `rules:policy`; `en:b:our_polici` → `our polici`."""
    kind, _, rest = feature.partition(":")
    if kind == "s":
        return "rules:" + rest.removeprefix("R:")
    sub, _, value = rest.partition(":")
    if sub == "s":
        return "rules:" + value.removeprefix("R:")
    return value.replace("_", " ") if value else sub


def load_model(path: Path = MODEL_PATH) -> Model | None:
    """The shipped model, or None when there is none (the rules then decide alone)."""
    if not path.is_file():
        return None
    return _cached(str(path), path.stat().st_mtime_ns)


@lru_cache(maxsize=4)
def _cached(path_text: str, _mtime: int) -> Model:
    data = json.loads(Path(path_text).read_text(encoding="utf-8"))
    return Model(
        weights={str(k): float(v) for k, v in data["weights"].items()},
        intercept=float(data["intercept"]),
        veto_below=float(data["veto_below"]),
        catch_above=float(data["catch_above"]),
        trained_on=str(data.get("trained_on", "")),
        kind=str(data.get("kind", "all")),
        keep=frozenset(str(k) for k in data.get("keep", ())),
        topics={
            str(n): {str(k): float(v) for k, v in w.items()}
            for n, w in data.get("topics", {}).items()
        },
    )
