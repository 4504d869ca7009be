"""The held-out batch of issue #11 and the rules its first run led to.

tests/test_guard_machine.py decides every corpus file (the held-out rows included) and every
near-miss; here: the batch is what HELDOUT.md says it is, and each fix has a twin that must
still be answered once the machine mark is taken away.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from responder import config
from responder.pipeline.decide import Pipeline
from responder.pipeline.guard import load_phrasebook
from responder.pipeline.textnorm import fold

MACHINE = Path(__file__).parent / "fixtures" / "machine"
ROWS: list[dict[str, Any]] = tomllib.loads((MACHINE / "SOURCES.toml").read_text("utf-8"))["message"]
HELDOUT = [row for row in ROWS if row.get("heldout")]


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    base = config.load(None, environ={})
    return Pipeline(
        dataclasses.replace(
            base, mailbox=dataclasses.replace(base.mailbox, aliases=("help@example.test",))
        )
    )


def test_heldout_batch_is_real_listed_and_documented() -> None:
    assert len(HELDOUT) >= 80
    assert all(not row["synthesised"] and row["origin"] for row in HELDOUT)
    table = (MACHINE / "HELDOUT.md").read_text("utf-8")
    documented = set(re.findall(r"^\| `([^`]+\.eml)` \|", table, re.MULTILINE))
    assert documented == {row["file"] for row in HELDOUT}
    first_run_answered = {"bluebottle_challenge", "email-apachejames-01", "email-fml-01"}
    assert {Path(f).stem for f in documented} >= first_run_answered


def _mail(*headers: str, body: str = "Hello, where is my order 4411?") -> bytes:
    base = ["To: support@example.test", "Subject: Re: Test", "Message-ID: <t-9@example.org>"]
    return ("\r\n".join([*headers, *base, "", body, ""])).encode("utf-8")


PERSON = "From: Nora Quist <nora.quist@example.org>"


@pytest.mark.parametrize(
    "header",
    [
        "X-MLServer: fml [fml 4.0.3 release (20011202/4.0.3)]",
        "X-ML-Name: 2ndml",
        "Mailing-List: contact shop-help@example.org; run by ezmlm",
        "X-Mailman-Version: 2.1.39",
        "X-Bluebottle-Request: <1234>",
    ],
)
def test_robot_header(pipeline: Pipeline, header: str) -> None:
    assert pipeline.decide(_mail(PERSON, header)).reason == "robot-header"


def test_robot_header_twins_without_the_header_are_answered(pipeline: Pipeline) -> None:
    for name in ("bounceparser_ho/bluebottle_challenge.eml", "sisimai_ho/email-fml-01.eml"):
        raw = (MACHINE / name).read_text("utf-8")
        twin = re.sub(
            r"^X-(Bluebottle-[\w-]+|MLServer|Trusted-Delivery): .*\n", "", raw, flags=re.M
        )
        twin = re.sub(r"^From: .*$", PERSON, twin, count=1, flags=re.M)
        envelope = "Return-Path: <nora.quist@example.org>"
        twin = re.sub(r"^Return-Path: .*$", envelope, twin, count=1, flags=re.M)
        decision = pipeline.decide(twin.encode("utf-8"))
        assert decision.auto_reply, (name, decision.reason, decision.evidence)


@pytest.mark.parametrize(
    "sender",
    [
        "From: post_master@vtext.example.com",
        "From: Mailer.Daemon@mx.example.net",
        "From: MAILER_DAEMON@mx.example.net",
        "From: Post-Master@mx.example.net",
    ],
)
def test_system_sender_whatever_the_separators(pipeline: Pipeline, sender: str) -> None:
    assert pipeline.decide(_mail(sender)).reason == "system-sender"


@pytest.mark.parametrize("return_path", ["<post_master@mx.example.net>", "<mailer.daemon@x.org>"])
def test_system_return_path_whatever_the_separators(pipeline: Pipeline, return_path: str) -> None:
    raw = _mail(f"Return-Path: {return_path}", PERSON)
    assert pipeline.decide(raw).reason == "system-return-path"


@pytest.mark.parametrize(
    "sender",
    [
        "From: Post Master Tailors <postmaster.tailors@example.org>",
        "From: Ana Postmasters <ana.postmasters@example.org>",
        "From: Mailer <mailer.daemon.fan@example.org>",
    ],
)
def test_system_names_inside_a_longer_local_part_are_people(
    pipeline: Pipeline, sender: str
) -> None:
    decision = pipeline.decide(_mail(sender))
    assert decision.reason != "system-sender", decision.evidence


def test_exchange_arbitration_mailbox_is_a_delivery_system(pipeline: Pipeline) -> None:
    sender = "From: Exchange <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@corp.example>"
    assert pipeline.decide(_mail(sender)).reason == "delivery-system-sender"


@pytest.mark.parametrize(
    ("kind", "subject"),
    [
        ("bounce", "Niedostarczalne: Zamówienie"),
        ("bounce", "Недоставляемое: Заказ"),
        ("bounce", "Kézbesíthetetlen: Rendelés"),
        ("bounce", "无法送达: 订单"),
        ("autoreply", "Automatikus válasz: Rendelés"),
        ("autoreply", "Αυτόματη απάντηση: Παραγγελία"),
        ("autoreply", "Răspuns automat: Comanda"),
        ("autoreply", "自动答复: 订单"),
        ("autoreply", "자동 회신: 주문"),
    ],
)
def test_exchange_subjects_in_more_languages(kind: str, subject: str) -> None:
    book = load_phrasebook()
    phrases = book.bounce_subject if kind == "bounce" else book.autoreply_subject
    assert phrases.find(fold(subject)), subject


def test_a_new_language_subject_alone_is_content_only(pipeline: Pipeline) -> None:
    decision = pipeline.decide(_mail(PERSON).replace(b"Re: Test", "自动答复: 订单".encode()))
    assert decision.auto_reply, decision.evidence
    assert {e.rule for e in decision.evidence} == {"content-only"}


@pytest.mark.parametrize("row", ROWS, ids=[row["file"] for row in ROWS])
def test_refused_behind_a_forwarder_too(pipeline: Pipeline, row: dict[str, Any]) -> None:
    """A help desk fed through a forwarder sees the forwarder's envelope (SRS), not <>."""
    raw = (MACHINE / row["file"]).read_bytes()
    raw = re.sub(rb"^Return-Path:.*\r?\n", b"", raw, flags=re.MULTILINE | re.IGNORECASE)
    raw = b"Return-Path: <SRS0=ab12=CD=example.org=fwd@forwarder.example.net>\n" + raw
    decision = pipeline.decide(raw)
    assert not decision.auto_reply, (row["file"], decision.evidence)


def test_an_unsplittable_multipart_is_still_read(pipeline: Pipeline) -> None:
    """Apache James writes `boundary=` on an unfolded line: parse splits the part by its
    delimiter lines, so the guard reads the text. A person sending it is answered, with the
    phrase as evidence."""
    raw = (MACHINE / "sisimai_ho/email-apachejames-01.eml").read_text("utf-8")
    twin = re.sub(r"^From: .*$", PERSON, raw, count=1, flags=re.MULTILINE)
    decision = pipeline.decide(twin.encode("utf-8"))
    assert decision.auto_reply
    assert ("content-only", "body", "no such user") in {
        (e.rule, e.where, e.matched) for e in decision.evidence
    }
