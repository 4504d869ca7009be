"""Precision and recall of the deflection linter on the test corpus and the held-out rewordings.

    python bench/lint_metrics.py                          # every set, Snowball stems (the default)
    python bench/lint_metrics.py --normaliser simplemma   # the same cue lists matched on lemmas
    python bench/lint_metrics.py -v                       # also list every miss and false alarm
    python bench/lint_metrics.py --model off              # the rules alone (default: as shipped)

Recall counts a deflecting sentence only when the linter names its expected rule;
"flagged" counts it when any deflection rule fires (the issue's recall: a deflection
caught). The FP rate is the share of good sentences flagged; precision counts any
flag on a good sentence as a false alarm. Do not run -v on a held-out round while
tuning: reading its misses is how a held-out set stops being one. Rounds 1-6 are all
tuning material now; rounds 7 and 8 (held out, written blind) live only in main.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from responder.lint.cues import DEFAULT_NORMALISER, NORMALISERS  # noqa: E402
from responder.lint.judged import DEFAULT_MODE, MODES, judged  # noqa: E402
from responder.lint.phrases import PhraseBook, load_phrasebook  # noqa: E402

HELD_OUT = ROOT / "bench" / "lint_heldout"
SETS = {
    "corpus": [ROOT / "tests" / "lint_corpus"],
    # Written for issue 16 alongside the two-signal cue lists, and used to tune them.
    "tuning set (used for tuning)": [ROOT / "bench" / "lint_tuning"],
    # Written after rounds 5-6 were spent (second tuning pass of issue 16): topic words with
    # ownership, concrete action, negated redirects or plain mention; deflections in synonyms.
    "tuning set 2 (used for tuning)": [ROOT / "bench" / "lint_tuning" / "extra"],
    # Written after tuning on set 2 and scored once before tuning on it (a check on how far
    # that tuning generalised; the score is in templates/README.md), then used for tuning.
    "tuning set 3 (used for tuning)": [ROOT / "bench" / "lint_tuning" / "extra2"],
    # The same again after tuning on set 3.
    "tuning set 4 (used for tuning)": [ROOT / "bench" / "lint_tuning" / "extra3"],
    "tuning set 5 (used for tuning)": [ROOT / "bench" / "lint_tuning" / "extra4"],
    "tuning set 6 (used for tuning)": [ROOT / "bench" / "lint_tuning" / "extra5"],
    # Written after tuning on sets 2-5 and scored untuned (recall 82.3 %, FP 12.5 %), then
    # read with -v and tuned on in the last round; check set 2 took its place.
    "check set 1 (scored untuned, since used for tuning)": [
        ROOT / "bench" / "lint_tuning" / "check"
    ],
    # Written after all tuning of this pass, never read with -v and never tuned on: the best
    # estimate in this tree of how the linter does on new text (rounds 7-8 are the real test).
    "check set 2 (written after tuning, not tuned on)": [ROOT / "bench" / "lint_tuning" / "check2"],
    # Rounds 11-14: written blind by two other sessions (one trade per file) as tuning material.
    "blind tuning rounds 11-13": [
        ROOT / "bench" / "lint_tuning" / f"round{n}" for n in (11, 12, 13)
    ],
    # The third tuning pass held round 14 out for itself: scored once before and once after,
    # never read with -v in between (see bench/lint_heldout/after-round3-tuning.txt).
    "blind tuning round 14 (held out by the third pass)": [
        ROOT / "bench" / "lint_tuning" / "round14"
    ],
    # Each round was written after the phrase lists of its time were finished. Rounds 1-3
    # were then used to generalise the lists, so they are no longer held out (kept to show
    # before/after; their first, honest scores are in templates/README.md).
    "round 1 (since used for tuning)": [HELD_OUT / "round1"],
    "round 2 (since used for tuning)": [HELD_OUT / "round2"],
    "round 3 (since used for tuning)": [HELD_OUT / "round3"],
    # Round 4 was held out from the phrase lists; the two-signal linter (issue 16) is tuned on it.
    "round 4 (since used for tuning)": [HELD_OUT / "round4"],
    # Rounds 5 and 6 were written for issue 16 before the two-signal linter and held out from
    # its first version (their scores then are in templates/README.md). They have been measured
    # and are now spent: the second tuning pass read their misses (-v), so they are tuning
    # material.
    "round 5 (since used for tuning)": [HELD_OUT / "round5"],
    "round 6 (since used for tuning)": [HELD_OUT / "round6"],
    "rounds 5+6 (since used for tuning)": [HELD_OUT / "round5", HELD_OUT / "round6"],
    # Rounds 7 and 8 were written blind (without the cue lists, the linter or earlier
    # rounds) by a separate session, after the two-signal linter; their first figures
    # (before-rounds78.txt) were taken before the second tuning pass, which never saw them.
    "rounds 7+8 (written blind)": [HELD_OUT / "round7", HELD_OUT / "round8"],
    # Rounds 9 and 10 were written blind too, one trade per file, while the linter was being
    # generalised (by people who never saw them). Measured once after the third pass
    # (after-rounds910.txt); since then tuning material (fourth pass: read with -v, trained on).
    "rounds 9+10 (written blind, since used for tuning)": [
        HELD_OUT / "round9",
        HELD_OUT / "round10",
    ],
    # Rounds 15 and 16: written blind after rounds 9+10 were measured and handed to the fourth
    # tuning pass; nobody who tuned saw them. Measured before and after that pass
    # (after-fourth-pass.txt); since then tuning material (fifth pass: read with -v).
    "rounds 15+16 (written blind, since used for tuning)": [
        HELD_OUT / "round15",
        HELD_OUT / "round16",
    ],
    # Rounds 19-54: written blind after the fourth pass by nine sessions (two rounds each,
    # one trade per file, each session given a style: long, short, formal, chatty, templated
    # with placeholders...). The cue lists were never tuned on them; the model is trained on
    # them (fifth pass), so with the model on these figures are not blind.
    "blind rounds 19-54 (the model trained on them)": [
        ROOT / "bench" / "lint_tuning" / f"round{n}" for n in range(19, 55)
    ],
    # Greetings, sign-offs, questions and facts with placeholders, written blind (fifth pass):
    # the model trained on them; every line is good.
    "neutral template lines (the model trained on them)": [
        ROOT / "bench" / "lint_tuning" / "neutral"
    ],
    # Rounds 17 and 18: written blind by two more sessions (one each) after the fourth pass
    # was measured; never read by whoever tuned. Measured before and after the fifth pass
    # (after-rounds1718.txt); since then training material (sixth pass).
    "rounds 17+18 (written blind, since used for training)": [
        HELD_OUT / "round17",
        HELD_OUT / "round18",
    ],
    # Rounds 55 and 56: written blind by two more sessions (one each) after rounds 17+18 were
    # measured; never read by whoever tuned. Measured before and after the sixth pass
    # (after-rounds5556.txt); since then tuning material (seventh pass: three Spanish rule
    # errors read with -v and mended by mechanism).
    "rounds 55+56 (written blind, since used for tuning)": [
        HELD_OUT / "round55",
        HELD_OUT / "round56",
    ],
    # Rounds 69 and 70: written blind by two more sessions (one each) after rounds 55+56 were
    # measured; never read by whoever tuned. Measured before and after the seventh pass.
    "held-out rounds 69+70 (written blind, the target)": [
        HELD_OUT / "round69",
        HELD_OUT / "round70",
    ],
}
TARGET_RECALL, TARGET_FP_RATE = 0.85, 0.05


@dataclass
class Score:
    true_positive: int = 0  # deflecting, flagged with the expected rule
    wrong_rule: int = 0  # deflecting, flagged, but not with the expected rule
    missed: int = 0  # deflecting, not flagged at all
    false_alarm: int = 0  # good, flagged
    good: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def deflecting(self) -> int:
        return self.true_positive + self.wrong_rule + self.missed

    @property
    def precision(self) -> float:
        flagged = self.true_positive + self.wrong_rule + self.false_alarm
        return (self.true_positive + self.wrong_rule) / flagged if flagged else 1.0

    @property
    def flagged(self) -> float:
        """Deflecting sentences flagged at all, whatever the rule."""
        return (self.true_positive + self.wrong_rule) / self.deflecting if self.deflecting else 1.0

    @property
    def false_positive_rate(self) -> float:
        """Good sentences flagged, as a share of good sentences."""
        return self.false_alarm / self.good if self.good else 0.0

    @property
    def recall(self) -> float:
        return self.true_positive / self.deflecting if self.deflecting else 1.0

    def add(self, other: Score) -> None:
        for name in ("true_positive", "wrong_rule", "missed", "false_alarm", "good"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.notes += other.notes


# Rounds 5-6 label four kinds the corpus files under a broader rule.
ALIASES = {
    "system": "blame",
    "helpless": "blame",
    "customer": "customer-wrong",
    "feelings": "customer-wrong",
}


def load(path: Path) -> tuple[list[str], list[tuple[str, str]]]:
    """(good sentences, [(expected rule, deflecting sentence)]) from one corpus file."""
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    bad = [
        (f"deflection/{ALIASES.get(rule, rule)}", s)
        for rule, items in data.get("deflecting", {}).items()
        for s in items
    ]
    return list(data.get("good", [])), bad


def evaluate(path: Path, book: PhraseBook, errors_only: bool = False) -> Score:
    """`errors_only`: count only blocking findings (severity error), as check and run do."""

    def rules_of(sentence: str) -> list[str]:
        found = book.read(sentence)
        return [f.rule for f in found if not errors_only or f.severity == "error"]

    good, bad = load(path)
    score = Score(good=len(good))
    for sentence in good:
        rules = rules_of(sentence)
        if rules:
            score.false_alarm += 1
            score.notes.append(f"  false alarm {rules}: {sentence}")
    for expected, sentence in bad:
        rules = rules_of(sentence)
        if expected in rules:
            score.true_positive += 1
        elif rules:
            score.wrong_rule += 1
            score.notes.append(f"  wrong rule {rules} (expected {expected}): {sentence}")
        else:
            score.missed += 1
            score.notes.append(f"  missed ({expected}): {sentence}")
    return score


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument(
        "--normaliser", choices=NORMALISERS, default=DEFAULT_NORMALISER, help="stems or lemmas"
    )
    parser.add_argument(
        "--model",
        choices=MODES,
        default=DEFAULT_MODE,
        help="the linter's model (bench/lint_model.py; default: as shipped, so the figures "
        "count what a user sees); it was trained on every set here but the held-out target",
    )
    parser.add_argument(
        "--errors-only",
        action="store_true",
        help="count only blocking findings (errors), not warnings (catches, demoted vetoes)",
    )
    parser.add_argument(
        "--tuning-only",
        action="store_true",
        help="skip the held-out sets (for whoever tunes: not even their totals)",
    )
    args = parser.parse_args(argv)
    for name, directories in SETS.items():
        if args.tuning_only and "held-out" in name:
            continue
        total = Score()
        print(f"{name}:")
        print(
            f"  {'lang':5} {'bad':>4} {'good':>5} {'precision':>10} {'recall':>7} {'flagged':>8} {'FP rate':>8}"
        )
        languages = sorted({p.stem for d in directories for p in d.glob("*.toml")})
        for language in languages:
            book = judged(load_phrasebook(language, normaliser=args.normaliser), args.model)
            score = Score()
            for directory in directories:
                if (directory / f"{language}.toml").is_file():
                    score.add(evaluate(directory / f"{language}.toml", book, args.errors_only))
            total.add(score)
            verdict = ""
            if "target" in name:
                met = score.flagged >= TARGET_RECALL and score.false_positive_rate <= TARGET_FP_RATE
                verdict = "  meets target" if met else "  MISSES target"
            print(
                f"  {language:5} {score.deflecting:4} {score.good:5} "
                f"{score.precision:10.1%} {score.recall:7.1%} {score.flagged:8.1%} "
                f"{score.false_positive_rate:8.1%}{verdict}"
            )
            if args.verbose and score.notes:
                print("\n".join(score.notes))
        print(
            f"  {'all':5} {total.deflecting:4} {total.good:5} "
            f"{total.precision:10.1%} {total.recall:7.1%} {total.flagged:8.1%} "
            f"{total.false_positive_rate:8.1%}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
