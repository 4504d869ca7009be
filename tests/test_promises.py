"""Pure parts of promises: evidence verdicts on real headers, and the update templates."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from responder.config import Config, PromisesConfig
from responder.lint.run import DEFAULT_QUEUES, lint_templates
from responder.service.evidence import Recorder, read_header
from responder.service.ladder_mail import LadderMail
from responder.service.ledger import Ledger
from responder.service.promises import NewPromise, PromiseBook
from responder.service.watcher import SeenMessage

ROOT = Path(__file__).resolve().parent.parent
EVIDENCE = ROOT / "tests" / "fixtures" / "evidence"
TEMPLATES = ROOT / "templates"
LANGUAGES = ("en", "es", "nl", "de", "fr", "pt")
MADE = datetime(2026, 3, 27, 14, 0, tzinfo=UTC).timestamp()


@pytest.fixture
def book(tmp_path: Path) -> PromiseBook:
    ledger = Ledger.in_state_dir(tmp_path)
    ledger.db.execute(
        "INSERT INTO thread_ids VALUES ('<promise-billing-1@example.com>', 'QW5DNRMT')"
    )
    ledger.db.execute(
        "INSERT INTO messages (key, decision, queue, ack_message_id, arrived_at)"
        " VALUES ('<promise-billing-1@example.com>', 'reply', 'billing', '<ack.1@example.test>', 0)"
    )
    book = PromiseBook(ledger.db)
    book.add(
        NewPromise(
            message_key="<promise-billing-1@example.com>",
            message_id="promise-billing-1@example.com",
            conversation="QW5DNRMT",
            queue="billing",
            priority=False,
            language="de",
            customer="anna@example.com",
            customer_name="Anna Schmidt",
            subject="Charged twice for my invoice",
            calendar="always",
            window=4 * 3600,
            made_at=MADE,
            due_at=MADE + 4 * 3600,
            text="...",
            sent_message_id="<ack.1@example.test>",
            warn_due=MADE + 3 * 3600,
            notify_due=MADE + 3.6 * 3600,
            update_due=MADE + 3.8 * 3600,
        )
    )
    return book


def recorder(book: PromiseBook) -> Recorder:
    promises = PromisesConfig(agent_addresses=("agent@example.test",))
    return Recorder(Config(promises=promises), book, ["Sent"])


@pytest.mark.parametrize(
    ("name", "folder", "counts"),
    [
        ("sent-threaded-reply.eml", "Sent", True),
        ("sent-threaded-reply.eml", "Queues/billing", True),  # ours, by a person, filed there
        ("agent-cc-support.eml", "INBOX", True),  # tied by [#REF] in the subject
        ("agent-cc-support.eml", "Queues/billing", True),
        ("agent-bcc-support.eml", "Queues/billing", True),  # customer address in capitals
        ("internal-forward.eml", "INBOX", False),  # the customer is not a recipient
        ("internal-forward.eml", "Sent", False),
        ("our-update.eml", "Sent", False),  # our own automatic mail
        ("our-update.eml", "Auto-Replies", False),
        ("own-address-bcc.eml", "Auto-Replies", True),  # a person, from the support address
        ("stranger-threaded.eml", "INBOX", False),  # not an agent
    ],
)
def test_strong_evidence(book: PromiseBook, name: str, folder: str, counts: bool) -> None:
    verdict = recorder(book).strong(folder, read_header((EVIDENCE / name).read_bytes()))
    assert (verdict is not None) == counts
    if verdict is not None:
        assert verdict[0] == "QW5DNRMT"


def test_answered_flag_is_weak_and_never_undoes_kept(book: PromiseBook) -> None:
    keeper = recorder(book)
    flagged = SeenMessage(
        "Queues/billing", 7, "promise-billing-1@example.com", frozenset({"\\Answered"}), b"", False
    )
    assert keeper.observe([flagged], MADE + 60) == []
    assert book.all()[0].state == "answered-unverified"
    reply = (EVIDENCE / "sent-threaded-reply.eml").read_bytes()
    seen = SeenMessage("Sent", 3, "agent-reply-1@example.test", frozenset(), reply, True)
    assert keeper.observe([seen], MADE + 120) == [1]
    assert keeper.observe([seen, flagged], MADE + 180) == []  # reported again: idempotent
    (promise,) = book.all()
    assert promise.state == "kept" and promise.answered_at == MADE + 60


def test_update_templates_pass_lint_in_six_languages() -> None:
    problems = lint_templates(TEMPLATES, LANGUAGES, DEFAULT_QUEUES, "en")
    assert [p for p in problems if "update" in p.path.name] == []
    assert all((TEMPLATES / lang / "update.txt.j2").is_file() for lang in LANGUAGES)


@pytest.mark.parametrize(
    ("old", "new", "rule"),
    [
        ("{{ senior }}, a senior\nmember of the team,", "{{ senior }}", "missing/senior"),
        (
            "The honest reason is",
            "Due to the high volume of requests, which is our policy, the reason is",
            "deflection",
        ),
    ],
)
def test_a_bad_update_template_is_caught(tmp_path: Path, old: str, new: str, rule: str) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    path = templates / "en" / "update.txt.j2"
    source = path.read_text(encoding="utf-8")
    assert old in source
    path.write_text(source.replace(old, new), encoding="utf-8")
    problems = lint_templates(templates, ("en",), DEFAULT_QUEUES, "en")
    assert any(p.path == path and p.rule.startswith(rule) for p in problems), problems


@pytest.mark.parametrize("language", LANGUAGES)
def test_update_names_the_senior_the_old_and_the_new_deadline(
    book: PromiseBook, language: str
) -> None:
    promise = dataclasses.replace(book.all()[0], language=language)
    new_due = datetime(2026, 3, 30, 14, 0, tzinfo=UTC)
    reply = LadderMail(Config()).update(
        promise, new_due, timedelta(hours=4), "Maria Keller", "Europe/Berlin", MADE + 3.8 * 3600
    )
    assert reply.headers["Content-Language"] == language
    assert reply.headers["In-Reply-To"] == "<promise-billing-1@example.com>"
    assert reply.headers["Auto-Submitted"] == "auto-generated"
    assert reply.subject.endswith("[#QW5DNRMT]")
    assert reply.body.count("Maria Keller") >= 2 and "QW5DNRMT" in reply.body
    assert "16:00 CEST" in reply.body  # the new deadline, Berlin time
    assert "19:00 CET" in reply.body  # the promise we will not keep (Friday, before DST)


def test_a_follow_up_note_repeats_the_open_promise_and_makes_no_new_one(tmp_path: Path) -> None:
    from responder.config import LimitsConfig
    from responder.pipeline.decide import Pipeline
    from responder.service.conversation import History
    from responder.service.ledger import NewMessage

    config = Config(limits=LimitsConfig(follow_up_note=True))
    ledger = Ledger.in_state_dir(tmp_path)
    ledger.record(
        NewMessage(
            key="<promise-billing-1@example.com>",
            uidvalidity=1,
            uid=1,
            decision="reply",
            reason=None,
            queue="billing",
            priority=False,
            language="en",
            reference="QW5DNRMT",
            conversation="QW5DNRMT",
            sender="anna@example.com",
            subject_norm="charged twice",
            folder="Queues/billing",
            thread_ids=("<promise-billing-1@example.com>",),
            ack_message_id="<ack.1@example.test>",
            ack_to="anna@example.com",
            ack_bytes=b"x",
        ),
        MADE,
    )
    due = MADE + 3 * 86400
    PromiseBook(ledger.db).add(
        NewPromise(
            message_key="<promise-billing-1@example.com>",
            message_id="promise-billing-1@example.com",
            conversation="QW5DNRMT",
            queue="billing",
            priority=False,
            language="en",
            customer="anna@example.com",
            customer_name="Anna",
            subject="Charged twice",
            calendar="always",
            window=4 * 3600,
            made_at=MADE,
            due_at=due,
            text="...",
            sent_message_id="<ack.1@example.test>",
            warn_due=None,
            notify_due=None,
            update_due=None,
        )
    )
    follow_up = (
        b"From: Anna <anna@example.com>\r\nTo: support@example.test\r\n"
        b"Subject: Re: Charged twice [#QW5DNRMT]\r\nMessage-ID: <f2@example.com>\r\n"
        b"In-Reply-To: <ack.1@example.test>\r\nReferences: <promise-billing-1@example.com>"
        b" <ack.1@example.test>\r\n\r\nAny news? I am still waiting for my refund.\r\n"
    )
    now = datetime.fromtimestamp(MADE + 3600, UTC)
    decision = Pipeline(config).decide(follow_up, now=now, history=History(ledger, config.limits))
    assert decision.follow_up and decision.reply is not None
    assert decision.respond_by == datetime.fromtimestamp(due, UTC)  # the same promise, repeated
    assert "March 30" in decision.reply.body  # Monday 30 March 14:00 UTC, not now + 4 h
    from responder.service.escalation import PromiseKeeper

    keeper = PromiseKeeper(config, ledger, ("billing",), clock=lambda: MADE + 3600)
    keeper.record_ack(decision)
    assert len(PromiseBook(ledger.db).all()) == 1


def test_promise_queue_names_are_checked_against_the_routing_queues() -> None:
    """A misspelt [promises.queues] name would silently keep the default window."""
    from responder import config as config_module
    from responder.errors import ConfigError
    from responder.pipeline.decide import Pipeline

    base = config_module.load(None, environ={})
    known = dataclasses.replace(
        base, promises=dataclasses.replace(base.promises, queues={"billing": {"window": "2h"}})
    )
    assert Pipeline(known).router.queues  # a routing queue, and "priority", are accepted
    misspelt = dataclasses.replace(
        base, promises=dataclasses.replace(base.promises, queues={"biling": {"window": "2h"}})
    )
    with pytest.raises(ConfigError, match=r"promises\.queues\.biling.*no such queue"):
        Pipeline(misspelt)
