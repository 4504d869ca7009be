"""Route: which human queue a message belongs to, by evidence, and whether it is priority.

Every rule that matches adds weighted evidence for its queue; the queue with the most
evidence wins when it leads the next one by `margin` (and has at least `min_score`), else
the message goes to the fallback queue. First match no longer wins: a delivery complaint
that quotes an invoice number has more delivery evidence than billing evidence.

When the rules are not confident, and only then, a model learned from agents' corrections
may decide, if it is itself confident. With no model (a new installation) the result is
exactly the rules'.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from responder.pipeline.routing.learned import NaiveBayes, features
from responder.pipeline.routing.priority import PriorityRules
from responder.pipeline.routing.rules import RouteRule
from responder.pipeline.routing.terms import TermIndex
from responder.pipeline.textnorm import fold

FALLBACK_QUEUE = "general"
# What a customer writes about comes first; a pasted log or contract further down only
# slows every search without changing where the mail belongs.
CLASSIFY_CHARS = 6000


@dataclass(frozen=True)
class MessageFacts:
    """What routing looks at: one mail, already parsed and language-tagged."""

    subject: str
    new_text: str
    sender: str  # lower case
    language: str

    @property
    def body(self) -> str:
        return self.new_text[:CLASSIFY_CHARS]

    @property
    def folded(self) -> str:
        return fold(self.subject + "\n" + self.body)


@dataclass(frozen=True)
class Evidence:
    rule: str
    queue: str
    term: str | None  # None for a rule without keywords (sender, regex)
    where: str  # "subject" | "body" | "message"
    points: float

    def as_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "queue": self.queue,
            "term": self.term,
            "where": self.where,
            "points": self.points,
        }


@dataclass(frozen=True)
class RouteResult:
    queue: str
    rule: str | None  # the rule that gave most evidence to the winner; None otherwise
    priority: bool
    priority_reasons: tuple[str, ...] = field(default=())
    scores: dict[str, float] = field(default_factory=dict)
    evidence: tuple[Evidence, ...] = ()
    source: str = "fallback"  # "rules" | "learned" | "fallback"
    confidence: float | None = None  # the model's probability, when it decided

    def as_json(self) -> dict[str, Any]:
        return {
            "queue": self.queue,
            "scores": {queue: round(score, 3) for queue, score in self.scores.items()},
            "evidence": [item.as_json() for item in self.evidence],
            "source": self.source,
        }


@dataclass(frozen=True)
class Scoring:
    subject_weight: float = 2.0
    margin: float = 1.0
    min_score: float = 1.0
    fallback: str = FALLBACK_QUEUE


@dataclass(frozen=True)
class Learning:
    enabled: bool = True
    confidence: float = 0.9  # the model decides only above this probability
    min_examples: int = 10  # and only once it has learned this many corrections


@dataclass(frozen=True)
class Router:
    rules: tuple[RouteRule, ...]
    priority_rules: PriorityRules
    terms: TermIndex
    scoring: Scoring = Scoring()
    learning: Learning = Learning()
    model: NaiveBayes | None = None

    @property
    def queues(self) -> tuple[str, ...]:
        names = dict.fromkeys(rule.queue for rule in self.rules)
        names[self.scoring.fallback] = None
        return tuple(names)

    def route(self, facts: MessageFacts) -> RouteResult:
        reasons = self.priority_rules.reasons(
            facts.folded, facts.subject, facts.new_text, facts.sender, facts.language
        )
        result = self.score(facts)
        if result.source == "fallback":
            result = self._consult_model(facts, result)
        return RouteResult(
            result.queue,
            result.rule,
            bool(reasons),
            reasons,
            result.scores,
            result.evidence,
            result.source,
            result.confidence,
        )

    def score(self, facts: MessageFacts) -> RouteResult:
        """The rules' verdict alone (priority left out)."""
        evidence = self._evidence(facts)
        hard = next((item for item in evidence if item.where == "hard"), None)
        scores: dict[str, float] = {}
        for item in evidence:
            scores[item.queue] = scores.get(item.queue, 0.0) + item.points
        if hard is not None:
            return RouteResult(hard.queue, hard.rule, False, (), scores, evidence, "rules")
        ranked = sorted(scores.items(), key=lambda pair: -pair[1])
        if ranked:
            leader, best = ranked[0]
            runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
            if best >= self.scoring.min_score and best - runner_up >= self.scoring.margin:
                return RouteResult(
                    leader, _top_rule(evidence, leader), False, (), scores, evidence, "rules"
                )
        return RouteResult(self.scoring.fallback, None, False, (), scores, evidence, "fallback")

    def _evidence(self, facts: MessageFacts) -> tuple[Evidence, ...]:
        subject, body, language = facts.subject, facts.body, facts.language
        hits = self.terms.find(subject, language, True) + self.terms.find(body, language, False)
        # One stem counts once per rule ("install", "installed"), where it weighs most.
        best: dict[tuple[int, str], bool] = {}
        terms: dict[tuple[int, str], str] = {}
        for hit in hits:
            slot = (hit.owner, hit.key)
            best[slot] = best.get(slot, False) or hit.in_subject
            terms.setdefault(slot, hit.term)
        holds: dict[int, bool] = {}
        found: list[Evidence] = []
        for rule in self.rules:
            if (
                rule.keywords is None
                and rule.has_conditions
                and rule.conditions_hold(subject, body, facts.sender, language)
            ):
                where = "hard" if rule.hard else "message"
                found.append(Evidence(rule.name, rule.queue, None, where, rule.weight))
        for slot, in_subject in best.items():
            index = slot[0]
            rule, term = self.rules[index], terms[slot]
            if index not in holds:
                holds[index] = rule.conditions_hold(subject, body, facts.sender, language)
            if holds[index]:
                weight = rule.weight * (self.scoring.subject_weight if in_subject else 1.0)
                where = "subject" if in_subject else "body"
                found.append(Evidence(rule.name, rule.queue, term, where, weight))
        return tuple(found)

    def _consult_model(self, facts: MessageFacts, rules: RouteResult) -> RouteResult:
        model, learning = self.model, self.learning
        if model is None or not learning.enabled or model.examples < learning.min_examples:
            return rules
        probabilities = model.probabilities(features(facts.subject, facts.body, facts.language))
        if not probabilities:
            return rules
        queue, probability = max(probabilities.items(), key=lambda pair: pair[1])
        if probability < learning.confidence or queue not in self.queues:
            return rules
        return RouteResult(
            queue, "learned", False, (), rules.scores, rules.evidence, "learned", probability
        )


def _top_rule(evidence: tuple[Evidence, ...], queue: str) -> str | None:
    totals: dict[str, float] = {}
    for item in evidence:
        if item.queue == queue:
            totals[item.rule] = totals.get(item.rule, 0.0) + item.points
    return max(totals, key=lambda name: totals[name]) if totals else None
