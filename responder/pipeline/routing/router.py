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

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from responder.pipeline.routing.evidence import combine
from responder.pipeline.routing.learned import NaiveBayes, features
from responder.pipeline.routing.priority import PriorityRules
from responder.pipeline.routing.rules import RouteRule
from responder.pipeline.routing.terms import TermIndex
from responder.pipeline.textnorm import fold

FALLBACK_QUEUE = "general"
ENGLISH = "en"
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
    # When the detected language's lists find nothing, the best other language's, at
    # this fraction of the weight (0 turns it off).
    other_languages: float = 0.5


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
        holds: dict[int, bool] = {}

        def rule_holds(index: int) -> bool:
            if index not in holds:
                rule = self.rules[index]
                holds[index] = rule.conditions_hold(subject, body, facts.sender, language)
            return holds[index]

        found: list[Evidence] = []
        for index, rule in enumerate(self.rules):
            if rule.keywords is None and rule.has_conditions and rule_holds(index):
                where = "hard" if rule.hard else "message"
                found.append(Evidence(rule.name, rule.queue, None, where, rule.weight))
        words = self._keywords(facts, language, rule_holds)
        if self.scoring.other_languages > 0:
            if not words:
                words = self._other_languages(facts, rule_holds)
            elif language != ENGLISH and all(e.where != "subject" for e in words):
                # "Invoice request" over a French body: ticket systems, forwards and
                # templates write subjects in English.
                subject_only = replace(facts, new_text="")
                words += self._keywords(subject_only, ENGLISH, rule_holds, *self._foreign(ENGLISH))
        return tuple(found + words)

    def _keywords(
        self,
        facts: MessageFacts,
        language: str,
        holds: Callable[[int], bool],
        scale: float = 1.0,
        tag: str = "",
    ) -> list[Evidence]:
        hits = self.terms.find(facts.subject, language, True)
        hits += self.terms.find(facts.body, language, False)
        if tag:  # another language's lists: no compound parts ("aspirateur" holds no "teurer")
            hits = [hit for hit in hits if not hit.partial]
        weight = self.scoring.subject_weight
        return [
            Evidence(rule.name, rule.queue, hit.term + tag, _where(hit.in_subject), points)
            for rule, hit, points in combine(hits, self.rules, holds, weight, scale)
        ]

    def _other_languages(self, facts: MessageFacts, holds: Callable[[int], bool]) -> list[Evidence]:
        """Nothing in the detected language's lists (for the whole message, or for its
        subject): a short or mixed message is often detected wrongly, so take the language
        whose lists find most, at a lower weight."""
        best: list[Evidence] = []
        for other in self.terms.languages:
            if other == facts.language:
                continue
            found = self._keywords(facts, other, holds, *self._foreign(other))
            if sum(e.points for e in found) > sum(e.points for e in best):
                best = found
        return best

    def _foreign(self, language: str) -> tuple[float, str]:
        """Scale and evidence tag for another language's lists."""
        return self.scoring.other_languages, f" ({language})"

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


def _where(in_subject: bool) -> str:
    return "subject" if in_subject else "body"


def _top_rule(evidence: tuple[Evidence, ...], queue: str) -> str | None:
    totals: dict[str, float] = {}
    for item in evidence:
        if item.queue == queue:
            totals[item.rule] = totals.get(item.rule, 0.0) + item.points
    return max(totals, key=lambda name: totals[name]) if totals else None
