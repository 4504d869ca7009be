"""The shipped templates: fallback chain, HTML alternative, every language and queue, and the
linter failing on each corpus deflection inserted into each of them."""

from __future__ import annotations

import dataclasses
import html
import shutil
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from responder import config as config_module
from responder.lint.phrases import load_phrasebook, split_sentences
from responder.lint.run import DEFAULT_QUEUES, lint_templates, run_linter
from responder.pipeline.deadline import localized_deadline
from responder.pipeline.decide import Pipeline
from responder.pipeline.render import (
    Reply,
    ReplyContext,
    TemplateSet,
    Threading,
    localized_duration,
    localized_moment,
    render_reply,
)
from responder.pipeline.routing import build_router

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
CORPUS = ROOT / "tests" / "lint_corpus"
LANGUAGES = ("en", "es", "nl", "de", "fr", "pt")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
REFERENCE = "K7M2Q9XD"
SHIPPED = sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.glob("*/*.j2"))


def context(language: str, queue: str, *, priority: bool = False, **changes: str) -> ReplyContext:
    templates = TemplateSet(TEMPLATES, "en")
    values = ReplyContext(
        customer_name="Ana Gómez",
        customer_address="ana@example.com",
        subject="Cobro duplicado 4417",
        queue=queue,
        queue_name=templates.queue_name(language, queue),
        reference=REFERENCE,
        response_time=localized_duration(timedelta(hours=2), language),
        respond_by=localized_moment(NOW + timedelta(hours=2), language, "Europe/Madrid"),
        priority=priority,
        language=language,
        organization="Example Support",
        support_address="support@example.test",
    )
    return dataclasses.replace(values, **changes)


def reply(templates: TemplateSet, ctx: ReplyContext) -> Reply:
    return render_reply(
        templates,
        ctx,
        sender="support@example.test",
        from_name="Example Support",
        message_id="<ack@example.test>",
        threading=Threading("<m1@example.com>", ()),
        now=NOW,
    )


# -- the lookup order -------------------------------------------------------------------------


def test_fallback_chain_of_the_shipped_set() -> None:
    templates = TemplateSet(TEMPLATES, "en")
    find = templates.find
    assert find(templates.body_candidates("es", "billing", False)) == "es/billing.txt.j2"
    assert find(templates.body_candidates("es", "general", False)) == "es/ack.txt.j2"
    assert find(templates.body_candidates("es", "billing", True)) == "es/priority.txt.j2"
    assert find(templates.body_candidates("it", "orders", False)) == "en/orders.txt.j2"
    assert find(templates.body_candidates("it", "orders", True)) == "en/priority.txt.j2"
    assert find(templates.subject_candidates("it")) == "en/subject.txt.j2"
    assert templates.queue_name("de", "billing") == "Rechnungen und Zahlungen"
    assert templates.queue_name("it", "billing") == "billing"  # the default language's name
    assert templates.queue_name("es", "returns") == "returns"  # no name anywhere: the queue id


def test_fallback_prefers_the_customers_language_to_a_more_specific_default(tmp_path: Path) -> None:
    for language in ("en", "es"):
        shutil.copytree(TEMPLATES / language, tmp_path / language)
    (tmp_path / "es" / "priority.txt.j2").unlink()
    (tmp_path / "es" / "billing.txt.j2").unlink()
    templates = TemplateSet(tmp_path, "en")
    assert templates.find(templates.body_candidates("es", "billing", True)) == "es/ack.txt.j2"
    (tmp_path / "es" / "ack.txt.j2").unlink()
    assert templates.find(templates.body_candidates("es", "billing", True)) == "en/priority.txt.j2"
    assert templates.find(templates.body_candidates("es", "billing", False)) == "en/billing.txt.j2"


# -- every language, every queue ----------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_queue_renders_a_complete_reply(language: str) -> None:
    templates = TemplateSet(TEMPLATES, "en")
    book = load_phrasebook(language)
    for queue in DEFAULT_QUEUES:
        for priority in (False, True):
            ctx = context(language, queue, priority=priority)
            sent = reply(templates, ctx)
            assert sent.subject == f"Re: {ctx.subject} [#{REFERENCE}]"
            assert sent.headers["Content-Language"] == language
            for value in (
                ctx.subject,
                ctx.reference,
                ctx.respond_by,
                ctx.queue_name,
            ):
                assert value in sent.body, (queue, priority, value)
            assert book.has("apology", sent.body)
            if priority:
                assert book.has("senior", sent.body)
            assert "{" not in sent.body and "}" not in sent.body
            assert "\n\n\n" not in sent.body and not sent.body.startswith("\n")
            sentences = [s for _, s in split_sentences(sent.body)]
            assert [c.rule for s in sentences for c, _ in book.deflections(s)] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_follow_up_note_in_every_language(language: str) -> None:
    templates = TemplateSet(TEMPLATES, "en")
    book = load_phrasebook(language)
    assert templates.find(templates.body_candidates(language, "orders", False, follow_up=True)) == (
        f"{language}/followup.txt.j2"
    )
    ctx = context(language, "orders", subject="Re: Paquete 4417")
    sent = render_reply(
        templates,
        ctx,
        sender="support@example.test",
        from_name="Example Support",
        message_id="<note@example.test>",
        threading=Threading("<m2@example.com>", ()),
        now=NOW,
        follow_up=True,
    )
    assert sent.subject == f"Re: Paquete 4417 [#{REFERENCE}]"
    assert "Paquete 4417" in sent.body and "Re: Paquete" not in sent.body
    for value in (REFERENCE, ctx.respond_by, ctx.queue_name):
        assert value in sent.body
    assert book.has("apology", sent.body) and not sent.body.startswith("\n")


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_name_and_no_subject_still_reads_well(language: str) -> None:
    templates = TemplateSet(TEMPLATES, "en")
    sent = reply(templates, context(language, "general", customer_name="", subject=""))
    first_line = sent.body.split("\n", 1)[0]
    assert first_line.rstrip(",:") and "  " not in first_line
    assert REFERENCE in sent.body and "«" not in sent.body and "“" not in sent.body
    assert sent.subject.endswith(f"[#{REFERENCE}]") and not sent.subject.startswith("Re:")


def test_a_reply_to_a_reply_is_not_re_re() -> None:
    templates = TemplateSet(TEMPLATES, "en")
    sent = reply(templates, context("de", "orders", subject="AW: Lieferung fehlt"))
    assert sent.subject == f"AW: Lieferung fehlt [#{REFERENCE}]"


def test_promised_time_and_queue_name_come_from_config_in_the_customers_language() -> None:
    reply_config = dataclasses.replace(
        config_module.ReplyConfig(), response_time={"billing": "2h", "orders": "1d"}
    )
    pipeline = Pipeline(config_module.Config(reply=reply_config), router=build_router({}))
    mail = (
        b"From: Ana <ana@example.com>\r\nTo: support@example.test\r\nSubject: Hola\r\n"
        b"Message-ID: <q1@example.com>\r\n\r\nHola.\r\n"
    )
    cases = [
        ("es", "billing", "facturación", timedelta(hours=2)),
        ("de", "orders", "Bestellungen und Lieferungen", timedelta(days=1)),
        ("nl", "billing", "facturatie", timedelta(hours=2)),
        ("fr", "orders", "commandes", timedelta(days=1)),
        ("pt", "general", "atendimento ao cliente", timedelta(hours=4)),
        ("en", "technical", "technical support", timedelta(hours=4)),
    ]
    for language, queue, name, promise in cases:
        decision = pipeline.decide(mail, now=NOW, force_language=language, force_queue=queue)
        assert decision.reply is not None
        body = decision.reply.body.replace("\u00a0", " ")  # French puts a no-break space in
        assert name in body, (language, body)
        # The promise is an absolute moment, never a bare duration (issue 15).
        assert localized_deadline(NOW + promise, language, "UTC", NOW) in decision.reply.body


# -- the HTML alternative -----------------------------------------------------------------------


def test_html_alternative_is_autoescaped_and_sent_as_multipart() -> None:
    templates = TemplateSet(TEMPLATES, "en")
    nasty = '<script>alert("x")</script> & {{ 7*7 }}'
    sent = reply(templates, context("en", "general", subject=nasty, customer_name="<b>Bo</b>"))
    assert sent.html is not None
    assert "<script>" not in sent.html and "&lt;script&gt;" in sent.html
    assert "&lt;b&gt;Bo&lt;/b&gt;" in sent.html and "&amp; {{ 7*7 }}" in sent.html
    assert nasty in sent.body  # plain text is not escaped
    assert REFERENCE in sent.html and context("en", "general").respond_by in sent.html
    parsed = message_from_bytes(sent.as_bytes(), policy=policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]


def test_html_alternative_only_beside_its_text_template() -> None:
    templates = TemplateSet(TEMPLATES, "en")
    assert reply(templates, context("en", "billing")).html is None  # en/billing.html.j2: none
    assert reply(templates, context("es", "general")).html is None


# -- the linter on the shipped set --------------------------------------------------------------


def test_shipped_templates_pass_lint() -> None:
    assert lint_templates(TEMPLATES, LANGUAGES, DEFAULT_QUEUES, "en") == []


def _deflections(language: str) -> list[tuple[str, str]]:
    with (CORPUS / f"{language}.toml").open("rb") as handle:
        data = tomllib.load(handle)
    return [(f"deflection/{rule}", s) for rule, items in data["deflecting"].items() for s in items]


def _insertion_point(lines: list[str], name: str) -> int:
    """Where inserted text is read by the renderer: inside the queue block, before the
    HTML closing, after the subject line, or after the greeting."""
    for index, line in enumerate(lines):
        if "{% block queue_note %}" in line and name.split("/")[1].split(".")[0] != "ack":
            return index + 1
    if name.endswith(".html.j2"):
        return next(i for i, line in enumerate(lines) if line.startswith("<p>Kind regards"))
    if name.endswith("subject.txt.j2"):
        return 1
    return next(i for i, line in enumerate(lines) if line.startswith("{% if customer_name")) + 1


CopyOf = Callable[[str], Path]


@pytest.fixture
def copy_of(tmp_path: Path) -> CopyOf:
    def make(language: str) -> Path:
        shutil.copytree(TEMPLATES / language, tmp_path / "templates" / language)
        return tmp_path / "templates"

    return make


@pytest.mark.parametrize("name", SHIPPED)
def test_every_corpus_deflection_inserted_into_a_shipped_template_fails_lint(
    copy_of: CopyOf, name: str
) -> None:
    language = name.split("/")[0]
    templates = copy_of(language)
    path = templates / name
    lines = path.read_text(encoding="utf-8").split("\n")
    at = _insertion_point(lines, name)
    inserted, expected = [], []
    for offset, (rule, sentence) in enumerate(_deflections(language)):
        text = (
            f"<p>{html.escape(sentence, quote=False)}</p>"
            if name.endswith(".html.j2")
            else sentence
        )
        inserted += ["", text]
        expected.append((at + 2 * offset + 2, rule, sentence))
    path.write_text("\n".join(lines[:at] + inserted + lines[at:]), encoding="utf-8")
    # the rules find every one, at its own line, through the template's reading
    problems = lint_templates(templates, (language,), DEFAULT_QUEUES, language, model="off")
    reported = {(p.line, p.rule) for p in problems if p.path == path}
    missed = [(line, rule, s) for line, rule, s in expected if (line, rule) not in reported]
    assert missed == []
    # with the shipped model nothing disappears unexplained: a finding it vetoes is listed
    # by `lint --explain`; which ones it vetoes is pinned, so a change shows here
    judged_run = run_linter(templates, (language,), DEFAULT_QUEUES, language)
    reported = {(p.line, p.rule) for p in judged_run.found.values() if p.path == path}
    vetoed = {v.sentence for v in judged_run.vetoes()}
    missed = [s for line, rule, s in expected if (line, rule) not in reported]
    assert all(s in vetoed for s in missed)
    assert set(missed) == KNOWN_VETOES.get(language, set())


# The one corpus deflection (of 228) the shipped model vetoes: its "sua" reads as ownership
# (p = 0.39). Stated in templates/README.md; listed by `lint --explain`.
KNOWN_VETOES = {"pt": {"Clique aqui para acompanhar a sua encomenda por conta própria."}}


def test_every_broken_template_is_reported_at_its_line(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    broken: dict[Path, int] = {}
    for name in SHIPPED:
        path = templates / name
        lines = path.read_text(encoding="utf-8").rstrip("\n").split("\n")
        path.write_text("\n".join([*lines, "{{ reference | }}", ""]), encoding="utf-8")
        broken[path] = len(lines) + 1
    problems = lint_templates(templates, LANGUAGES, DEFAULT_QUEUES, "en")
    syntax = {(p.path, p.line) for p in problems if p.rule == "syntax"}
    assert syntax == set(broken.items())
