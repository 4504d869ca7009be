"""Conversation identity and caps, against a real ledger file (no mail servers needed)."""

import time
from pathlib import Path

import pytest

from responder.config import LimitsConfig
from responder.pipeline.decide import Pipeline
from responder.pipeline.parse import parse
from responder.pipeline.threads import normalize_subject
from responder.service.conversation import History
from responder.service.ledger import Ledger, NewMessage


@pytest.mark.parametrize(
    "subject",
    [
        "Re: My parcel is late",
        "RE: RE: my parcel is LATE",
        "AW: Re: My parcel is late",
        "VS: SV: My parcel is late",
        "Antw: RV: Réf: My parcel is late",
        "Fwd: WG: TR: Enc: My parcel is late",
        "Re[2]: My parcel is late",
        "[Ticket] Re: My parcel is late [#ABCDEFGH]",
        "  re :  My  parcel is late",
    ],
)
def test_prefixes_in_many_languages_normalise_away(subject: str) -> None:
    assert normalize_subject(subject) == "my parcel is late"


def test_normalisation_keeps_a_subject_that_only_looks_like_a_prefix() -> None:
    assert normalize_subject("Refund please") == "refund please"
    assert normalize_subject("Trouble with login") == "trouble with login"


def _record(
    ledger: Ledger,
    key: str,
    sender: str,
    subject: str,
    *,
    conversation: str,
    now: float,
    ack: str | None = "<ack@example.test>",
    priority: bool = False,
    queue: str = "orders",
) -> None:
    with ledger.transaction():
        ledger.record(
            NewMessage(
                key=key,
                uidvalidity=1,
                uid=1,
                decision="reply" if ack else "follow-up",
                reason=None,
                queue=queue,
                priority=priority,
                language="en",
                reference=conversation,
                conversation=conversation,
                sender=sender,
                subject_norm=normalize_subject(subject),
                folder=f"Queues/{queue}",
                thread_ids=(key,),
                ack_message_id=ack,
                ack_to=sender if ack else None,
                ack_bytes=b"x" if ack else None,
            ),
            now=now,
        )


def _first_conversation(tmp_path: Path, now: float, priority: bool = False) -> Ledger:
    """A ledger holding Ana's acknowledged conversation ABCDEFGH about a late parcel."""
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    _record(
        ledger,
        "<first@example.com>",
        "ana@example.com",
        "My parcel is late",
        conversation="ABCDEFGH",
        now=now,
        ack="<ack1@example.test>",
        priority=priority,
    )
    return ledger


@pytest.fixture
def history(tmp_path: Path) -> History:
    ledger = _first_conversation(tmp_path, now=1000.0, priority=True)
    return History(ledger, LimitsConfig(per_sender=2, per_sender_window=3600, thread_window=86400))


def _mail(headers: str) -> bytes:
    return f"From: Ana <ana@example.com>\r\n{headers}\r\n\r\nhello\r\n".encode()


def test_reply_to_our_acknowledgment_is_a_follow_up(history: History) -> None:
    found = history.consult(
        parse(_mail("Subject: VS: whatever\r\nIn-Reply-To: <ack1@example.test>")),
        "ana@example.com",
        2000.0,
    )
    assert found.thread is not None
    assert (found.thread.conversation, found.thread.queue, found.thread.priority) == (
        "ABCDEFGH",
        "orders",
        True,
    )


def test_reference_in_subject_is_a_follow_up_from_anyone(history: History) -> None:
    found = history.consult(
        parse(_mail("Subject: new words [#ABCDEFGH]")), "other@example.org", 2000.0
    )
    assert found.thread is not None and found.thread.conversation == "ABCDEFGH"


def test_same_sender_same_subject_within_the_window(history: History) -> None:
    found = history.consult(
        parse(_mail("Subject: AW: My parcel is late")), "ana@example.com", 2000.0
    )
    assert found.thread is not None
    later = history.consult(
        parse(_mail("Subject: AW: My parcel is late")), "ana@example.com", 1000.0 + 90000
    )
    assert later.thread is None


def test_same_subject_from_another_customer_is_a_new_conversation(history: History) -> None:
    found = history.consult(parse(_mail("Subject: My parcel is late")), "bob@example.net", 2000.0)
    assert found.thread is None and found.cap is None


def test_per_sender_cap(history: History) -> None:
    _record(
        history.ledger,
        "<second@example.com>",
        "ana@example.com",
        "Another thing",
        conversation="BBBBBBBB",
        now=1500.0,
        ack="<ack2@example.test>",
    )
    found = history.consult(parse(_mail("Subject: A third topic")), "ana@example.com", 2000.0)
    assert found.cap == "sender-cap"
    assert (
        history.consult(parse(_mail("Subject: A third topic")), "ana@example.com", 9000.0).cap
        is None
    )


def _pipeline_with_history(tmp_path: Path, note: bool) -> tuple[Pipeline, History]:
    import dataclasses

    from responder import config

    base = config.load(None, environ={})
    limits = dataclasses.replace(base.limits, follow_up_note=note)
    pipeline = Pipeline(dataclasses.replace(base, limits=limits))
    return pipeline, History(_first_conversation(tmp_path, now=time.time()), limits)


FOLLOW_UP = (
    b"From: Ana <ana@example.com>\r\nSubject: Re: My parcel is late\r\n"
    b"Message-ID: <second@example.com>\r\nIn-Reply-To: <ack1@example.test>\r\n\r\n"
    b"Any news? It is getting urgent.\r\n"
)


def test_follow_up_gets_no_second_acknowledgment_by_default(tmp_path: Path) -> None:
    pipeline, history = _pipeline_with_history(tmp_path, note=False)
    decision = pipeline.decide(FOLLOW_UP, history=history)
    assert (decision.auto_reply, decision.reason, decision.follow_up) == (False, "follow-up", True)
    assert decision.queue == "orders" and decision.reference == "ABCDEFGH"


def test_follow_up_note_when_configured(tmp_path: Path) -> None:
    pipeline, history = _pipeline_with_history(tmp_path, note=True)
    decision = pipeline.decide(FOLLOW_UP, history=history)
    assert (decision.auto_reply, decision.reason, decision.follow_up) == (True, None, True)
    assert decision.reply is not None
    assert "ABCDEFGH" in decision.reply.subject and "ABCDEFGH" in decision.reply.body
    assert decision.reply.headers["In-Reply-To"] == "<second@example.com>"


def test_batches_are_bounded_by_count_and_bytes() -> None:
    from responder.service.loop import batches

    sizes = {1: 10, 2: 10, 3: 50, 4: 10, 5: 100, 6: 10}
    assert list(batches([1, 2, 3, 4, 5, 6], sizes, 3, 60)) == [[1, 2], [3, 4], [5], [6]]
    assert list(batches([1, 2, 3, 4, 5, 6], sizes, 2, 1000)) == [[1, 2], [3, 4], [5, 6]]
    assert list(batches([], {}, 2, 10)) == []
    assert list(batches([7, 8], {}, 200, 10)) == [[7, 8]]  # sizes unknown: count only
