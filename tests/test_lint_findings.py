"""Findings as admins and tools see them: allow comments, --explain, --json, and the gate."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from responder import config as config_module
from responder.lint.allow import read_allows
from responder.lint.preflight import template_problems
from responder.lint.run import DEFAULT_QUEUES, lint_templates, main

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
DEFLECTING = "Our policy does not allow refunds on opened items.\n"
WEAK = "Our system automatically cancels unpaid orders.\n"
REASON = "{# lint: allow deflection/policy — the customer asked what the policy says #}\n"


def _english(tmp_path: Path, prefix: str) -> Path:
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES / "en", templates / "en")
    path = templates / "en" / "ack.txt.j2"
    path.write_text(prefix + path.read_text(encoding="utf-8"), encoding="utf-8")
    return templates


def _lint(templates: Path) -> list[tuple[str, str]]:
    problems = lint_templates(templates, ("en",), DEFAULT_QUEUES, "en")
    return [(p.rule, p.severity) for p in problems]


def _config(templates: Path, rules: Path) -> config_module.Config:
    return dataclasses.replace(
        config_module.Config(),
        reply=dataclasses.replace(
            config_module.ReplyConfig(), templates=str(templates), languages=("en",)
        ),
        routing=dataclasses.replace(config_module.RoutingConfig(), rules=str(rules)),
    )


def test_allow_comment_covers_its_sentence_and_needs_a_reason() -> None:
    allows, bad = read_allows(REASON + DEFLECTING + "{# lint: allow deflection/blame #}\n")
    assert [(a.line, a.rule) for a in allows] == [(2, "deflection/policy")]
    assert [b.line for b in bad] == [3]


def test_an_allowed_sentence_is_not_a_finding(tmp_path: Path) -> None:
    assert ("deflection/policy", "error") in _lint(_english(tmp_path / "a", DEFLECTING))
    found = _lint(_english(tmp_path / "b", REASON + DEFLECTING))
    assert not any(rule.startswith("deflection/") for rule, _ in found)


def test_an_allow_without_a_reason_is_an_error_even_in_a_clean_file(tmp_path: Path) -> None:
    found = _lint(_english(tmp_path, "{# lint: allow deflection/policy #}\n"))
    assert ("lint-allow", "error") in found


def test_an_allow_that_accepts_nothing_is_a_warning(tmp_path: Path) -> None:
    assert _lint(_english(tmp_path, REASON + "Hello.\n")) == [("lint-allow", "warning")]


def test_explain_shows_what_was_allowed_and_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    templates = _english(tmp_path, REASON + DEFLECTING)
    assert main(_config(templates, tmp_path / "none.toml"), None, explain=True) == 0
    out = capsys.readouterr().out
    assert "allowed deflection/policy" in out
    assert "reason (line 1): the customer asked what the policy says" in out


def test_warnings_are_printed_but_block_neither_lint_nor_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    templates = _english(tmp_path, WEAK)
    config = _config(templates, ROOT / "config" / "routing.toml")  # the gate reads the router
    assert main(config, None) == 0
    out = capsys.readouterr().out
    assert "deflection/blame" in out and "warning:" in out and "1 warning(s)" in out
    assert template_problems(config) == []
    templates = _english(tmp_path / "error", DEFLECTING)
    config = _config(templates, ROOT / "config" / "routing.toml")
    assert any("deflection/policy" in p for p in template_problems(config))


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
