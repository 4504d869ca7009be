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
