"""The acknowledgment's headers and body: RFC 3834, threading, no injection, the sandbox."""

from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from responder import config
from responder.pipeline.decide import Pipeline, reference_for
from responder.pipeline.routing import build_router

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    router = build_router(
        {"rule": [{"queue": "billing", "keywords": {"es": ["factur*"], "en": ["invoice*"]}}]}
    )
    return Pipeline(config.load(None, environ={}), router=router)


def _mail(subject: str, body: str = "Hello, my invoice is wrong.", extra: str = "") -> bytes:
    return (
        f"From: Ana Gómez <ana@example.com>\r\nTo: support@example.test\r\nSubject: {subject}\r\n"
        f"Message-ID: <m2@example.com>\r\nReferences: <m0@example.com> <m1@example.com>\r\n{extra}"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


def test_reply_headers(pipeline: Pipeline) -> None:
    decision = pipeline.decide(_mail("Invoice 42 is wrong"), now=NOW)
    assert decision.reply is not None
    headers = decision.reply.headers
    assert decision.reply.to == "ana@example.com"
    assert headers["Subject"].startswith("Re: Invoice 42 is wrong")
    assert headers["In-Reply-To"] == "<m2@example.com>"
    assert headers["References"] == "<m0@example.com> <m1@example.com> <m2@example.com>"
    assert headers["Auto-Submitted"] == "auto-replied"
    assert headers["X-Auto-Response-Suppress"] == "All"
    assert headers["Message-ID"].endswith("@example.test>")
    assert headers["Content-Language"] == "en"
    assert headers["Date"] == "Mon, 23 Nov 2026 10:00:00 +0000"


def test_serialised_reply_has_every_header_once(pipeline: Pipeline) -> None:
    decision = pipeline.decide(_mail("Invoice"), now=NOW)
    assert decision.reply is not None
    parsed = message_from_bytes(decision.reply.as_bytes(), policy=policy.default)
    for name in (
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "In-Reply-To",
        "References",
        "Auto-Submitted",
        "X-Auto-Response-Suppress",
        "Content-Language",
    ):
        assert len(parsed.get_all(name) or []) == 1, name
    assert parsed["To"].addresses[0].display_name == "Ana Gómez"
    assert "Ana Gómez" in parsed.get_content()  # greeted by name


def test_template_syntax_in_the_subject_comes_back_literally(pipeline: Pipeline) -> None:
    decision = pipeline.decide(_mail("{{ 7*7 }} {% for x in range(3) %}x{% endfor %}"), now=NOW)
    assert decision.reply is not None
    assert "{{ 7*7 }}" in decision.reply.subject and "49" not in decision.reply.subject
    assert "{{ 7*7 }}" in decision.reply.body and "49" not in decision.reply.body


def test_reply_to_is_answered_not_from(pipeline: Pipeline) -> None:
    decision = pipeline.decide(
        _mail("Invoice", extra="Reply-To: <ana.work@example.org>\r\n"), now=NOW
    )
    assert decision.reply is not None and decision.reply.to == "ana.work@example.org"


def test_reference_is_stable_and_readable() -> None:
    assert reference_for("<a@b>") == reference_for("<a@b>")
    assert reference_for("<a@b>") != reference_for("<a@c>")
    assert len(reference_for("<a@b>")) == 8
    assert not set(reference_for("<a@b>")) & set("01OIL")


def test_spanish_mail_gets_a_spanish_reply(pipeline: Pipeline) -> None:
    decision = pipeline.decide(
        _mail(
            "Factura duplicada",
            "Hola, me han cobrado la factura dos veces este mes y necesito ayuda.",
        ),
        now=NOW,
    )
    assert decision.language == "es" and decision.queue == "billing"
    assert decision.reply is not None and decision.reply.headers["Content-Language"] == "es"
    assert "de noviembre" in decision.reply.body  # the deadline's date, localised by Babel


def test_missing_message_id_means_no_in_reply_to(pipeline: Pipeline) -> None:
    raw = (
        b"From: ana@example.com\r\nSubject: hi there\r\n\r\nHello, I need help with my account.\r\n"
    )
    decision = pipeline.decide(raw, now=NOW)
    assert decision.reply is not None
    assert "In-Reply-To" not in decision.reply.headers
    assert "References" not in decision.reply.headers


def test_sandbox_blocks_unsafe_template(tmp_path: Path, pipeline: Pipeline) -> None:
    from responder.errors import TemplateError
    from responder.pipeline.render import TemplateSet

    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "ack.txt.j2").write_text("{{ subject.__class__.__mro__ }}", encoding="utf-8")
    templates = TemplateSet(tmp_path, "en")
    with pytest.raises(TemplateError, match="SecurityError"):
        templates.render("en/ack.txt.j2", {"subject": "x"})
