"""The learning curve: accuracy against the number of agents' corrections, prequentially.

A stream of labelled mail arrives; each message is first routed (rules, then the model where
the rules are undecided), then, if it landed in the wrong queue, an agent moves it and the
model learns its true queue: exactly what the service learns from. The accuracy plotted at
N corrections is that of the next WINDOW messages, each judged before it is learned. The same
stream is run with river's MultinomialNB (the issue's reference) when river is installed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from responder.devstack.routing_mailgen import mixed_stream
from responder.pipeline.decide import Pipeline
from responder.pipeline.parse import parse
from responder.pipeline.routing import MessageFacts
from responder.pipeline.routing.learned import NaiveBayes, features

STREAM = 700
WINDOW = 100
CHECKPOINTS = (0, 10, 20, 40, 80, 120, 160)


class RiverNB:
    """river.naive_bayes.MultinomialNB behind NaiveBayes's interface, for the comparison."""

    def __init__(self) -> None:
        from river import naive_bayes

        self.model = naive_bayes.MultinomialNB(alpha=0.5)
        self.examples = 0

    def learn(self, tokens: Any, label: str) -> None:
        self.model.learn_one(dict.fromkeys(tokens, 1), label)
        self.examples += 1

    def probabilities(self, tokens: Any) -> dict[str, float]:
        return dict(self.model.predict_proba_one(dict.fromkeys(tokens, 1)))


@dataclass
class Curve:
    seed: int
    corrections: dict[str, list[int]] = field(default_factory=dict)  # per model, per message
    right: dict[str, list[bool]] = field(default_factory=dict)
    predict_us: dict[str, float] = field(default_factory=dict)

    def window_at(self, model: str, count: int) -> float | None:
        """Accuracy of the WINDOW messages after the model had `count` corrections."""
        seen = self.corrections[model]
        start = next((i for i, n in enumerate(seen) if n >= count), None)
        if start is None or start + WINDOW > len(seen):
            return None
        return sum(self.right[model][start : start + WINDOW]) / WINDOW

    def points(self, model: str) -> tuple[list[int], list[float]]:
        xs, ys = [], []
        for i in range(0, len(self.right[model]) - WINDOW + 1, 10):
            xs.append(self.corrections[model][i])
            ys.append(sum(self.right[model][i : i + WINDOW]) / WINDOW)
        return xs, ys

    def lines(self) -> list[str]:
        names = list(self.right)
        width = max(len(name) for name in names) + 2
        out = [
            f"learning curve, prequential ({STREAM} messages, seed {self.seed}): accuracy of the "
            f"next {WINDOW} messages after N corrections (agents' moves)",
            "  N corrections " + "".join(f"{name:>{width}}" for name in names),
        ]
        for count in CHECKPOINTS:
            cells = [self.window_at(name, count) for name in names]
            if all(c is None for c in cells):
                continue
            out.append(
                f"  {count:>13} "
                + "".join(f"{'-' if c is None else f'{c:.1%}':>16}" for c in cells)
            )
        out.append(
            "  model cost per message: "
            + ", ".join(f"{k} {v:.0f} µs" for k, v in self.predict_us.items())
        )
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "window": WINDOW,
            "checkpoints": {m: {c: self.window_at(m, c) for c in CHECKPOINTS} for m in self.right},
            "predict_us": self.predict_us,
        }


def learning_curve(pipeline: Pipeline, seed: int) -> Curve:
    stream = mixed_stream(seed=seed + 100, count=STREAM, shop_share=0.75)  # as the live test
    items = []
    for mail in stream:
        raw = mail.as_eml()
        message = parse(raw)
        language = pipeline.decide(raw).language
        items.append((MessageFacts(message.subject, message.new_text, "", language), mail.queue))
    curve = Curve(seed)
    rules = pipeline.router
    curve.right["rules alone"] = [rules.route(item).queue == label for item, label in items]
    curve.corrections["rules alone"] = [0] * len(items)
    models: dict[str, Any] = {"naive Bayes (ours)": NaiveBayes, "river MultinomialNB": RiverNB}
    for name, make in models.items():
        try:
            model = make()
        except ImportError:  # river is in the bench extra only
            continue
        router = replace(rules, model=model)
        corrections, right, spent = 0, [], 0.0
        counts = []
        for item, label in items:
            counts.append(corrections)
            started = time.perf_counter()
            routed = router.route(item).queue
            spent += time.perf_counter() - started
            right.append(routed == label)
            if routed != label:  # an agent moves it: the model learns the true queue
                model.learn(features(item.subject, item.body, item.language), label)
                corrections += 1
        curve.right[name], curve.corrections[name] = right, counts
        curve.predict_us[name] = spent / len(items) * 1e6
    for name in list(curve.right)[1:]:
        curve.corrections["rules alone"] = curve.corrections[name]  # same x axis to compare
        break
    return curve


def plot_curve(curve: Curve, path: Path) -> str:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "not drawn (pip install matplotlib, the bench extra)"
    path.parent.mkdir(parents=True, exist_ok=True)
    figure, axes = plt.subplots(figsize=(7, 4))
    for name in curve.right:
        xs, ys = curve.points(name)
        axes.plot(
            xs, [100 * y for y in ys], label=name, linestyle="--" if name == "rules alone" else "-"
        )
    axes.set_xlabel("corrections learned (messages agents moved)")
    axes.set_ylabel(f"accuracy of the next {WINDOW} messages (%)")
    axes.set_title("Routing accuracy vs agents' corrections (prequential)")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return str(path)
