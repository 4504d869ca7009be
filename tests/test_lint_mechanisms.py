"""The third tuning pass: mechanisms that hold across trades (first-person perfects, hindsight,
a party cleared of blame, passive refusals, cleft blame…), and the two new list kinds
(`[ownership] patterns`, `[negation] cleared`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from responder.lint.notation import PhraseListError
from responder.lint.phrases import load_phrasebook


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        # first-person perfect of a verb no list names
        (
            "en",
            "The courier lost the first box, so I've couriered a second one from our Leeds shop.",
        ),
        ("de", "Der Kurier hat das Paket verloren, deshalb habe ich Ihnen ein neues verpackt."),
        ("nl", "De koerier was te laat, daarom heb ik de levering zelf ingepland."),
        ("fr", "Le transporteur a perdu le colis, j'ai donc réexpédié la commande ce matin."),
        ("es", "El transportista perdió el paquete, así que le he reenviado el pedido hoy."),
        # first-person hindsight is ownership
        ("en", "We should have told you the warehouse was closed for stocktaking."),
        ("pt", "Devíamos ter avisado que o armazém estava fechado para inventário."),
        # a party cleared of blame
        ("en", "This wasn't the courier's fault; the label error came from our side of things."),
        ("de", "Das war nicht Ihr Problem, sondern unseres: die Rechnung ist korrigiert."),
        # a done passive
        ("en", "The double charge from the payment provider has already been reversed."),
        # a "no need to" whose "not" is no negation of what we did
        ("de", "Sie müssen das Formular auf der Website nicht ausfüllen, ich habe alles erledigt."),
    ],
)
def test_ownership_mechanisms_clear_the_sentence(language: str, sentence: str) -> None:
    assert load_phrasebook(language).read(sentence) == []


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("en", "That request falls outside what our team is able to offer."),
        ("en", "Vouchers are only accepted with the original receipt."),
        ("en", "The quickest way to get this sorted is the help centre."),
        ("en", "It was the installer who booked the wrong date, not us."),
        ("en", "Next time, please measure the doorway before ordering."),
        ("de", "Das geht über das hinaus, was wir Ihnen anbieten können."),
        ("fr", "Les échanges ne sont acceptés qu'avec le ticket de caisse."),
        ("es", "Lo sentimos, pero fue el instalador quien se equivocó de fecha."),
        ("pt", "O pedido não pode ser alterado depois de pago."),
        ("nl", "Het spijt me, maar de koerier heeft het pakket verkeerd afgeleverd."),
    ],
)
def test_deflection_mechanisms_are_caught(language: str, sentence: str) -> None:
    assert load_phrasebook(language).read(sentence), sentence


def _phrase_dir(tmp_path: Path, extra: str) -> Path:
    tmp_path.mkdir()
    (tmp_path / "any.toml").write_text("")
    (tmp_path / "xx.toml").write_text(
        '[topic.blame]\ncues = ["courier"]\n[move.fault]\ncues = ["fault"]\n' + extra
    )
    return tmp_path


def test_a_cleared_party_counts_as_ownership_and_its_not_undoes_nothing(tmp_path: Path) -> None:
    plain = _phrase_dir(tmp_path / "a", '[negation]\nnot = ["not"]\n')
    book = load_phrasebook("xx", plain)
    assert book.read("not the courier fault")
    cleared = _phrase_dir(
        tmp_path / "b", '[negation]\nnot = ["not"]\ncleared = ["not ~1 courier ~1 fault"]\n'
    )
    assert load_phrasebook("xx", cleared).read("not the courier fault") == []


def test_ownership_patterns_are_regexes_and_bad_ones_are_refused(tmp_path: Path) -> None:
    good = _phrase_dir(tmp_path / "a", "[ownership]\npatterns = ['\\bwe \\w+ed\\b']\n")
    assert load_phrasebook("xx", good).read("the courier fault, we reshipped it") == []
    assert load_phrasebook("xx", good).read("the courier fault")
    bad = _phrase_dir(tmp_path / "b", "[ownership]\npatterns = ['(unclosed']\n")
    with pytest.raises(PhraseListError, match="bad pattern"):
        load_phrasebook("xx", bad)
