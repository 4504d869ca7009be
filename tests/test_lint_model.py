"""The linter's statistical second opinion (responder/lint/model.py, responder/lint/judged.py)."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from responder import config
from responder.errors import ConfigError
from responder.lint.checks import Problem
from responder.lint.judged import (
    DEFAULT_MODE,
    KEPT,
    JudgedBook,
    ModelDeflection,
    judged,
    kinds,
)
from responder.lint.model import MODEL_PATH, Model, features, load_model
from responder.lint.phrases import load_phrasebook
from responder.lint.run import DEFAULT_QUEUES, lint_templates, main, run_linter

ROOT = Path(__file__).resolve().parent.parent
DEFLECTS = "Unfortunately our policy does not allow refunds on opened items."
OWNS = "Our terms promise you a refund, and I have already sent it to your card."
SILENT = "Please have a look at the pink elephant in the garden."
BLAMES = "Your parcel is late because the courier lost it."


def _model(
    weights: dict[str, float],
    intercept: float,
    veto: float,
    catch: float,
    keep: frozenset[str] = KEPT,
) -> Model:
    known = {"en:bias": 0.0} | weights  # a model knows the languages it has a bias for
    return Model(known, intercept, veto_below=veto, catch_above=catch, keep=keep)


def test_the_shipped_model_is_the_one_the_cross_validation_supports() -> None:
    model = load_model()
    assert model is not None, f"{MODEL_PATH} missing: run bench/lint_model.py --train"
    # the fifth pass's choice on the 19 fresh writer blocks (bench/lint_model_report.txt):
    # words only, every vetoed finding dropped, a catch above evidence -1.5 (p near 0.8)
    assert 0.0 < model.veto_below < 1.0 and -3.0 <= model.catch_above <= 3.0
    assert model.kind == "words" and model.keep == frozenset()
    assert not any(":s:" in f or f[:2] == "s:" or ":c:" in f for f in model.weights)
    trained = set(model.trained_on.split(", "))
    assert {"round7", "round10", "round15", "round17", "round19", "round54", "round68"} <= trained
    assert not {"round55", "round56"} & trained  # the held-out target


def test_shipped_model_topics_exist_in_the_cue_lists() -> None:
    """A model trained on cue groups that no longer exist is stale: retrain it."""
    model = load_model()
    assert model is not None
    names = {
        g.name
        for language in ("de", "en", "es", "fr", "nl", "pt")
        for g in (lambda r: (*r.topics, *r.moves, *r.alone))(load_phrasebook(language).reader)
    }
    used = {f.split(":", 2)[2] for f in model.weights if f[:4] in ("s:T:", "s:M:", "s:A:")}
    assert used <= names, f"retrain (bench/lint_model.py --train): {sorted(used - names)}"


def test_the_shipped_model_separates_a_clear_deflection_from_ownership() -> None:
    model = load_model()
    assert model is not None
    book = load_phrasebook("en")
    deflects, owns = model.verdict(book, DEFLECTS), model.verdict(book, OWNS)
    assert deflects.probability > 0.5 > owns.probability
    assert deflects.why().startswith(f"model: p={deflects.probability:.2f} (prior ")
    # the same sentence scores the same every time (no randomness at lint time)
    assert model.verdict(book, DEFLECTS) == deflects


def test_features_hold_the_rules_verdict_stems_and_bigrams() -> None:
    found = features(load_phrasebook("en"), DEFLECTS)
    assert "s:R:any" in found and "en:s:R:any" in found and "s:TM" in found
    assert "en:w:polici" in found and "en:b:our_polici" in found
    assert "s:R:none" in features(load_phrasebook("en"), SILENT)


def test_veto_drops_a_rule_finding_and_remembers_why() -> None:
    book = load_phrasebook("en")
    assert [f.rule for f in book.read(BLAMES)] == ["deflection/blame"]
    sure_good = _model({"en:w:polici": -9.0, "en:w:courier": -9.0}, 0.0, veto=0.2, catch=1.01)
    vetoing = judged(book, "veto", sure_good)
    assert isinstance(vetoing, JudgedBook)
    assert vetoing.read(BLAMES) == []  # dropped: plain lint and check never show it
    (dropped,) = vetoing.vetoes.values()
    assert dropped.dropped and "vetoed deflection/blame, dropped" in str(dropped)
    assert json.loads(json.dumps(dropped.as_json()))["dropped"] is True


def test_veto_never_drops_a_policy_refusal_or_an_alone_move() -> None:
    """A finding on the policy topic, a refusal or a move that deflects alone is only
    demoted: a bag of words reads a deflecting clause in a long owning sentence as good."""
    book = load_phrasebook("en")
    assert book.read(DEFLECTS)
    sure_good = _model({"en:w:polici": -9.0}, 0.0, veto=0.2, catch=1.01)
    vetoing = judged(book, "veto", sure_good)
    assert isinstance(vetoing, JudgedBook)
    (kept,) = vetoing.read(DEFLECTS)  # kept in sight as a warning, never dropped
    assert isinstance(kept, ModelDeflection) and kept.vetoed and kept.severity == "warning"
    assert kept.rule == "deflection/policy" and kept.topic_words == ("policy",)
    assert "; a warning only, vetoed by the model: p=0.00" in kept.why()
    (veto,) = vetoing.vetoes.values()
    assert veto.finding.rule == "deflection/policy" and veto.verdict.probability < 0.2
    assert "model: p=0.00 (prior +0.0), strongest: polici -9.0" in str(veto)
    assert not veto.dropped and "kept as a warning" in str(veto)
    assert json.loads(json.dumps(veto.as_json()))["vetoed"] == "deflection/policy"
    # "catch" never vetoes; an unsure model keeps the finding
    assert [f.severity for f in judged(book, "catch", sure_good).read(DEFLECTS)] == ["error"]
    unsure = judged(book, "both", _model({}, 0.0, veto=0.2, catch=1.01))
    assert [f.severity for f in unsure.read(DEFLECTS)] == ["error"]


def test_what_a_veto_keeps_is_the_models_choice() -> None:
    """The shipped model drops every vetoed finding (keep = nothing: the fifth pass's
    cross-validation); a model may keep kinds instead, or long sentences ("words>=N")."""
    book = load_phrasebook("en")
    dropping = judged(book, "veto", _model({"en:w:polici": -9.0}, 0.0, 0.2, 1.01, frozenset()))
    assert dropping.read(DEFLECTS) == []
    (finding,) = book.read(DEFLECTS)
    assert kinds(finding, DEFLECTS) == {"move:refusal", "topic:policy"}  # 9 words: not long
    long = f"{DEFLECTS[:-1]}, and the reason is that nobody on our team has looked at it yet."
    assert "words>=20" in kinds(book.read(long)[0], long)  # 22 words
    in_long = _model({"en:w:polici": -9.0}, 0.0, 0.2, 1.01, frozenset({"words>=20"}))
    assert judged(book, "veto", in_long).read(DEFLECTS) == []
    assert [f.severity for f in judged(book, "veto", in_long).read(long)] == ["warning"]


def test_the_model_never_vetoes_a_sentence_of_a_few_words() -> None:
    """Two or three words and a prior do not outweigh a rule: the catch ignores such text,
    and so does the veto."""
    book = load_phrasebook("en")
    short = "Your complaint is unfounded."
    assert [f.rule for f in book.read(short)] == ["deflection/customer-wrong"]
    sure_good = _model({"en:w:complaint": -9.0}, 0.0, 0.2, 1.01, frozenset())
    assert sure_good.verdict(book, short).probability < 0.2
    assert [f.rule for f in judged(book, "veto", sure_good).read(short)] == [
        "deflection/customer-wrong"
    ]


def test_a_language_the_model_never_saw_keeps_the_rules_verdict() -> None:
    """On a language without weights the model's verdict is its prior alone: it must not
    veto (an admin's new language would lose every finding) nor catch."""
    book = load_phrasebook("en")
    vetoing = _model({"en:w:polici": -9.0}, -5.0, 0.2, 1.01, frozenset())
    assert judged(book, "both", vetoing).read(DEFLECTS) == []
    stranger = dataclasses.replace(book, language="it")
    assert judged(stranger, "both", vetoing) is stranger
    assert [f.rule for f in judged(stranger, "both", vetoing).read(DEFLECTS)] == [
        "deflection/policy"
    ]


def test_catch_adds_an_explained_warning_where_the_rules_are_silent() -> None:
    book = load_phrasebook("en")
    assert book.read(SILENT) == []
    sure_bad = _model({"en:w:eleph": 9.0}, 0.0, veto=0.0, catch=2.0)
    (caught,) = judged(book, "catch", sure_bad).read(SILENT)
    assert isinstance(caught, ModelDeflection)
    assert caught.severity == "warning" and caught.rule == "deflection/model"
    assert caught.why().startswith("model: p=1.00 (prior +0.0), strongest: eleph +9.0")
    problem = Problem(Path("en/ack.txt.j2"), 3, caught.rule, SILENT, caught.severity, caught)
    assert problem.as_json()["model"] == caught.why()
    assert "warning: model: p=1.00" in problem.explained()
    # a fragment whose words say nothing is not caught on the prior alone
    eager = _model({"en:bias": 4.0, "en:w:regard": -0.5}, 3.0, veto=0.0, catch=0.0)
    assert eager.verdict(book, "Kind regards,").probability > 0.99
    assert judged(book, "catch", eager).read("Kind regards,") == []
    assert judged(book, "catch", eager).read("re:") == []
    # "veto" never adds; "off" is the rules alone
    assert judged(book, "veto", sure_bad).read(SILENT) == []
    assert judged(book, "off", sure_bad) is book


def test_a_catch_names_its_topic_and_the_words_that_point_to_it() -> None:
    """The rules missed it, so no cue names the topic: the model's per-topic weights do."""
    book = load_phrasebook("en")
    topics = {"blame": {"": 0.0, "en:w:eleph": 2.0, "en:w:garden": 0.5}, "policy": {"": 0.1}}
    sure_bad = Model(
        {"en:bias": 0.0, "en:w:eleph": 9.0}, 0.0, veto_below=0.0, catch_above=2.0, topics=topics
    )
    (caught,) = judged(book, "catch", sure_bad).read(SILENT)
    assert caught.rule == "deflection/blame" and caught.topic_words == ("eleph", "garden")
    assert caught.move == "model" and caught.severity == "warning"
    assert caught.why().startswith("topic blame (eleph, garden) + model: p=1.00")
    assert caught.hint == next(g.hint for g in book.reader.topics if g.name == "blame")


def test_the_shipped_model_names_the_topic_of_what_it_catches() -> None:
    model = load_model()
    assert model is not None
    assert set(model.topics) == {
        "authority",
        "blame",
        "contract",
        "customer-wrong",
        "policy",
        "website",
    }
    cases = {  # deflections the cue lists miss, each in its own words
        ("en", "If you had read the renewal reminder we sent, this wouldn't have happened."): (
            "customer-wrong"
        ),
        ("fr", "Vous avez accepté ces modalités en validant votre bon de commande."): "contract",
        ("de", "Mit Ihrer Unterschrift haben Sie diese Ausschlüsse damals akzeptiert."): "contract",
    }
    for (language, sentence), topic in cases.items():
        book = load_phrasebook(language)
        assert book.read(sentence) == [], sentence
        (caught,) = judged(book).read(sentence)
        assert (caught.topic, caught.move) == (topic, "model") and caught.topic_words


def test_shipped_templates_lint_clean_with_the_default_mode() -> None:
    from responder.config.defaults import TEMPLATES

    problems = lint_templates(TEMPLATES, ("en", "es", "nl", "de", "fr", "pt"), DEFAULT_QUEUES, "en")
    assert [str(p) for p in problems] == []


def test_the_config_switch_defaults_to_the_linters_and_is_validated(tmp_path: Path) -> None:
    assert config.ReplyConfig().lint_model == DEFAULT_MODE
    path = tmp_path / "responder.toml"
    path.write_text('[reply]\nlint_model = "sometimes"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        config.load(path, environ={})
    assert caught.value.key == "reply.lint_model"
    path.write_text('[reply]\nlint_model = "off"\n', encoding="utf-8")
    assert config.load(path, environ={}).reply.lint_model == "off"


def test_the_bench_never_trains_on_the_held_out_rounds() -> None:
    """Rounds 55 and 56 are the held-out target: the model never reads them. Rounds 15-18,
    19-54 and 57-68 (written blind, the cue lists never tuned on them) and the neutral
    lines are the fresh folds the veto policy and thresholds are chosen on, one block per
    writing session."""
    from bench.lint_model import FOLDS, FRESH_BLOCKS, GROUPS

    assert {"round9", "round15", "round17", "round18", "round54", "round68"} <= set(GROUPS)
    assert not {"round55", "round56"} & set(GROUPS)
    assert ("round9", "round10") in FOLDS["writer"]
    assert FOLDS["fresh"] == FRESH_BLOCKS and ("round17", "round18") in FRESH_BLOCKS
    assert len(FRESH_BLOCKS) == 27 and all(set(b) <= set(GROUPS) for b in FRESH_BLOCKS)


def test_a_vetoed_finding_is_explained_by_lint_explain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """'Your message is with our third-party courier team' names a party (the rules flag it)
    in a sentence the model reads as ownership: the veto drops it (blame is not one of the
    kinds it keeps), plain lint is silent and --explain says why."""
    from responder.config.defaults import TEMPLATES

    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    queues = templates / "en" / "queues.toml"
    queues.write_text(
        queues.read_text(encoding="utf-8").replace(
            'orders = "orders"', 'orders = "third-party courier"'
        ),
        encoding="utf-8",
    )
    rules = run_linter(templates, ("en",), DEFAULT_QUEUES, "en", model="off")
    assert any(p.rule == "deflection/blame" for p in rules.found.values())
    judged_run = run_linter(templates, ("en",), DEFAULT_QUEUES, "en", model="both")
    assert not [p for p in judged_run.found.values() if p.rule == "deflection/blame"]
    assert any(v.finding.rule == "deflection/blame" and v.dropped for v in judged_run.vetoes())
    settings = config.load(None, environ={})
    assert settings.reply.lint_model == "both"
    assert main(settings, str(templates)) == 0
    assert "deflection/blame" not in capsys.readouterr().out
    assert main(settings, str(templates), explain=True) == 0
    out = capsys.readouterr().out
    assert "en: vetoed deflection/blame, dropped" in out and "model: p=0." in out
    assert main(settings, str(templates), as_json=True, explain=True) == 0
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    (veto,) = [v for v in printed if v.get("vetoed") == "deflection/blame"]
    assert veto["dropped"] is True and str(veto["model"]).startswith("model: p=0.")
    assert not [v for v in printed if v.get("rule") == "deflection/blame"]
