"""Issue #10's findings that need no mail server: config, echoed text, forged senders,
template bombs, language on short mails, ledger keys, retention, a full disk."""

from __future__ import annotations

import sqlite3
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

from responder import config as config_module
from responder.cli import main
from responder.errors import ConfigError, TemplateError
from responder.pipeline.decide import Pipeline
from responder.pipeline.language import detect
from responder.pipeline.parse import parse
from responder.pipeline.render import TemplateSet
from responder.service.ledger import Ledger, NewMessage

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("en", "es", "nl", "de", "fr", "pt")


# --- 6: every value validated at load, one line each ---


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("RESPONDER_REPLY_TIMEZONE", "Europe/Amsterdm", "not an IANA time zone"),
        ("RESPONDER_IMAP_TIMEOUT", "nan", "finite"),
        ("RESPONDER_IMAP_TIMEOUT", "inf", "finite"),
        ("RESPONDER_IMAP_PORT", "3.9", "whole number"),
        ("RESPONDER_LIMITS_GLOBAL_PER_HOUR", "0", "at least 1"),
        ("RESPONDER_LIMITS_PER_SENDER", "0", "at least 1"),
        ("RESPONDER_SERVICE_LOG_LEVEL", "CHATTY", "must be one of"),
        ("RESPONDER_SERVICE_RETENTION_DAYS", "0", "at least 1"),
    ],
)
def test_a_bad_value_is_one_line_naming_its_key(variable: str, value: str, words: str) -> None:
    with pytest.raises(ConfigError) as error:
        config_module.load(None, {variable: value})
    assert words in str(error.value) and "\n" not in str(error.value)


def test_a_fractional_port_in_toml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    path.write_text("[imap]\nport = 3.9\n")
    with pytest.raises(ConfigError, match=r"imap\.port: expected a whole number"):
        config_module.load(path, {})


@pytest.mark.parametrize(
    "host", ["127.attacker.example", "127.0.0.1.nip.example", "localhost.evil"]
)
def test_plain_is_refused_for_names_that_only_look_like_loopback(host: str) -> None:
    with pytest.raises(ConfigError, match="only on loopback"):
        config_module.load(None, {"RESPONDER_IMAP_HOST": host, "RESPONDER_IMAP_SECURITY": "plain"})


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost"])
def test_plain_is_allowed_on_real_loopback(host: str) -> None:
    config = config_module.load(
        None, {"RESPONDER_IMAP_HOST": host, "RESPONDER_IMAP_SECURITY": "plain"}
    )
    assert config.imap.host == host


def test_inspect_with_a_bad_timezone_is_one_line_not_a_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    eml = ROOT / "tests" / "fixtures" / "route" / "en_billing_invoice_company_details.eml"
    monkeypatch.setenv("RESPONDER_REPLY_TIMEZONE", "Mars/Olympus")
    assert main(["inspect", str(eml)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("responder: reply.timezone") or "RESPONDER_REPLY_TIMEZONE" in err
    assert "Traceback" not in err and err.count("\n") == 1


# --- 7: what we echo, and forged senders ---


def test_echoed_subject_is_short_and_carries_no_link() -> None:
    from responder.pipeline.echo import MAX_SUBJECT, safe_subject

    subject = (
        "Verify your account at https://evil.example/login or write to help@evil.example "
        + "x" * 4000
    )
    echoed = safe_subject(subject)
    assert len(echoed) <= MAX_SUBJECT
    assert "evil.example" not in echoed and "http" not in echoed and "@" not in echoed


def test_echoed_name_is_short_and_carries_no_link() -> None:
    from responder.pipeline.echo import MAX_NAME, safe_name

    echoed = safe_name("Security Team - visit secure-login.bank.example now " + "y" * 200)
    assert len(echoed) <= MAX_NAME and "bank.example" not in echoed


def test_ordinary_subjects_are_untouched() -> None:
    from responder.pipeline.echo import safe_subject

    for subject in (
        "Order 4411: parcel missing",
        "Factura nº 2231 — importe incorrecto",
        "invoice.pdf is wrong",
    ):
        assert safe_subject(subject) == subject


def _mail(subject: str, name: str = "Alex", auth: str | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = f"{name} <alex@customer.example>"
    message["To"] = "support@example.test"
    message["Subject"] = subject
    message["Message-ID"] = "<m1@customer.example>"
    if auth:
        message["Authentication-Results"] = auth
    message.set_content("Hello, my parcel has not arrived. Could you check where it is, please?")
    return message.as_bytes()


def test_the_acknowledgment_repeats_no_link_from_a_forged_subject() -> None:
    pipeline = Pipeline(config_module.load(None, {}))
    decision = pipeline.decide(
        _mail("Claim your prize at www.prize.example " + "z" * 4000, "Prize http://x.example")
    )
    assert decision.reply is not None
    assert "prize.example" not in decision.reply.as_bytes().decode("utf-8", "replace")
    assert len(decision.reply.subject) < 120 + 40


@pytest.mark.parametrize(
    ("header", "acknowledged"),
    [
        ("mx.example.test; dmarc=fail header.from=customer.example; spf=pass", False),
        ("mx.example.test; spf=fail smtp.mailfrom=customer.example", False),
        ("mx.example.test; dmarc=pass; spf=fail", True),  # forwarded, DKIM-aligned: genuine
        ("mx.example.test; spf=pass; dkim=pass", True),
        ("attacker.example; dmarc=fail", True),  # not our server: not believed
    ],
)
def test_dmarc_or_spf_failure_from_our_server_means_no_ack(header: str, acknowledged: bool) -> None:
    config = config_module.load(None, {"RESPONDER_MAILBOX_TRUSTED_AUTHSERV_IDS": "mx.example.test"})
    decision = Pipeline(config).decide(_mail("Parcel missing", auth=header))
    assert decision.auto_reply is acknowledged
    if not acknowledged:
        assert decision.reason == "unauthenticated" and decision.queue == "orders"


# --- 8: template bombs, short mails, ledger keys, retention, a full disk ---


@pytest.mark.parametrize(
    "bomb",
    [
        '{{ "x" * 500000000 }}',
        "{{ 10 ** 100000000 }}",
        '{{ "%900000000s" % "x" }}',
        '{{ "x"|center(900000000) }}',
        "{% for i in range(100000000) %}{% endfor %}",
        '{% for i in range(9000) %}{{ "y" * 20 }}{% endfor %}',
    ],
)
def test_a_template_bomb_fails_fast_and_small(tmp_path: Path, bomb: str) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "ack.txt.j2").write_text(bomb)
    started = time.monotonic()
    with pytest.raises(TemplateError):
        TemplateSet(tmp_path, "en").render("en/ack.txt.j2", {})
    assert time.monotonic() - started < 3


def test_lint_reports_a_template_bomb_as_an_error(tmp_path: Path) -> None:
    import shutil

    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    with (templates / "en" / "ack.txt.j2").open("a") as handle:
        handle.write('{{ "x" * 500000000 }}\n')
    started = time.monotonic()
    assert main(["lint", "--templates", str(templates)]) == 1
    assert time.monotonic() - started < 30


@pytest.mark.parametrize(
    "text",
    [
        "Help\nHi, order 4411 missing. Thanks, Tom",
        "Hi\nRefund please.",
        "Invoice\nHi Anna, 2231 wrong. Tom",
    ],
)
def test_a_two_line_english_mail_is_answered_in_the_default_language(text: str) -> None:
    assert detect(text, LANGUAGES, "en") == "en"


def test_clear_short_mails_still_get_their_language() -> None:
    assert detect("Bestelling\nWaar blijft mijn pakket?", LANGUAGES, "en") == "nl"
    assert detect("Bestellung\nHallo, wo ist meine Bestellung?", LANGUAGES, "en") == "de"


def test_a_reused_message_id_is_a_new_message() -> None:
    def mail(sender: str, subject: str) -> bytes:
        return f"From: {sender}\r\nSubject: {subject}\r\nMessage-ID: <same@form.example>\r\n\r\nhi\r\n".encode()

    first, second = parse(mail("a@x.example", "Invoice")), parse(mail("b@y.example", "Parcel"))
    again = parse(mail("a@x.example", "Invoice"))
    assert first.key != second.key and first.key == again.key
    assert first.key.startswith("<same@form.example> ")


def _record(ledger: Ledger, key: str, arrived: float) -> None:
    ledger.record(
        NewMessage(
            key=key, uidvalidity=1, uid=1, decision="reply", reason=None, queue="orders",
            priority=False, language="en", reference="REF", conversation="REF",
            sender="a@x.example", subject_norm="s", folder="Queues/orders",
            ack_message_id=f"<{key}@ack>", ack_to="a@x.example", ack_bytes=b"body",
        ),
        now=arrived,
    )  # fmt: skip


def test_retention_drops_old_acknowledgment_bodies_only(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    now = time.time()
    with ledger.transaction():
        _record(ledger, "old", now - 100 * 86400)
        _record(ledger, "new", now - 86400)
        ledger.mark_sent(["old", "new"])
        ledger.mark_copied(["old", "new"])
        assert ledger.prune_ack_bodies(now - 90 * 86400) == 1
    bodies = dict(ledger.db.execute("SELECT key, ack_bytes FROM messages").fetchall())
    assert bodies == {"old": None, "new": b"body"}
    assert ledger.get("old") is not None  # the decision stays
    ledger.close()


def test_a_full_disk_is_one_line_and_exit_75(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from responder.service import daemon
    from responder.service.loop import Service

    def full(self: Service, once: bool = False) -> int:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(Service, "run", full)
    config = config_module.load(None, {"RESPONDER_STATE_DIR": str(tmp_path / "state")})
    assert daemon.run(config) == daemon.EX_TEMPFAIL
    lines = [r for r in caplog.records if "disk" in r.getMessage()]
    assert len(lines) == 1 and "full" in lines[0].getMessage()
