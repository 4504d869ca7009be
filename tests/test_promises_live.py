"""Keeping promises against a real Dovecot + Postfix, with an injected clock (no sleeping hours).

A customer writes on Friday 27 March 2026 at 15:00 in Berlin (the clocks go forward that
Sunday). Hours 09-12 and 13-17, 4 business hours: due Monday 30 March 11:00 CEST. The ladder:
warn at 75 % (Mon 10:00), supervisor at 90 % (Mon 10:36), update at 95 % (Mon 10:48).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from promisekit import (
    AGENT,
    BOSS,
    COLLEAGUE,
    SUPPORT,
    USERS,
    Desk,
    berlin,
    mailbox,
    settle,
    write_config,
)
from servicekit import customer_mail

from responder.devstack.demo import environment_for
from responder.devstack.mailstack import MailStack
from responder.service.ledger import Ledger

pytestmark = pytest.mark.stack
CUSTOMER = "customer1@example.test"
FRIDAY = berlin(2026, 3, 27, 15, 0)
WARN, NOTIFY, UPDATE, DUE = (
    berlin(2026, 3, 30, 10, 0),
    berlin(2026, 3, 30, 10, 36),
    berlin(2026, 3, 30, 10, 48),
    berlin(2026, 3, 30, 11, 0),
)
EVERY_STEP = [
    FRIDAY + 600,
    WARN,
    WARN + 60,
    NOTIFY,
    NOTIFY + 120,
    UPDATE,
    UPDATE + 1,
    DUE,
    DUE + 3600,
]


@pytest.fixture
def stack(make_mailstack: Callable[..., MailStack]) -> MailStack:
    return make_mailstack(users=USERS)


@pytest.fixture
def desk(stack: MailStack, tmp_path: Path) -> Iterator[Desk]:
    desk = Desk(stack, tmp_path, FRIDAY)
    yield desk
    desk.close()


def complaint(desk: Desk, customer: str = CUSTOMER, subject: str = "Charged twice") -> bytes:
    raw = customer_mail(
        f"Anna <{customer}>",
        SUPPORT,
        subject,
        "Hello, I was charged twice for my invoice this month. Please refund the payment.",
    )
    desk.receive(raw, customer)
    desk.stack.wait_for(customer, criteria=["HEADER", "Auto-Submitted", ""])
    return raw


def message_id(raw: bytes) -> str:
    return raw.split(b"Message-ID: ", 1)[1].split(b"\n", 1)[0].strip().decode()


def agent_reply(raw: bytes, customer: str = CUSTOMER, **headers: str) -> bytes:
    mid = message_id(raw)
    return customer_mail(
        SUPPORT,
        customer,
        "Re: Charged twice",
        "We have refunded it.",
        In_Reply_To=mid,
        References=mid,
        **headers,
    )


def append(stack: MailStack, folder: str, raw: bytes) -> None:
    with stack.imap(SUPPORT) as client:
        client.append(folder, raw)


def customer_mail_count(stack: MailStack, customer: str = CUSTOMER) -> int:
    return len(mailbox(stack, customer))


def test_friday_ack_names_monday_and_a_threaded_reply_in_sent_keeps_the_promise(
    desk: Desk, stack: MailStack
) -> None:
    raw = complaint(desk)
    (ack,) = mailbox(stack, CUSTOMER)
    assert "Monday, March 30, 11:00 CEST" in ack.get_content()
    (promise,) = desk.promises()
    assert promise.state == "open" and promise.due_at == DUE
    assert promise.text.strip() == ack.get_content().replace("\r\n", "\n").strip()  # exact text
    assert promise.message_id == message_id(raw).strip("<>")

    append(stack, "Sent", agent_reply(raw))
    desk.at(FRIDAY + 1800)
    assert [p.state for p in desk.promises()] == ["kept"]
    for moment in EVERY_STEP[1:]:
        desk.at(moment)
    settle()
    assert customer_mail_count(stack) == 1  # the ack only: no update
    assert mailbox(stack, BOSS) == []  # no supervisor notice
    (kept,) = desk.promises()
    assert kept.state == "kept" and kept.warned_at is None and kept.broken_at is None


def test_agent_copy_with_customer_counts_and_an_internal_forward_does_not(
    desk: Desk, stack: MailStack
) -> None:
    first = complaint(desk, "customer1@example.test", "Charged twice")
    second = complaint(desk, "customer2@example.test", "Parcel missing")
    mid1, mid2 = message_id(first), message_id(second)
    # An agent answers from their own mailbox, Cc support; another forwards internally.
    answer = customer_mail(
        AGENT,
        "customer1@example.test",
        "Re: Charged twice",
        "Refunded.",
        Cc=SUPPORT,
        In_Reply_To=mid1,
        References=mid1,
    )
    stack.send(answer, AGENT, ["customer1@example.test", SUPPORT])
    forward = customer_mail(
        AGENT, COLLEAGUE, "Fwd: Parcel missing", "Can you look?", Cc=SUPPORT, References=mid2
    )
    stack.send(forward, AGENT, [COLLEAGUE, SUPPORT])
    stack.wait_for(SUPPORT, count=2, criteria=["FROM", AGENT])
    desk.at(FRIDAY + 1800)
    states = {p.customer: p.state for p in desk.promises()}
    assert states == {"customer1@example.test": "kept", "customer2@example.test": "open"}
    assert len(mailbox(stack, AGENT)) == 0  # the agent's copies got no acknowledgment


def test_answered_flag_alone_is_unverified_tells_the_supervisor_and_sends_no_update(
    desk: Desk, stack: MailStack
) -> None:
    raw = complaint(desk)
    with stack.imap(SUPPORT) as client:
        client.select_folder("Queues/billing")
        uids = client.search(["HEADER", "Message-ID", message_id(raw).strip("<>")])
        client.add_flags(uids, [b"\\Answered"])
    for moment in EVERY_STEP:
        desk.at(moment)
    (promise,) = desk.promises()
    assert promise.state == "answered-unverified"
    settle()
    (notice,) = mailbox(stack, BOSS)
    assert "unverified" in notice.get_content() and notice["In-Reply-To"] == message_id(raw)
    assert customer_mail_count(stack) == 1  # no update to the customer
    assert promise.broken_at is None


def test_no_answer_each_step_once_and_exactly_one_threaded_update(
    desk: Desk, stack: MailStack
) -> None:
    raw = complaint(desk)
    for _ in range(3):  # repeated scheduler runs at every moment
        for moment in EVERY_STEP:
            desk.at(moment)
    settle()
    original, update = desk.promises()
    assert original.state == "updated" and update.is_update and update.supersedes == original.id
    assert (original.warned_at, original.notified_at, original.updated_at) == (WARN, NOTIFY, UPDATE)
    assert update.due_at == berlin(2026, 3, 30, 16, 0)  # 11:00 + 4 business hours, lunch skipped
    assert len(mailbox(stack, BOSS)) == 1
    ack, sent_update = mailbox(stack, CUSTOMER)
    assert ack["Auto-Submitted"] == "auto-replied"
    assert sent_update["Auto-Submitted"] == "auto-generated"
    body = sent_update.get_content()
    assert sent_update["In-Reply-To"] == message_id(raw)
    assert "[#" in sent_update["Subject"] and "Maria Keller" in body
    assert "Monday, March 30, 16:00 CEST" in body and "11:00 CEST" in body
    with stack.imap(SUPPORT) as client:
        client.select_folder("Queues/billing", readonly=True)
        uid = client.search(["HEADER", "Message-ID", message_id(raw).strip("<>")])[0]
        flags = client.get_flags([uid])[uid]
    assert b"$PromiseWarn" in flags and b"\\Flagged" in flags
    assert any(
        "[#" in str(m["Subject"]) for m in mailbox(stack, SUPPORT, "Sent")
    )  # copy for agents
    desk.at(berlin(2026, 3, 30, 16, 1))
    assert [p.state for p in desk.promises()] == ["updated", "broken"]


def test_a_reply_one_second_before_the_update_stops_it(desk: Desk, stack: MailStack) -> None:
    raw = complaint(desk)
    for moment in (WARN, NOTIFY, UPDATE - 1):
        desk.at(moment)
    append(stack, "Sent", agent_reply(raw))  # lands at UPDATE - 1 s, after the last poll
    desk.at(UPDATE)
    desk.at(DUE + 60)
    settle()
    (promise,) = desk.promises()
    assert promise.state == "kept" and promise.updated_at is None
    assert customer_mail_count(stack) == 1
    with stack.imap(SUPPORT) as client:
        client.select_folder("Queues/billing", readonly=True)
        uid = client.search(["HEADER", "Message-ID", message_id(raw).strip("<>")])[0]
        flags = client.get_flags([uid])[uid]
    assert b"$PromiseWarn" not in flags and b"\\Flagged" not in flags  # removed by us, when kept


def test_a_message_moved_to_another_queue_keeps_its_promise_and_gets_no_second_ack(
    desk: Desk, stack: MailStack
) -> None:
    raw = complaint(desk)
    mid = message_id(raw).strip("<>")
    desk.at(FRIDAY + 120)  # the watcher's baseline
    with stack.imap(SUPPORT) as client:
        client.create_folder("Queues/orders")
        client.select_folder("Queues/billing")
        client.move(client.search(["HEADER", "Message-ID", mid]), "Queues/orders")
    desk.at(FRIDAY + 300)
    (promise,) = desk.promises()
    assert promise.folder == "Queues/orders" and promise.state == "open"
    with stack.imap(SUPPORT) as client:  # ...and an agent drags it back to the INBOX
        client.select_folder("Queues/orders")
        client.move(client.search(["HEADER", "Message-ID", mid]), "INBOX")
    desk.at(FRIDAY + 400)
    desk.at(WARN)
    settle()
    assert customer_mail_count(stack) == 1
    assert len(desk.promises()) == 1 and desk.promises()[0].warned_at == WARN


def test_an_out_of_office_reply_to_our_ack_makes_no_promise_and_no_loop(
    desk: Desk, stack: MailStack
) -> None:
    complaint(desk)
    (ack,) = mailbox(stack, CUSTOMER)
    ooo = customer_mail(
        CUSTOMER,
        SUPPORT,
        "Automatic reply: " + str(ack["Subject"]),
        "I am away until Monday.",
        Auto_Submitted="auto-replied",
        In_Reply_To=str(ack["Message-ID"]),
    )
    desk.receive(ooo, CUSTOMER)
    for moment in (FRIDAY + 600, WARN):
        desk.at(moment)
    settle()
    assert len(desk.promises()) == 1
    assert customer_mail_count(stack) == 1


# One scheduler run in its own process, as a restarted service would do it; "kill" makes the
# process SIGKILL itself the moment it tries to send the customer's update (after rendering
# and recording it, before any byte reaches SMTP).
RUN_ONCE = """
import os, signal, sys
from responder.config import load
from responder.pipeline.decide import Pipeline
from responder.service import smtp
from responder.service.escalation import PromiseKeeper
from responder.service.ledger import Ledger

when, customer = float(sys.argv[1]), sys.argv[2]
if sys.argv[3] == "kill":
    real_send = smtp.Sender.send
    def send(self, recipient, raw, *args):
        if recipient == customer:
            os.kill(os.getpid(), signal.SIGKILL)
        real_send(self, recipient, raw, *args)
    smtp.Sender.send = send
if sys.argv[3] == "kill-at-end-of-data":
    real_send = smtp.Sender.send
    def send(self, recipient, raw, point_of_no_return=lambda: None):
        def die():
            point_of_no_return()
            if recipient == customer:
                os.kill(os.getpid(), signal.SIGKILL)
        real_send(self, recipient, raw, die)
    smtp.Sender.send = send
config = load()
ledger = Ledger.in_state_dir(config.state_dir())
keeper = PromiseKeeper.for_service(config, ledger, Pipeline(config, clock=lambda: when))
keeper.tick(when)
keeper.close()
"""


def run_once(stack: MailStack, tmp_path: Path, when: float, mode: str) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESPONDER_")}
    env |= environment_for(stack, tmp_path / "state", SUPPORT)
    env |= {"RESPONDER_CONFIG": str(write_config(tmp_path)), "PYTHONPATH": os.getcwd()}
    done = subprocess.run(
        [sys.executable, "-c", RUN_ONCE, str(when), CUSTOMER, mode],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode in (0, -9), done.stderr.decode()
    return done.returncode


def test_sigkill_between_rendering_and_sending_the_update_sends_it_once_after_restart(
    desk: Desk, stack: MailStack, tmp_path: Path
) -> None:
    raw = complaint(desk)
    for moment in (WARN, NOTIFY):
        desk.at(moment)
    desk.close()
    assert run_once(stack, tmp_path, UPDATE + 30, "kill") == -9
    ledger = Ledger.in_state_dir(tmp_path / "state")
    pending = ledger.db.execute(
        "SELECT kind, state FROM promise_mail WHERE kind = 'update'"
    ).fetchall()
    ledger.close()
    assert pending == [("update", "pending")]  # rendered, recorded, never sent
    settle()
    assert customer_mail_count(stack) == 1
    assert run_once(stack, tmp_path, UPDATE + 90, "normal") == 0
    assert run_once(stack, tmp_path, UPDATE + 150, "normal") == 0
    stack.wait_for(CUSTOMER, count=2)
    settle()
    _ack, update = mailbox(stack, CUSTOMER)
    assert update["In-Reply-To"] == message_id(raw) and "Maria Keller" in update.get_content()
    assert customer_mail_count(stack) == 2


def test_sigkill_at_the_end_of_data_never_sends_a_second_update(
    desk: Desk, stack: MailStack, tmp_path: Path
) -> None:
    complaint(desk)
    for moment in (WARN, NOTIFY):
        desk.at(moment)
    desk.close()
    assert run_once(stack, tmp_path, UPDATE + 30, "kill-at-end-of-data") == -9
    assert run_once(stack, tmp_path, UPDATE + 90, "normal") == 0
    ledger = Ledger.in_state_dir(tmp_path / "state")
    states = ledger.db.execute("SELECT state FROM promise_mail WHERE kind = 'update'").fetchall()
    ledger.close()
    assert states == [("uncertain",)]  # the relay may have it: not sent again
    settle()
    assert customer_mail_count(stack) == 1  # killed before the relay's reply: nothing arrived


def test_a_step_that_fell_due_while_closed_waits_for_the_opening(
    stack: MailStack, tmp_path: Path
) -> None:
    # Made Friday 13:45: the warning (75 % of 4 h) is due Friday 16:45. The service is down
    # then and comes back on Saturday: nobody is there, so the flag waits for Monday 09:00.
    desk = Desk(stack, tmp_path, berlin(2026, 3, 27, 13, 45))
    try:
        raw = complaint(desk)
        (promise,) = desk.promises()
        assert promise.warn_due == berlin(2026, 3, 27, 16, 45)
        desk.at(berlin(2026, 3, 28, 10, 0))  # Saturday
        assert desk.promises()[0].warned_at is None
        desk.at(berlin(2026, 3, 30, 9, 0))  # Monday, opening time
        assert desk.promises()[0].warned_at == berlin(2026, 3, 30, 9, 0)
        with stack.imap(SUPPORT) as client:
            client.select_folder("Queues/billing", readonly=True)
            uid = client.search(["HEADER", "Message-ID", message_id(raw).strip("<>")])[0]
            assert b"$PromiseWarn" in client.get_flags([uid])[uid]
    finally:
        desk.close()


def test_a_reply_after_a_crash_before_the_watchers_first_commit_is_still_seen(
    stack: MailStack, tmp_path: Path
) -> None:
    """The baseline reports nothing, so it is stored at once: a crash right after the first
    ack must not let the restarted watcher take a new baseline past the agent's reply."""
    first = Desk(stack, tmp_path, FRIDAY)  # its first pass takes the watcher's baseline
    raw = complaint(first)
    first.service.mailbox.close()  # killed: no orderly close, nothing committed by it
    first.service.senders.close()
    first.ledger.close()

    append(stack, "Sent", agent_reply(raw))
    second = Desk(stack, tmp_path, FRIDAY + 1800)
    try:
        assert [p.state for p in second.promises()] == ["kept"]
    finally:
        second.close()


def test_the_service_takes_the_watchers_baseline_before_its_first_ack(
    stack: MailStack, tmp_path: Path
) -> None:
    """The loop's first pass looks at the folders before it drains the INBOX, so even a
    reply that lands a moment after the first ack is after the baseline."""
    from promisekit import Clock, load_config

    from responder.pipeline.decide import Pipeline
    from responder.service.loop import Service

    stack.deliver(
        SUPPORT,
        complaint_mail := customer_mail(
            f"Anna <{CUSTOMER}>", SUPPORT, "Charged twice", "Hello, I was charged twice. Refund it."
        ),
        CUSTOMER,
    )
    config = load_config(stack, tmp_path)
    ledger = Ledger.in_state_dir(config.state_dir())
    service = Service(config, ledger, Pipeline(config, clock=Clock(FRIDAY)))
    try:
        service.run(once=True)
        with stack.imap(SUPPORT) as client:
            client.select_folder("Sent", readonly=True)
            (ack_uid,) = client.search(["HEADER", "In-Reply-To", message_id(complaint_mail)])
        (sent_uidnext,) = ledger.db.execute(
            "SELECT uidnext FROM watch_state WHERE folder = 'Sent'"
        ).fetchone()
        assert sent_uidnext <= ack_uid  # the baseline was taken before our ack reached Sent
    finally:
        ledger.close()


def test_down_through_the_deadline_the_breach_is_recorded_and_one_late_update_sent(
    desk: Desk, stack: MailStack
) -> None:
    """Down from Friday until Monday evening (closed), back Tuesday: the breach is recorded at
    once, the customer's honest update waits for the opening and says the promise was not kept."""
    raw = complaint(desk)
    monday_evening = berlin(2026, 3, 30, 19, 0)
    desk.at(monday_evening)
    settle()
    (promise,) = desk.promises()
    assert promise.state == "broken" and promise.broken_at == monday_evening
    assert customer_mail_count(stack) == 1  # closed: nobody to take it over, no update yet
    tuesday = berlin(2026, 3, 31, 9, 0)
    for _ in range(3):
        desk.at(tuesday)
    settle()
    original, update = desk.promises()
    assert original.state == "broken" and original.updated_at == tuesday
    assert update.is_update and update.supersedes == original.id
    ack, late = mailbox(stack, CUSTOMER)
    assert ack["Auto-Submitted"] == "auto-replied" and late["Auto-Submitted"] == "auto-generated"
    body = late.get_content()
    assert late["In-Reply-To"] == message_id(raw)
    assert "did not keep that promise" in body and "are not going to keep" not in body
    assert "Maria Keller" in body and "Monday, March 30, 11:00 CEST" in body
    assert "Tuesday, March 31, 14:00 CEST" in body  # 09:00 + 4 business hours, lunch skipped
    desk.at(tuesday + 3600)
    assert customer_mail_count(stack) == 2  # exactly one update, however often it runs


def test_no_late_update_when_an_agent_answered_while_we_were_down(
    desk: Desk, stack: MailStack
) -> None:
    raw = complaint(desk)
    append(stack, "Sent", agent_reply(raw))  # the agent answers on Friday; we are down
    desk.at(berlin(2026, 3, 31, 9, 0))
    settle()
    (promise,) = desk.promises()
    assert promise.state == "kept" and promise.updated_at is None
    assert customer_mail_count(stack) == 1


def test_an_answer_after_the_breach_but_before_the_late_update_stops_it(
    desk: Desk, stack: MailStack
) -> None:
    raw = complaint(desk)
    desk.at(berlin(2026, 3, 30, 19, 0))  # back on Monday evening: breach recorded, closed
    append(stack, "Sent", agent_reply(raw))  # an agent answers first thing on Tuesday
    desk.at(berlin(2026, 3, 31, 9, 0))
    settle()
    (promise,) = desk.promises()
    assert promise.state == "broken" and promise.updated_at == berlin(2026, 3, 31, 9, 0)
    assert customer_mail_count(stack) == 1  # the breach stands; no late update after an answer
