"""Keyword hits to evidence: the most specific term speaks for its words, and a word
speaks once for a queue.

Three rules, each against one way a single word used to count several times:

- a hit inside a longer phrase found at the same place gives nothing of its own, nor
  does a part of a compound where a keyword matches the whole word: in
  "no me llega el código" (account) the "llega" of a parcel that never came says nothing,
  "carte cadeau" (a gift card) is no bank "carte", "cancel my subscription" is no "cancel"
  of an order;
- a word found by several rules of one queue counts once, at the heaviest rule's weight:
  a word in both the weight-1 and the weight-2 list of a queue is worth 2, not 3, and a
  prefix ("livraison*") and a stem ("livraison") of the same word are one word;
- a stem counts once per queue however often it occurs, where it weighs most (subject).

Pure and cheap: a few dictionary passes over the hits of one message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from responder.pipeline.routing.rules import RouteRule
from responder.pipeline.routing.terms import Hit

# (queue, in subject, first word) and (queue, stem) -> (points, hit)
Best = dict[tuple[str, bool, int], tuple[float, Hit]]


def combine(
    hits: Sequence[Hit],
    rules: Sequence[RouteRule],
    holds: Callable[[int], bool],
    subject_weight: float,
    scale: float = 1.0,
) -> list[tuple[RouteRule, Hit, float]]:
    """(rule, hit, points) for every hit that still counts, in the order found."""
    live = [hit for hit in hits if holds(hit.owner)]
    phrases = [hit for hit in live if hit.end - hit.start > 1]
    if phrases:
        live = [hit for hit in live if not _inside(hit, phrases)]
    whole = {(hit.in_subject, hit.start) for hit in live if not hit.partial}
    live = [hit for hit in live if not hit.partial or (hit.in_subject, hit.start) not in whole]
    at: Best = {}
    for hit in live:
        rule = rules[hit.owner]
        points = rule.weight * (subject_weight if hit.in_subject else 1.0) * scale
        slot = (rule.queue, hit.in_subject, hit.start)
        if slot not in at or points > at[slot][0]:
            at[slot] = (points, hit)
    once: dict[tuple[str, str], tuple[float, Hit]] = {}
    for points, hit in at.values():
        key = (rules[hit.owner].queue, hit.key)
        if key not in once or points > once[key][0]:
            once[key] = (points, hit)
    return [(rules[hit.owner], hit, points) for points, hit in once.values()]


def _inside(hit: Hit, phrases: list[Hit]) -> bool:
    length = hit.end - hit.start
    return any(
        phrase.in_subject == hit.in_subject
        and phrase.start <= hit.start
        and hit.end <= phrase.end
        and phrase.end - phrase.start > length
        for phrase in phrases
    )
