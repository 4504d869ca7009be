"""The learned router: multinomial naive Bayes over stems, trained on agents' corrections.

Why our own sixty lines and not `river` (the reference): measured on this machine, importing
river costs +95 MB RSS (numpy, scipy), and one `predict_proba_one` with a model of the 427
labelled messages takes 779 µs against 100 µs here (best of 3), with the same prequential
accuracy on the correction stream (`python -m bench --only routing` prints both). The daemon
must stay under 150 MB and route in under 1 ms.

Pure: learning updates counts in memory; the service persists `to_dict()` as JSON in the
state directory.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from responder.pipeline.routing.stems import stems

FORMAT = 1
ALPHA = 0.5  # Laplace/Lidstone smoothing


def features(subject: str, body: str, language: str) -> frozenset[str]:
    """Distinct stems of the message; subject stems also as "s:stem" (the subject says more)."""
    subject_stems = [s for s in stems(subject, language) if _useful(s)]
    body_stems = [s for s in stems(body, language) if _useful(s)]
    return frozenset(body_stems + subject_stems + ["s:" + s for s in subject_stems])


def _useful(token: str) -> bool:
    return len(token) > 1 and not token.isdigit()


@dataclass
class NaiveBayes:
    docs: dict[str, int] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    vocabulary: set[str] = field(default_factory=set)

    @property
    def examples(self) -> int:
        return sum(self.docs.values())

    def learn(self, tokens: Iterable[str], label: str) -> None:
        counts = self.counts.setdefault(label, {})
        self.docs[label] = self.docs.get(label, 0) + 1
        for token in tokens:
            counts[token] = counts.get(token, 0) + 1
            self.totals[label] = self.totals.get(label, 0) + 1
            self.vocabulary.add(token)

    def probabilities(self, tokens: Iterable[str]) -> dict[str, float]:
        """P(queue | tokens); words never seen in training say nothing and are skipped."""
        if not self.docs:
            return {}
        known = [t for t in tokens if t in self.vocabulary]
        size = len(self.vocabulary)
        all_docs = self.examples
        logs = {}
        for label, docs in self.docs.items():
            counts = self.counts.get(label, {})
            denominator = math.log(self.totals.get(label, 0) + ALPHA * size)
            score = math.log(docs / all_docs)
            for token in known:
                score += math.log(counts.get(token, 0) + ALPHA) - denominator
            logs[label] = score
        top = max(logs.values())
        exps = {label: math.exp(score - top) for label, score in logs.items()}
        total = sum(exps.values())
        return {label: value / total for label, value in exps.items()}

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "docs": self.docs, "counts": self.counts}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NaiveBayes:
        if data.get("format") != FORMAT:
            raise ValueError(f"unknown model format {data.get('format')!r}")
        model = cls()
        model.docs = {str(k): int(v) for k, v in data["docs"].items()}
        for label, counts in data["counts"].items():
            model.counts[str(label)] = {str(t): int(n) for t, n in counts.items()}
            model.totals[str(label)] = sum(model.counts[str(label)].values())
            model.vocabulary.update(model.counts[str(label)])
        return model
