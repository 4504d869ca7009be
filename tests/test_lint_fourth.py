"""The fourth tuning pass: mechanisms found on rounds 9 and 10 once they were spent."""

from __future__ import annotations

import pytest

from responder.lint.phrases import load_phrasebook


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        # a "not" before a comma belongs to the previous clause, not to the owner after it
        (
            "de",
            "Nach unseren Regeln gibt es nach 30 Tagen keine Erstattung, ich habe Ihnen den "
            "Betrag trotzdem überwiesen.",
        ),
        # something of ours done by mistake is an admission, whatever names the subject
        ("en", "Our courier policy was applied to your order by mistake, and the fee is gone."),
        ("pt", "A nossa plataforma cobrou a taxa de entrega por engano e o valor já volta hoje."),
        ("es", "El sistema le aplicó el recargo por error y mañana lo verá devuelto en su cuenta."),
        ("de", "Die Gebühr wurde Ihnen versehentlich berechnet, sie ist bereits zurückgebucht."),
        # a first-person action with the customer as object, in the language's own order
        ("es", "Nuestra política no cubre este caso, pero le reembolsamos el envío igualmente."),
        ("nl", "Ons beleid staat dat eigenlijk niet toe, maar toch vergoeden wij u de kosten."),
    ],
)
def test_ownership_mechanisms_clear_the_sentence(language: str, sentence: str) -> None:
    assert load_phrasebook(language).read(sentence) == []


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        # the owner's own "not" still undoes it ("I have not refunded it")
        ("de", "Laut unseren Regeln habe ich Ihnen den Betrag nicht erstattet."),
        ("de", "Unsere Richtlinie erlaubt keine Erstattung nach 30 Tagen."),
        # the customer's mistake is no admission of ours
        ("en", "You ordered the wrong size by mistake, so our policy says the return is on you."),
        # a redirect or a refusal in the same shape is no action of ours
        ("es", "Le dejamos el enlace a nuestra web, donde se explica la política de devoluciones."),
        ("es", "Le recordamos que nuestra política no permite devoluciones de productos abiertos."),
        ("nl", "Volgens ons beleid verwijzen wij u door naar de vervoerder."),
    ],
)
def test_deflections_are_still_caught(language: str, sentence: str) -> None:
    assert load_phrasebook(language).read(sentence)


# The sixth pass: three Spanish rule errors on held-out rounds 55+56 (once they were spent),
# mended by mechanism; the Portuguese admission has the same shape.
@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        # "that should never have happened" admits a fault; it is not the customer's hindsight
        ("es", "Perdona que hayas tenido que escribirnos tres veces; eso no debería haber pasado."),
        (
            "pt",
            "Isso nunca deveria ter acontecido, e lamento que tenha tido de escrever três vezes.",
        ),
        # the customer named as *not* responsible, then what we do
        (
            "es",
            "No es tu responsabilidad traer los estudios; nosotros se los pedimos al laboratorio.",
        ),
        # a decision of ours, in the customer's favour
        ("es", "El vendedor ya no responde, por eso hemos decidido reembolsarte nosotros."),
    ],
)
def test_sixth_pass_admissions_are_not_findings(language: str, sentence: str) -> None:
    assert load_phrasebook(language).read(sentence) == []


@pytest.mark.parametrize(
    ("language", "sentence", "rule"),
    [
        (
            "es",
            "Usted debería haber revisado la fecha antes de pagar.",
            "deflection/customer-wrong",
        ),
        ("es", "Hemos decidido no reembolsar los pedidos abiertos.", "deflection/authority"),
        (
            "es",
            "Según nuestra política, hemos decidido no reembolsar los pedidos abiertos.",
            "deflection/policy",
        ),
        (
            "es",
            "No es nuestra responsabilidad: el transportista perdió su paquete.",
            "deflection/blame",
        ),
        (
            "pt",
            "O senhor deveria ter verificado a data antes de pagar.",
            "deflection/customer-wrong",
        ),
    ],
)
def test_sixth_pass_leaves_the_deflections_standing(
    language: str, sentence: str, rule: str
) -> None:
    assert rule in [f.rule for f in load_phrasebook(language).read(sentence)]
