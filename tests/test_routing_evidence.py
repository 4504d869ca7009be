"""How keyword hits become evidence: a word speaks once per queue, the most specific term
speaks for its words, exact words, split verbs, optional accents, and other languages'
lists when the detected one finds nothing."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from responder import config
from responder.devstack.routing_corpus import load
from responder.errors import ConfigError
from responder.pipeline.decide import Pipeline
from responder.pipeline.routing import MessageFacts, Router, build_router


def router(*rules: dict[str, Any], **tables: Any) -> Router:
    return build_router({"rule": list(rules), **tables})


def facts(subject: str, body: str = "", language: str = "en") -> MessageFacts:
    return MessageFacts(subject, body, "a@b.example", language)


def test_a_word_counts_once_per_queue_at_its_heaviest_weight() -> None:
    rules = router(
        {"queue": "billing", "keywords": {"en": ["refund*", "money"]}},
        {"queue": "billing", "weight": 2.0, "keywords": {"en": ["refund"]}},
    )
    result = rules.route(facts("", "refund, refunded, refunds, and my money"))
    assert result.scores == {"billing": 3.0}  # refund 2 (not 1 + 2, not once per form) + money 1


def test_a_phrase_speaks_for_the_words_inside_it() -> None:
    rules = router(
        {"queue": "orders", "weight": 2.0, "keywords": {"es": ["no me llega"]}},
        {"queue": "account", "weight": 2.0, "keywords": {"es": ["no me llega el código"]}},
        {"queue": "billing", "keywords": {"fr": ["carte"]}},
        {"queue": "general", "keywords": {"fr": ["carte cadeau"]}},
    )
    assert rules.route(facts("", "no me llega el código", "es")).scores == {"account": 2.0}
    assert rules.route(facts("", "no me llega el paquete", "es")).scores == {"orders": 2.0}
    assert rules.route(facts("", "une carte cadeau", "fr")).queue == "general"


def test_a_compound_part_yields_to_a_keyword_matching_the_whole_word() -> None:
    rules = router(
        {"queue": "technical", "keywords": {"de": ["handy"]}},
        {"queue": "account", "keywords": {"de": ["handynummer"]}},
    )
    assert rules.route(facts("", "meine Handynummer", "de")).scores == {"account": 1.0}
    assert rules.route(facts("", "mein Handydisplay", "de")).scores == {"technical": 1.0}


def test_an_exact_word_is_not_stemmed() -> None:
    stemmed = router({"queue": "orders", "keywords": {"en": ["customs"]}})
    exact = router({"queue": "orders", "keywords": {"any": ["=customs"]}})
    assert stemmed.route(facts("", "dear customer")).queue == "orders"  # both "custom"
    assert exact.route(facts("", "dear customer")).queue == "general"
    assert exact.route(facts("", "held at CUSTOMS")).queue == "orders"


def test_short_words_are_not_stemmed() -> None:
    """Portuguese "não" would stem to "na" (at the): "não entregue" is no "na entrega"."""
    rules = router({"queue": "orders", "keywords": {"pt": ["não entregue"], "en": ["ups"]}})
    assert rules.route(facts("", "pedido não entregue", "pt")).queue == "orders"
    assert rules.route(facts("", "montagem na entrega", "pt")).queue == "general"
    assert rules.route(facts("", "please set it up")).queue == "general"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Erstatten Sie mir das Geld bitte zurück", "de"),
        ("Wanneer storten jullie het bedrag terug?", "nl"),
    ],
)
def test_a_separable_verb_is_found_split(text: str, language: str) -> None:
    rules = router(
        {"queue": "billing", "keywords": {"de": ["zurückerstatten"], "nl": ["terugstorten"]}}
    )
    assert rules.route(facts("", text, language)).queue == "billing"
    too_far = text.split()[0] + " " + " ".join(["und"] * 7) + " " + text.split()[-1]
    assert rules.route(facts("", too_far, language)).queue == "general"


def test_accents_are_optional() -> None:
    rules = router({"queue": "technical", "keywords": {"pt": ["atualização"], "es": ["conexión"]}})
    assert rules.route(facts("", "depois da atualizacao", "pt")).queue == "technical"
    assert rules.route(facts("", "sin conexion", "es")).queue == "technical"


def test_other_languages_count_when_the_detected_one_finds_nothing() -> None:
    table = {"queue": "account", "weight": 2.0, "keywords": {"fr": ["mot de passe"]}}
    rules = router(table)
    result = rules.route(facts("", "mot de passe oublié", "en"))  # short: detected wrongly
    assert (result.queue, result.scores) == ("account", {"account": 1.0})
    assert result.evidence[0].term == "mot de passe (fr)"
    off = router(table, scoring={"other_languages": 0})
    assert off.route(facts("", "mot de passe oublié", "en")).queue == "general"
    both = router(table, {"queue": "orders", "keywords": {"en": ["parcel"]}})
    assert both.route(facts("", "parcel, mot de passe", "en")).scores == {"orders": 1.0}


def test_an_english_subject_over_another_language_is_read_in_english() -> None:
    rules = router(
        {"queue": "billing", "keywords": {"en": ["invoice"], "fr": ["facture"]}},
        {"queue": "orders", "keywords": {"fr": ["commande"]}},
    )
    result = rules.route(facts("Invoice request", "la facture de ma commande", "fr"))
    assert result.queue == "billing" and result.scores == {"billing": 2.0, "orders": 1.0}


def test_compound_parts_do_not_count_across_languages() -> None:
    rules = router({"queue": "billing", "weight": 2.0, "keywords": {"de": ["teurer"]}})
    assert rules.route(facts("", "mon aspirateur", "fr")).queue == "general"


def test_the_other_languages_weight_is_validated() -> None:
    with pytest.raises(ConfigError, match=r"scoring\.other_languages"):
        build_router({"scoring": {"other_languages": -1}})


def test_dev_set_accuracy() -> None:
    """A floor against regressions on the dev set the shipped vocabulary was tuned on."""
    shipped = Pipeline(config.load(None, environ={}))
    mails = load("dev")
    right: Counter[str] = Counter()
    for mail in mails:
        right[mail.queue] += shipped.decide(mail.as_eml()).queue == mail.queue
    totals = Counter(mail.queue for mail in mails)
    assert sum(right.values()) / len(mails) >= 0.95, dict(right)
    assert all(right[q] / totals[q] >= 0.9 for q in totals), dict(right)


def test_a_weight_0_phrase_silences_the_keywords_inside_it() -> None:
    rules = router(
        {"queue": "technical", "weight": 2.0, "keywords": {"fr": ["erreur"]}},
        {"queue": "orders", "keywords": {"fr": ["commande"]}},
        {"queue": "general", "weight": 0, "keywords": {"fr": ["par erreur"]}},
    )
    result = rules.route(facts("", "j'ai passé commande par erreur", "fr"))
    assert (result.queue, result.scores) == ("orders", {"orders": 1.0, "general": 0.0})
    assert rules.route(facts("", "un message d'erreur", "fr")).queue == "technical"
