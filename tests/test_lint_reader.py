"""The two-signal reader: topic AND move, ownership clears, negation lifts, cues match stems."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from responder.lint.cues import compile_cues, cue_regex, tokenize
from responder.lint.notation import PhraseListError
from responder.lint.phrases import PHRASE_DIR, load_phrasebook


@pytest.mark.parametrize(
    ("sentence", "rule", "move"),
    [
        ("Company policy does not allow us to change an order.", "deflection/policy", "refusal"),
        ("The bank handles that part, so please get in touch with them.", "deflection/blame", None),
        ("Unfortunately this is out of our control.", "deflection/blame", "helpless"),
        ("We're sorry if you feel let down by our service.", "deflection/customer-wrong", None),
    ],
)
def test_deflections_name_topic_move_words_and_hint(
    sentence: str, rule: str, move: str | None
) -> None:
    found = {d.rule: d for d in load_phrasebook("en").read(sentence)}
    assert rule in found
    assert found[rule].words and found[rule].hint
    assert found[rule].severity == "error"
    if move is not None:
        assert found[rule].move == move


@pytest.mark.parametrize(
    "sentence",
    [
        "Our terms promise you a refund, and I have already sent it.",
        "We changed our policy for you: the return window is now 60 days.",
        "The courier delayed your parcel, but that is our responsibility.",
        "Company policy does not allow it, but this was our mistake and we have refunded you.",
    ],
)
def test_a_topic_without_a_move_or_with_ownership_is_not_flagged(sentence: str) -> None:
    assert load_phrasebook("en").read(sentence) == []


def test_a_negated_ownership_move_does_not_clear_a_refusal() -> None:
    book = load_phrasebook("en")
    assert book.read("Our policy does not allow it and we will not refund you.")


# One pair per language: the same redirect, lifted by a negation of necessity before it.
REDIRECTS = {
    "en": ("No need to check our FAQ: here is the answer.", "Please check our FAQ for the answer."),
    "es": (
        "No hace falta que consulte nuestra web: aquí tiene la respuesta.",
        "Consulte nuestra web para ver la respuesta.",
    ),
    "nl": (
        "U hoeft onze website niet te raadplegen: hier is het antwoord.",
        "Raadpleeg onze website voor het antwoord.",
    ),
    "de": (
        "Sie müssen nicht auf unserer Webseite nachsehen: Hier ist die Antwort.",
        "Die Antwort finden Sie auf unserer Webseite.",
    ),
    "fr": (
        "Inutile de consulter notre site : voici la réponse.",
        "Consultez notre site pour la réponse.",
    ),
    "pt": (
        "Não precisa de consultar o nosso site: a resposta está aqui.",
        "Consulte o nosso site para ver a resposta.",
    ),
}


@pytest.mark.parametrize("language", sorted(REDIRECTS))
def test_negation_scope_lifts_a_redirect_in_every_language(language: str) -> None:
    lifted, redirect = REDIRECTS[language]
    book = load_phrasebook(language)
    assert book.read(lifted) == []
    assert [(d.rule, d.move) for d in book.read(redirect)] == [("deflection/website", "redirect")]


def test_cues_match_stems_exact_words_compounds_and_the_sentence_start() -> None:
    def matches(cue: str, sentence: str, language: str = "en") -> bool:
        tokens = tokenize(sentence, language)
        return bool(cue_regex(cue, language, "snowball").search(tokens.line))

    assert matches("refund", "We refunded it.") and matches("policy", "Our policies.")
    assert matches("=regel", "De regel is") and not matches("=regel", "Dat regelen we", "nl")
    assert matches("*beleid", "Dat is managementbeleid.", "nl")
    assert matches("^ visit", "Visit our site.") and not matches("^ visit", "Do visit our site.")
    assert matches("not allow", "They don't allow it.")  # "don't" reads as "do not"


def test_lemmas_are_an_alternative_to_stems() -> None:
    book = load_phrasebook("en", normaliser="simplemma")
    assert book.read("Company policy does not allow us to change an order.")
    assert book.read("Our terms promise you a refund, and I have already sent it.") == []


def test_a_weak_cue_gives_a_warning_and_the_threshold_is_data(tmp_path: Path) -> None:
    sentence = "Our system automatically cancels unpaid orders."
    assert [d.severity for d in load_phrasebook("en").read(sentence)] == ["warning"]
    phrases = tmp_path / "lint"
    shutil.copytree(PHRASE_DIR, phrases)
    shared = phrases / "any.toml"
    shared.write_text(
        shared.read_text(encoding="utf-8").replace("error_at = 1.0", "error_at = 0.5"),
        encoding="utf-8",
    )
    assert [d.severity for d in load_phrasebook("en", phrases).read(sentence)] == ["error"]


@pytest.mark.parametrize("language", ["en", "es", "nl", "de", "fr", "pt"])
def test_every_finding_can_give_a_hint_in_its_own_language(language: str) -> None:
    reader = load_phrasebook(language).reader
    english = {g.name: g.hint for g in (*load_phrasebook("en").reader.topics,)}
    for topic in reader.topics:
        assert topic.hint, f"{language}: topic.{topic.name} has no hint"
        if language != "en":
            assert topic.hint != english.get(topic.name)
    hints = {t.name: t.hint for t in reader.topics}
    for group in (*reader.moves, *reader.alone):
        assert group.hint or hints.get(group.topic), f"{language}: {group.name} has no hint"
    assert {t.name for t in reader.topics} == set(english)


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        # a "but" after the ownership turns to the deflection
        (
            "en",
            "I've passed your feedback on, but whether anything changes is up to the directors.",
        ),
        # ownership words inside a move that deflects alone are that move's
        ("en", "As we already explained, the item was clearly marked as final sale."),
        # Dutch puts "niet" after the verb: it still undoes the ownership
        ("nl", "We kunnen de regels niet voor individuele klanten aanpassen."),
        # "se le explicó" (it was explained to you) is not "le explico" (I explain)
        ("es", "La reserva no era reembolsable, y así se le explicó en su momento."),
    ],
)
def test_ownership_does_not_clear_what_it_does_not_own(language: str, sentence: str) -> None:
    assert load_phrasebook(language).read(sentence)


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        # a gap never crosses a comma in English: "you used, so I can ask" is no redirect
        (
            "en",
            "Could you tell me which card you used, so I can ask the bank to reverse the charge today?",
        ),
        ("en", "Our manager reviewed your case this morning and the refund is approved."),
        ("es", "No hace falta que entre en las páginas de ayuda: se lo explico todo aquí."),
        (
            "de",
            "Sie müssen gar nicht über die Plattform gehen, denn ich habe die Adresse selbst geändert.",
        ),
        ("nl", "Het hoofdkantoor weet van de storing en ik houd uw zaak open tot het is opgelost."),
    ],
)
def test_topic_words_with_ownership_or_a_lifted_redirect_pass(language: str, sentence: str) -> None:
    assert load_phrasebook(language).read(sentence) == []


def test_accented_words_and_a_gap_in_parentheses() -> None:
    def matches(cue: str, sentence: str) -> bool:
        cues = compile_cues([cue], "es", "snowball", "test")
        return bool(cues[0].spans(tokenize(sentence, "es")))

    assert matches("le ~1 !explico", "Se lo explico aquí.") is False  # "lo", not "le"
    assert matches("lo ~1 !explico", "Se lo explico aquí.")
    assert not matches("le ~1 !explico", "Así se le explicó.")  # folded, both read "explico"
    with pytest.raises(PhraseListError, match="parentheses"):
        compile_cues(["(niets ~3 doen)"], "nl", "snowball", "test")
    with pytest.raises(PhraseListError, match="every alternative"):
        compile_cues(["!explico|dice"], "es", "snowball", "test")
