"""Machine mail without RFC 3834 headers, and the customers who only talk about it (issue #11).

Three tables drive it: tests/fixtures/machine/SOURCES.toml (real machine mail, every one
refused), tests/fixtures/nearmiss.toml (customers, every one answered) and the rows of
tests/fixtures/cases.toml that name each new rule. The tests below add, per rule, the
twin that must still be answered when the second machine signal is taken away.
"""

from __future__ import annotations

import dataclasses
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from responder import cli, config
from responder.errors import ConfigError
from responder.pipeline.decide import Pipeline
from responder.pipeline.guard import RULES, bounce, load_phrasebook
from responder.pipeline.guard.model import RULE_KINDS, SIGNAL_KINDS
from responder.pipeline.guard.phrases import build_phrasebook
from responder.pipeline.textnorm import fold

FIXTURES = Path(__file__).parent / "fixtures"
MACHINE = FIXTURES / "machine"
CORPUS: list[dict[str, Any]] = tomllib.loads((MACHINE / "SOURCES.toml").read_text("utf-8"))[
    "message"
]
NEAR_MISSES: list[dict[str, Any]] = tomllib.loads((FIXTURES / "nearmiss.toml").read_text("utf-8"))[
    "case"
]


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    base = config.load(None, environ={})
    return Pipeline(
        dataclasses.replace(
            base, mailbox=dataclasses.replace(base.mailbox, aliases=("help@example.test",))
        )
    )


def _corpus_params() -> list[Any]:
    params = []
    for row in CORPUS:
        marks = []
        if row.get("known_miss"):
            reason = "known miss: no non-content machine signal (see README, Guard)"
            marks.append(pytest.mark.xfail(strict=True, reason=reason))
        params.append(pytest.param(row, id=row["file"], marks=marks))
    return params


@pytest.mark.parametrize("row", _corpus_params())
def test_real_machine_mail_gets_no_reply(pipeline: Pipeline, row: dict[str, Any]) -> None:
    decision = pipeline.decide((MACHINE / row["file"]).read_bytes())
    assert not decision.auto_reply, f"answered {row['source']}: {decision.evidence}"
    assert decision.reply is None and decision.evidence


def test_corpus_is_real_varied_and_listed() -> None:
    listed = {row["file"] for row in CORPUS}
    on_disk = {p.relative_to(MACHINE).as_posix() for p in MACHINE.rglob("*.eml")}
    assert listed == on_disk
    real = [row for row in CORPUS if not row["synthesised"]]
    assert len(real) >= 150
    assert len({row["source"] for row in real}) >= 25
    assert all(row["origin"] and row["source"] for row in CORPUS)
    misses = [row for row in CORPUS if row.get("known_miss")]
    assert not misses, "the README says every message of the corpus is refused"


@pytest.mark.parametrize("case", NEAR_MISSES, ids=[c["file"] for c in NEAR_MISSES])
def test_customer_near_miss_is_answered(pipeline: Pipeline, case: dict[str, Any]) -> None:
    decision = pipeline.decide((FIXTURES / case["file"]).read_bytes())
    assert decision.auto_reply, (decision.reason, decision.evidence)
    assert decision.reply is not None
    if case["content"]:
        kinds = {signal.kind for signal in decision.evidence}
        assert "content" in kinds, "the guard should have seen the phrase and let it pass"


def test_near_misses_cover_many_languages() -> None:
    assert len(NEAR_MISSES) >= 20
    assert len({case["language"] for case in NEAR_MISSES}) >= 8


# --- each new rule, and its twin without the confirming signal ----------------------------


def _edit(name: str, *edits: tuple[str, str]) -> bytes:
    text = (FIXTURES / name).read_text("utf-8")
    for pattern, replacement in edits:
        text, count = re.subn(pattern, replacement, text, count=1, flags=re.MULTILINE)
        assert count == 1, pattern
    return text.encode("utf-8")


PERSON = "From: Nora Quist <nora.quist@example.org>"


@pytest.mark.parametrize(
    ("rule", "name", "edits"),
    [
        (
            "bounce-detector",
            "guard/machine_bounce_detector_qmail_gateway.eml",
            [(r"^From: .*$", PERSON)],
        ),
        ("machine-subject", "guard/machine_subject_vacation_fr.eml", [(r"^X-Mailer: .*\n", "")]),
        ("machine-body", "guard/machine_body_vacation_de.eml", [(r"^From: .*$", PERSON)]),
        (
            "quoted-rejected-message",
            "guard/machine_quoted_rejected_message_headers_only.eml",
            [(r"^Subject: .*$", "Subject: Fwd: Returned message")],
        ),
        (
            "abuse-complaint",
            "guard/machine_abuse_complaint_provider.eml",
            [(r"^Subject: .*$", "Subject: FW: Complaint about message from 192.0.2.25")],
        ),
    ],
)
def test_content_rule_needs_its_second_signal(
    pipeline: Pipeline, rule: str, name: str, edits: list[tuple[str, str]]
) -> None:
    assert pipeline.decide((FIXTURES / name).read_bytes()).reason == rule
    twin = pipeline.decide(_edit(name, *edits))
    assert twin.auto_reply, (twin.reason, twin.evidence)


@pytest.mark.parametrize(
    ("name", "greeting"),
    [
        ("machine/flufl_bounce/simple_20.eml", "Hello team,"),
        ("machine/sisimai/sisimai_rfc3834_02_domino_auto.eml", "Dear Miss Smith,"),
    ],
)
def test_machine_notice_needs_the_notice_to_open_the_body(
    pipeline: Pipeline, name: str, greeting: str
) -> None:
    """The same words below a person's greeting are a person quoting a notice: answered."""
    assert pipeline.decide((FIXTURES / name).read_bytes()).reason == "machine-notice"
    twin = pipeline.decide(_edit(name, (r"^\n(?=\S|\*)", f"\n{greeting}\n\n")))
    assert twin.auto_reply, (twin.reason, twin.evidence)


def test_machine_notice_needs_a_subject_of_the_same_kind(pipeline: Pipeline) -> None:
    """A vacation opening under a bounce subject (or none) is not this rule's pair."""
    name = "machine/sisimai/sisimai_rfc3834_02_domino_auto.eml"
    twin = pipeline.decide(_edit(name, (r"^Subject: .*$", "Subject: Order 4411 delivery failed")))
    assert twin.reason != "machine-notice", twin.evidence


def _mail(*headers: str, body: str = "Hello, where is my order 4411?") -> bytes:
    base = ["To: support@example.test", "Subject: Order 4411", "Message-ID: <t-1@example.org>"]
    return ("\r\n".join([*headers, *base, "", body, ""])).encode("utf-8")


@pytest.mark.parametrize(
    "return_path",
    [
        "< >",
        "<> (bounce)",
        "",
        "MAILER-DAEMON",
        "<MAILER-DAEMON@mx.example.net>",
        "<Postmaster@mx.example.net>",
    ],
)
def test_system_return_path(pipeline: Pipeline, return_path: str) -> None:
    raw = _mail(f"Return-Path: {return_path}", PERSON)
    decision = pipeline.decide(raw)
    assert decision.reason in ("system-return-path", "null-return-path"), decision.evidence


def test_ordinary_return_path_is_answered(pipeline: Pipeline) -> None:
    assert pipeline.decide(_mail("Return-Path: <nora.quist@example.org>", PERSON)).auto_reply


@pytest.mark.parametrize(
    "sender",
    [
        "From: MAIL DELIVERY SUBSYSTEM <relay@mx.example.net>",
        "From: Systeme de distribution du courrier <relay@mx.example.net>",
        "From: Mail.Delivery.System@mx.example.net",
        "From: IMSS <imss@gw.example.net>",
    ],
)
def test_delivery_system_sender(pipeline: Pipeline, sender: str) -> None:
    assert pipeline.decide(_mail(sender)).reason == "delivery-system-sender"


@pytest.mark.parametrize(
    "header", ["X-Failed-Recipients: a@example.org", "X-MS-Exchange-Message-Is-Ndr:"]
)
def test_ndr_header(pipeline: Pipeline, header: str) -> None:
    assert pipeline.decide(_mail(PERSON, header)).reason == "ndr-header"


def test_any_report_whatever_its_report_type(pipeline: Pipeline) -> None:
    body = "--b\r\nContent-Type: text/plain\r\n\r\nNot delivered.\r\n--b--"
    for ctype in (
        'multipart/report; boundary="b"',
        'multipart/report; report-type=delivery-stauts; boundary="b"',
    ):
        raw = _mail(PERSON, "MIME-Version: 1.0", f"Content-Type: {ctype}", body=body)
        assert pipeline.decide(raw).reason == "any-report"


def test_report_inside_an_attached_message_is_a_forward(pipeline: Pipeline) -> None:
    decision = pipeline.decide((FIXTURES / "nearmiss/en_forward_attached_dsn.eml").read_bytes())
    assert decision.auto_reply


# --- phrases: folding, languages, admin-editable file -------------------------------------

SUBJECTS = {
    "en": "Automatic reply: Order 4411",
    "es": "Respuesta automática: Pedido",
    "nl": "Automatisch antwoord: Bestelling",
    "de": "Abwesenheitsnotiz: Bestellung",
    "fr": "RÉPONSE AUTOMATIQUE : commande",
    "pt": "Resposta automática: Encomenda",
    "it": "Risposta automatica: Ordine",
    "sv": "Autosvar: Order",
    "da": "Automatisk svar: Ordre",
    "no": "Fraværende: Ordre",
    "pl": "Automatyczna odpowiedź: Zamówienie",
    "ja": "【自動返信】ご注文について",
}
BOUNCES = {
    "en": "Undelivered Mail Returned to Sender",
    "es": "No se puede entregar: Pedido",
    "nl": "Onbestelbaar: Bestelling",
    "de": "Unzustellbar: Bestellung",
    "fr": "Non remis : commande",
    "pt": "Não é possível entregar: Encomenda",
    "it": "Non recapitabile: Ordine",
    "sv": "Olevererbart: Order",
    "da": "Kan ikke leveres: Ordre",
    "no": "Ikke levert: Ordre",
    "pl": "Niedostarczona: Zamówienie",
    "ja": "配信不能: ご注文",
}


@pytest.mark.parametrize("language", sorted(SUBJECTS))
def test_subject_phrases_in_twelve_languages(language: str) -> None:
    book = load_phrasebook()
    assert book.autoreply_subject.find(fold(SUBJECTS[language])), SUBJECTS[language]
    assert book.bounce_subject.find(fold(BOUNCES[language])), BOUNCES[language]


def test_phrases_are_case_and_accent_insensitive_whole_words() -> None:
    book = build_phrasebook({"autoreply": {"subject": ["Réponse automatique", "abwesen*"]}})
    assert book.autoreply_subject.find(fold("REPONSE AUTOMATIQUE: x")) == "reponse automatique"
    assert book.autoreply_subject.find(fold("Abwesenheitsnotiz")) == "abwesenheitsnotiz"
    assert book.autoreply_subject.find(fold("réponses automatiques")) is None


def test_admins_extend_the_phrase_file(tmp_path: Path) -> None:
    path = tmp_path / "phrases.toml"
    path.write_text('[autoreply]\nsubject = ["ferienabwesenheit"]\n', encoding="utf-8")
    book = load_phrasebook(path)
    assert book.autoreply_subject.find("ferienabwesenheit")


@pytest.mark.parametrize(
    ("content", "key"),
    [("[bounce]\nsubject = 'x'\n", "bounce.subject"), ("not toml [", "not valid TOML")],
)
def test_a_broken_phrase_file_is_one_config_error(tmp_path: Path, content: str, key: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(key)):
        load_phrasebook(path)
    with pytest.raises(ConfigError, match=r"guard\.phrases"):
        load_phrasebook(tmp_path / "missing.toml")


# --- explanation -------------------------------------------------------------------------


def test_every_rule_names_its_kind() -> None:
    for rule in RULES:
        assert rule.kind in RULE_KINDS, rule.name
    content_rules = [
        r.name for r in RULES if r.kind in ("content+", "detector+", "structure+content")
    ]
    assert content_rules == [
        "bounce-detector",
        "quoted-rejected-message",
        "abuse-complaint",
        "machine-subject",
        "machine-body",
    ]


def test_every_signal_names_its_kind(pipeline: Pipeline) -> None:
    for row in CORPUS[:40]:
        for signal in pipeline.decide((MACHINE / row["file"]).read_bytes()).evidence:
            assert signal.kind in SIGNAL_KINDS, signal


def test_bounce_detector_skips_megabytes_of_text(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[object] = []
    monkeypatch.setattr(bounce, "all_failures", lambda message: calls.append(message) or ((), ()))
    body = "A line with an address user@example.org and 550 user unknown.\n" * 20000
    raw = _mail("From: Mail Service <svc@mx.example.net>", body=body)
    pipeline.decide(raw)
    assert not calls, "flufl.bounce reads every line: seconds on megabytes"
    pipeline.decide((FIXTURES / "guard/machine_bounce_detector_qmail_gateway.eml").read_bytes())
    assert calls


def test_inspect_json_has_evidence(capsys: pytest.CaptureFixture[str]) -> None:
    refused = str(FIXTURES / "guard/machine_subject_vacation_fr.eml")
    answered = str(FIXTURES / "nearmiss/fr_reponse_automatique.eml")
    assert cli.main(["inspect", refused, answered, "--json"]) == 0
    first, second = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert first["reason"] == "machine-subject"
    assert {(e["rule"], e["kind"], e["where"]) for e in first["evidence"]} == {
        ("machine-subject", "content", "subject"),
        ("server-mailer", "headers", "x-mailer"),
    }
    assert second["auto_reply"] is True
    assert second["evidence"][0] == {
        "rule": "content-only",
        "kind": "content",
        "where": "subject",
        "matched": "reponse automatique",
    }
