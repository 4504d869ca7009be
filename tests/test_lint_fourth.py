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
    ],
)
def test_deflections_are_still_caught(language: str, sentence: str) -> None:
    assert load_phrasebook(language).read(sentence)
