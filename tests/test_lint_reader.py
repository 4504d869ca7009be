"""The two-signal reader: topic AND move, ownership clears, negation lifts, allow needs a reason."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from responder.lint.allow import read_allows
from responder.lint.phrases import load_phrasebook
from responder.lint.run import lint_templates

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


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
    if move is not None:
        assert found[rule].move == move


@pytest.mark.parametrize(
    "sentence",
    [
        "Our terms promise you a refund, and I have already sent it.",
        "We changed our policy for you: the return window is now 60 days.",
        "The courier delayed your parcel, but that is our responsibility.",
    ],
)
def test_ownership_and_negated_redirects_are_not_flagged(sentence: str) -> None:
    assert load_phrasebook("en").read(sentence) == []


def test_a_negated_ownership_move_does_not_clear_a_refusal() -> None:
    book = load_phrasebook("en")
    assert book.read("Our policy does not allow it and we will not refund you.")


def test_allow_comment_needs_a_reason() -> None:
    allows, bad = read_allows(
        "{# lint: allow deflection/policy — the customer asked what our policy is #}\n"
        "Our policy does not allow refunds on opened items.\n"
        "{# lint: allow deflection/blame #}\n"
    )
    assert [(a.line, a.rule) for a in allows] == [(2, "deflection/policy")]
    assert [b.line for b in bad] == [3]


def test_allow_accepts_one_sentence_and_explain_shows_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES / "en", templates / "en")
    path = templates / "en" / "ack.txt.j2"
    text = path.read_text(encoding="utf-8")
    deflecting = "Our policy does not allow refunds on opened items.\n"
    path.write_text(deflecting + text, encoding="utf-8")
    assert any(
        p.rule == "deflection/policy"
        for p in lint_templates(templates, ("en",), ("general",), "en")
    )
    allow = "{# lint: allow deflection/policy — the customer asked what the policy says #}\n"
    path.write_text(allow + deflecting + text, encoding="utf-8")
    problems = lint_templates(templates, ("en",), ("general",), "en")
    assert not any(p.rule.startswith("deflection/") for p in problems)
    path.write_text("{# lint: allow deflection/policy #}\n" + deflecting + text, encoding="utf-8")
    problems = lint_templates(templates, ("en",), ("general",), "en")
    assert any(p.rule == "lint-allow" and p.severity == "error" for p in problems)


def test_json_findings_carry_topic_move_words_and_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from responder.cli import main as cli_main

    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    path = templates / "es" / "ack.txt.j2"
    path.write_text(
        "Nuestra política no permite devoluciones de productos abiertos.\n"
        + path.read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RESPONDER_CONFIG", raising=False)
    assert cli_main(["lint", "--json", "--templates", str(templates)]) == 1
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    row = next(r for r in rows if r["rule"] == "deflection/policy")
    assert row["file"].endswith("es/ack.txt.j2") and row["line"] == 1
    assert row["severity"] == "error" and row["topic"] == "policy" and row["move"] == "refusal"
    assert row["words"] and row["hint"].startswith("Diga")
