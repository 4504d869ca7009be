"""`responder lint`: each rule, in each shipped language, on copies of the shipped templates."""

from __future__ import annotations

import dataclasses
import re
import shutil
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from responder import config as config_module
from responder.lint.phrases import (
    PHRASE_DIR,
    PhraseListError,
    compile_terms,
    lint_fold,
    load_phrasebook,
    phrase_regex,
)
from responder.lint.run import DEFAULT_QUEUES, Problem, lint_templates, main

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
CORPUS = ROOT / "tests" / "lint_corpus"
LANGUAGES = ("en", "es", "nl", "de", "fr", "pt")
CATEGORIES = ("policy", "contract", "website", "blame", "authority", "customer-wrong")


def corpus(language: str) -> tuple[list[str], dict[str, list[str]]]:
    with (CORPUS / f"{language}.toml").open("rb") as handle:
        data = tomllib.load(handle)
    return data["good"], data["deflecting"]


def lint(
    directory: Path, languages: tuple[str, ...] = LANGUAGES, **kwargs: object
) -> list[Problem]:
    return lint_templates(directory, languages, DEFAULT_QUEUES, languages[0], **kwargs)  # type: ignore[arg-type]


def found(problems: list[Problem]) -> set[tuple[str, int, str]]:
    """(path relative to the template dir's parent, line, rule) of each problem."""
    return {(f"{p.path.parent.name}/{p.path.name}", p.line, p.rule) for p in problems}


CopyOf = Callable[..., Path]


@pytest.fixture
def copy_of(tmp_path: Path) -> CopyOf:
    """A scratch copy of the shipped templates of these languages (all when none given)."""

    def make(*languages: str) -> Path:
        root = tmp_path / "templates"
        for language in languages or LANGUAGES:
            shutil.copytree(TEMPLATES / language, root / language)
        return root

    return make


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def insert_line(path: Path, after: int, text: str) -> int:
    """Insert `text` as its own paragraph after line `after`; return the line it is on."""
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[after:after] = ["", text, ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return after + 2


def greeting_line(path: Path) -> int:
    """The line of the greeting (the first line after the header comment)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    return next(i for i, line in enumerate(lines, 1) if line.startswith("{% if customer_name"))


# -- the shipped set and the corpus ------------------------------------------------------------


def test_shipped_templates_pass_lint() -> None:
    assert lint(TEMPLATES) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_corpus_is_big_and_varied_enough(language: str) -> None:
    good, deflecting = corpus(language)
    assert len(good) >= 30
    assert sum(len(items) for items in deflecting.values()) >= 30
    assert set(deflecting) == set(CATEGORIES)
    assert all(len(deflecting[c]) >= 5 for c in CATEGORIES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_corpus_good_sentences_are_never_flagged(language: str) -> None:
    book = load_phrasebook(language)
    good, _ = corpus(language)
    false_alarms = [(s, [c.rule for c, _ in book.deflections(s)]) for s in good]
    assert [item for item in false_alarms if item[1]] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_corpus_recall_is_perfect(language: str) -> None:
    book = load_phrasebook(language)
    _, deflecting = corpus(language)
    misses = [
        (category, sentence)
        for category, sentences in deflecting.items()
        for sentence in sentences
        if f"deflection/{category}" not in [c.rule for c, _ in book.deflections(sentence)]
    ]
    assert misses == []


# -- deflection: each category, each language, at the right line ---------------------------------


@pytest.mark.parametrize("category", CATEGORIES)
@pytest.mark.parametrize("language", LANGUAGES)
def test_deflection_in_a_template_is_reported_at_its_line(
    copy_of: CopyOf, language: str, category: str
) -> None:
    templates = copy_of(language)
    sentence = corpus(language)[1][category][0]
    path = templates / language / "ack.txt.j2"
    line = insert_line(path, greeting_line(path), sentence)
    problems = lint(templates, (language,))
    assert (f"{language}/ack.txt.j2", line, f"deflection/{category}") in found(problems)
    shown = [p.text for p in problems if p.line == line and p.rule == f"deflection/{category}"]
    assert shown == [" ".join(sentence.split())]


def test_deflection_spread_over_lines_is_reported_where_it_starts(copy_of: CopyOf) -> None:
    templates = copy_of("en")
    path = templates / "en" / "billing.txt.j2"
    edit(
        path,
        "unless you want to.",
        "unless you want to. As set out in our terms\nand conditions, fees are final.",
    )
    assert ("en/billing.txt.j2", 5, "deflection/contract") in found(lint(templates, ("en",)))


def test_deflection_in_a_string_literal_or_a_variable_is_found(copy_of: CopyOf) -> None:
    templates = copy_of("es")
    path = templates / "es" / "ack.txt.j2"
    edit(
        path,
        "Un cordial saludo,",
        '{% set nota = "Es nuestra política." %}{{ nota }}\nUn cordial saludo,',
    )
    line = (
        path.read_text(encoding="utf-8")
        .split("\n")
        .index('{% set nota = "Es nuestra política." %}{{ nota }}')
        + 1
    )
    assert ("es/ack.txt.j2", line, "deflection/policy") in found(lint(templates, ("es",)))


def test_deflection_from_a_queue_name_is_found(copy_of: CopyOf) -> None:
    templates = copy_of("en")
    edit(templates / "en" / "queues.toml", 'orders = "orders"', 'orders = "third-party courier"')
    # the rules find it; the shipped model vetoes it in this owning sentence (dropped: see
    # test_lint_model.test_a_vetoed_finding_is_explained_by_lint_explain)
    assert any(p.rule == "deflection/blame" for p in lint(templates, ("en",), model="off"))


def test_deflection_in_the_html_alternative_and_its_links(copy_of: CopyOf) -> None:
    templates = copy_of("en")
    path = templates / "en" / "ack.html.j2"
    edit(
        path,
        "<p>Kind regards,",
        '<p>Answers are <a href="https://example.com/faq">here</a>.</p>\n<p>Kind regards,',
    )
    line = (
        path.read_text(encoding="utf-8")
        .split("\n")
        .index('<p>Answers are <a href="https://example.com/faq">here</a>.</p>')
        + 1
    )
    assert ("en/ack.html.j2", line, "deflection/website") in found(lint(templates, ("en",)))


def test_a_deflection_in_a_parent_is_reported_once_at_the_parent(copy_of: CopyOf) -> None:
    templates = copy_of("nl")
    path = templates / "nl" / "ack.txt.j2"
    line = insert_line(path, greeting_line(path), "Dit is een managementbeslissing.")
    problems = [p for p in lint(templates, ("nl",)) if p.rule.startswith("deflection/")]
    assert found(problems) == {("nl/ack.txt.j2", line, "deflection/authority")}


# -- missing elements ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_missing_elements_are_named(copy_of: CopyOf, language: str) -> None:
    templates = copy_of(language)
    book = load_phrasebook(language)
    ack = templates / language / "ack.txt.j2"
    lines = ack.read_text(encoding="utf-8").split("\n")
    kept = [line for line in lines if "#}" in line or not book.has("apology", line)]
    text = "\n".join(kept).replace("{{ reference }}", "").replace("{{ subject }}", "it")
    text = text.replace("{{ response_time }}", "").replace("{{ respond_by }}", "")
    ack.write_text(text, encoding="utf-8")
    priority = templates / language / "priority.txt.j2"
    lines = priority.read_text(encoding="utf-8").split("\n")
    priority.write_text(
        "\n".join(line for line in lines if "#}" in line or not book.has("senior", line)),
        encoding="utf-8",
    )

    problems = found(lint(templates, (language,)))
    for element in ("apology", "reference", "subject", "time"):
        assert (f"{language}/ack.txt.j2", 1, f"missing/{element}") in problems
        # the queue templates extending ack inherit the gap; it is reported once, at ack
        assert (f"{language}/billing.txt.j2", 1, f"missing/{element}") not in problems
    assert (f"{language}/priority.txt.j2", 1, "missing/senior") in problems


def test_an_apology_only_in_one_branch_is_missing(copy_of: CopyOf) -> None:
    templates = copy_of("en")
    edit(
        templates / "en" / "ack.txt.j2",
        "We're sorry you've had this trouble, and we're already on it.",
        "{% if customer_name %}We're sorry you've had this trouble.{% endif %}",
    )
    assert ("en/ack.txt.j2", 1, "missing/apology") in found(lint(templates, ("en",)))


# -- broken templates ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_syntax_error_is_reported_at_its_line(copy_of: CopyOf, language: str) -> None:
    templates = copy_of(language)
    path = templates / language / "priority.txt.j2"
    line = insert_line(path, greeting_line(path), "{% if subject %}unclosed")
    problems = lint(templates, (language,))
    assert any(p.rule == "syntax" and p.path == path and p.line >= line for p in problems)


def test_syntax_error_in_a_parent_is_reported_in_the_parent(copy_of: CopyOf) -> None:
    templates = copy_of("de")
    path = templates / "de" / "ack.txt.j2"
    line = insert_line(path, greeting_line(path), "{{ subject | }}")
    problems = found(lint(templates, ("de",)))
    assert ("de/ack.txt.j2", line, "syntax") in problems
    assert not any(rule == "syntax" and name != "de/ack.txt.j2" for name, _, rule in problems)


def test_undefined_variable_even_in_a_branch_never_taken(copy_of: CopyOf) -> None:
    templates = copy_of("fr")
    path = templates / "fr" / "ack.txt.j2"
    line = insert_line(
        path, greeting_line(path), "{% if priority and false %}{{ costumer_name }}{% endif %}"
    )
    problems = lint(templates, ("fr",))
    assert ("fr/ack.txt.j2", line, "undefined") in found(problems)
    assert "did you mean customer_name?" in next(p.text for p in problems if p.rule == "undefined")


def test_undefined_attribute_at_render_time(copy_of: CopyOf) -> None:
    templates = copy_of("pt")
    path = templates / "pt" / "ack.txt.j2"
    line = insert_line(path, greeting_line(path), "{{ customer_name.first }}")
    assert ("pt/ack.txt.j2", line, "undefined") in found(lint(templates, ("pt",)))


def test_sandbox_violation_static_and_at_render_time(copy_of: CopyOf) -> None:
    templates = copy_of("en")
    ack, priority = templates / "en" / "ack.txt.j2", templates / "en" / "priority.txt.j2"
    first = insert_line(ack, greeting_line(ack), "{{ reference.__class__.__mro__ }}")
    second = insert_line(
        priority, greeting_line(priority), '{{ "{0.__class__}".format(reference) }}'
    )
    problems = found(lint(templates, ("en",)))
    assert ("en/ack.txt.j2", first, "sandbox") in problems  # seen in the source
    assert ("en/priority.txt.j2", second, "sandbox") in problems  # only seen when rendering


def test_render_error_is_reported_at_its_line(copy_of: CopyOf) -> None:
    templates = copy_of("nl")
    path = templates / "nl" / "ack.txt.j2"
    line = insert_line(path, greeting_line(path), "{{ (reference | length) // 0 }}")
    assert ("nl/ack.txt.j2", line, "render-error") in found(lint(templates, ("nl",)))


def test_missing_language_and_missing_templates(copy_of: CopyOf) -> None:
    templates = copy_of("en", "es")
    (templates / "es" / "priority.txt.j2").unlink()
    problems = found(lint(templates, ("en", "es", "it")))
    assert ("es/priority.txt.j2", 1, "missing-template") in problems
    assert ("it/ack.txt.j2", 1, "missing-template") in problems
    assert ("lint/it.toml", 1, "phrase-list") in problems


def test_a_follow_up_note_missing_in_one_language(copy_of: CopyOf) -> None:
    templates = copy_of("en", "nl")
    (templates / "nl" / "followup.txt.j2").unlink()
    assert ("nl/followup.txt.j2", 1, "missing-template") in found(lint(templates, ("en", "nl")))
    (templates / "en" / "followup.txt.j2").unlink()  # the feature unused: nothing required
    assert lint(templates, ("en", "nl")) == []


def test_a_language_babel_does_not_know(copy_of: CopyOf, tmp_path: Path) -> None:
    templates = copy_of("en")
    shutil.copytree(templates / "en", templates / "xx")
    phrases = tmp_path / "phrases"
    shutil.copytree(PHRASE_DIR, phrases)
    shutil.copy(phrases / "en.toml", phrases / "xx.toml")
    assert found(lint(templates, ("en", "xx"), phrases=phrases)) == {
        ("templates/xx", 1, "unknown-locale")
    }


def test_extends_a_template_that_does_not_exist(copy_of: CopyOf) -> None:
    templates = copy_of("de")
    edit(templates / "de" / "orders.txt.j2", '"de/ack.txt.j2"', '"de/bestaetigung.txt.j2"')
    assert ("de/orders.txt.j2", 1, "missing-template") in found(lint(templates, ("de",)))


def test_queue_without_a_customer_facing_name(copy_of: CopyOf) -> None:
    templates = copy_of("en", "fr")
    problems = lint_templates(templates, ("en", "fr"), (*DEFAULT_QUEUES, "returns"), "en")
    assert {
        ("en/queues.toml", 1, "missing-queue-name"),
        ("fr/queues.toml", 1, "missing-queue-name"),
    } <= found(problems)
    assert all("returns" in p.text for p in problems if p.rule == "missing-queue-name")


def test_queues_toml_syntax_error(copy_of: CopyOf) -> None:
    templates = copy_of("es")
    (templates / "es" / "queues.toml").write_text(
        'billing = "facturación"\norders = \n', encoding="utf-8"
    )
    assert ("es/queues.toml", 2, "syntax") in found(lint(templates, ("es",)))


def test_unknown_template_names_and_shared_pieces(copy_of: CopyOf) -> None:
    templates = copy_of("en")
    (templates / "en" / "biling.txt.j2").write_text(
        '{% extends "en/ack.txt.j2" %}\n', encoding="utf-8"
    )
    (templates / "en" / "priority.html.j2").write_text("<p>Sorry</p>\n", encoding="utf-8")
    (templates / "en" / "_sign.txt.j2").write_text("Kind regards,\n", encoding="utf-8")
    edit(templates / "en" / "ack.txt.j2", "Kind regards,\n", '{% include "en/_sign.txt.j2" %}')
    problems = found(lint(templates, ("en",)))
    assert ("en/biling.txt.j2", 1, "unknown-template") in problems
    assert ("en/priority.html.j2", 1, "unknown-template") not in problems  # has priority.txt.j2
    assert not any(name == "en/_sign.txt.j2" for name, _, _ in problems)
    (templates / "en" / "returns.html.j2").write_text("<p>x</p>\n", encoding="utf-8")
    assert ("en/returns.html.j2", 1, "unknown-template") in found(lint(templates, ("en",)))


def test_raw_placeholders_are_caught(copy_of: CopyOf) -> None:
    templates = copy_of("pt")
    path = templates / "pt" / "ack.txt.j2"
    first = insert_line(path, greeting_line(path), "Olá {customer_name},")
    second = insert_line(path, first, "a sua referência é ${reference} (%ORGANIZATION%).")
    problems = [p for p in lint(templates, ("pt",)) if p.rule == "raw-placeholder"]
    assert {(p.line, p.text.split()[0]) for p in problems} == {
        (first, "{customer_name}"),
        (second, "${reference}"),
    }


def test_empty_quotes_when_the_subject_is_empty(copy_of: CopyOf) -> None:
    templates = copy_of("fr")
    edit(
        templates / "fr" / "ack.txt.j2",
        "{% if subject %} au sujet de «\u00a0{{ subject }}\u00a0»{% endif %}",
        " au sujet de «\u00a0{{ subject }}\u00a0»",
    )
    problems = lint(templates, ("fr",))
    assert any(p.rule == "empty-quotes" and p.path.name == "ack.txt.j2" for p in problems)


def test_subject_must_keep_the_reference_and_one_line(copy_of: CopyOf) -> None:
    templates = copy_of("nl")
    (templates / "nl" / "subject.txt.j2").write_text(
        "Re: {{ subject }}\n\n[{{ reference }}]\n", encoding="utf-8"
    )
    problems = found(lint(templates, ("nl",)))
    assert ("nl/subject.txt.j2", 1, "subject-reference") in problems
    assert ("nl/subject.txt.j2", 1, "subject-one-line") in problems


# -- phrase lists are data ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phrase", "text", "matches"),
    [
        ("our policy", "As per OUR   policy.", True),
        ("polic*", "company policies", True),
        ("*beleid", "volgens ons bedrijfsbeleid", True),
        ("your|the contract", "read the contract", True),
        ("(do not|don't) allow", "we Don’t allow that", True),
        ("supplier ~2 late", "the supplier was very late", True),
        ("supplier ~1 late", "the supplier was very late", False),
        ("nuestra política", "es NUESTRA POLITICA", True),
        ("leid ~3 wenn sie", "Es tut uns leid, wenn Sie", True),
        ("policy", "police", False),
        ("e-mail", "email", False),
        ("e-mail", "e mail", True),
    ],
)
def test_phrase_notation(phrase: str, text: str, matches: bool) -> None:
    pattern = compile_terms([phrase])
    assert pattern is not None
    assert bool(pattern.search(lint_fold(text))) is matches


@pytest.mark.parametrize(
    "phrase", ["~ policy", "policy ~", "policy ~2 ~2 rules", "(our policy", "a||b"]
)
def test_bad_phrases_are_refused(phrase: str) -> None:
    with pytest.raises(PhraseListError):
        phrase_regex(phrase)


def test_bad_patterns_are_refused() -> None:
    with pytest.raises(PhraseListError, match="folded"):
        compile_terms([], [r"Policy\s+"])
    with pytest.raises(PhraseListError, match="bad pattern"):
        compile_terms([], ["(unclosed"])
    assert compile_terms([], [r"\bpolicy\S*"]) is not None


def test_a_new_language_and_a_new_category_are_files(tmp_path: Path, copy_of: CopyOf) -> None:
    templates = copy_of("en")
    phrases = tmp_path / "phrases"
    shutil.copytree(PHRASE_DIR, phrases)
    shutil.copytree(templates / "en", templates / "it")
    (phrases / "it.toml").write_text(
        '[alone.rudeness]\ncues = ["stupid|silly ~2 question"]\n'
        '[required]\napology = ["sorry"]\nsenior = ["senior"]\n',
        encoding="utf-8",
    )
    assert lint(templates, ("it",), phrases=phrases) == []
    path = templates / "it" / "ack.txt.j2"
    line = insert_line(path, greeting_line(path), "A silly question: see https://example.com/faq.")
    problems = found(lint(templates, ("it",), phrases=phrases))
    assert ("it/ack.txt.j2", line, "deflection/rudeness") in problems
    assert ("it/ack.txt.j2", line, "deflection/website") in problems  # any.toml holds for all


def test_a_broken_phrase_list_is_a_problem(tmp_path: Path) -> None:
    phrases = tmp_path / "phrases"
    shutil.copytree(PHRASE_DIR, phrases)
    (phrases / "de.toml").write_text(
        '[deflection.policy]\nphrases = ["~ regel"]\n', encoding="utf-8"
    )
    (phrases / "fr.toml").write_text("[deflection.policy\n", encoding="utf-8")
    problems = found(lint(TEMPLATES, ("de", "fr"), phrases=phrases))
    assert ("phrases/de.toml", 1, "phrase-list") in problems
    assert ("phrases/fr.toml", 1, "phrase-list") in problems


# -- output and the command ---------------------------------------------------------------------


def test_problem_prints_as_path_line_rule_text() -> None:
    problem = Problem(
        Path("templates/es/ack.txt.j2"), 7, "deflection/policy", "Es nuestra política."
    )
    assert str(problem) == "templates/es/ack.txt.j2:7: deflection/policy: Es nuestra política."


def _config(templates: Path, tmp_path: Path) -> config_module.Config:
    return dataclasses.replace(
        config_module.Config(),
        reply=dataclasses.replace(config_module.ReplyConfig(), templates=str(templates)),
        routing=dataclasses.replace(
            config_module.RoutingConfig(), rules=str(tmp_path / "none.toml")
        ),
    )


def test_main_prints_each_problem_and_a_summary(
    copy_of: CopyOf, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    templates = copy_of()
    assert main(_config(templates, tmp_path), None) == 0
    assert "no problems" in capsys.readouterr().out
    path = templates / "es" / "orders.txt.j2"
    edit(path, "siguiente paso.", "siguiente paso. La empresa de transporte perdió su paquete.")
    assert main(_config(TEMPLATES, tmp_path), str(templates)) == 1
    out = capsys.readouterr().out.splitlines()
    assert re.fullmatch(
        rf"{re.escape(str(path))}:\d+: deflection/blame: .*perdió su paquete\.", out[0]
    )
    assert out[-1].startswith("responder lint: 1 problem(s)")


def test_cli_lint_exit_codes(
    copy_of: CopyOf,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    templates = copy_of()
    from responder.cli import main as cli_main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RESPONDER_CONFIG", raising=False)
    assert cli_main(["lint", "--templates", str(templates)]) == 0
    edit(templates / "en" / "ack.txt.j2", "{{ reference }}", "{{ referense }}")
    assert cli_main(["lint", "--templates", str(templates)]) == 1
    assert ": undefined: referense is not a template variable" in capsys.readouterr().out
