"""The fault matrix: every protocol step cut, refused or slowed, 50 mails each, one service.

Invariants after each fault clears: every message in exactly one folder, no customer with a
second acknowledgment, every customer who should have one has one, one copy of each in Sent,
and the same service process recovered on its own. SMTP 5xx for one message (RCPT, DATA,
end of DATA) is the one case where a customer rightly gets nothing: the acknowledgment is
`failed`, and `responder requeue` sends it on purpose.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from faultkit import CUSTOMERS, FaultyDesk
from faultproxy import Fault

from responder.devstack.mailstack import MailStack

pytestmark = pytest.mark.stack

DROP = {"action": "drop"}
NO = {"action": "reply", "reply": "[SERVERBUG] injected refusal"}
SLOW = {"action": "delay", "delay": 2.0}
AFTER = {"action": "drop-after"}  # the server did it; we never hear so

IMAP_CASES = [
    *[(verb, "drop-after") for verb in ("STORE", "MOVE", "APPEND")],
    *[
        (verb, kind)
        for verb in ("FETCH", "STORE", "MOVE", "APPEND", "IDLE")
        for kind in ("drop", "no")
    ],
    ("FETCH", "delay"),
    ("MOVE", "delay"),
    ("IDLE", "delay"),
]
SMTP_OUTAGE = {"action": "reply", "reply": "421 4.3.2 Service shutting down", "times": 2}
SMTP_CASES = [
    *[
        (stage, kind)
        for stage in ("CONNECT", "EHLO", "AUTH", "MAIL", "RCPT", "DATA", "EOD")
        for kind in ("drop", "4xx", "5xx")
    ],
    ("MAIL", "delay"),
    ("EOD", "delay"),
]
RELAY_WIDE = ("CONNECT", "EHLO", "AUTH", "MAIL")
REFUSALS = {
    "CONNECT": ("421 4.3.2 Too busy, try later", "554 5.3.2 No service here"),
    "EHLO": ("421 4.3.2 Closing", "550 5.7.1 Go away"),
    "AUTH": ("454 4.7.0 Temporary authentication failure", "535 5.7.8 Authentication failed"),
    "MAIL": ("451 4.3.0 Try again", "550 5.4.5 Daily user sending quota exceeded"),
    "RCPT": ("450 4.2.1 Mailbox busy", "550 5.1.1 No such user"),
    "DATA": ("451 4.3.0 Try again", "554 5.6.0 Not now, not ever"),
    "EOD": ("451 4.3.0 Queue file write error", "552 5.3.4 Message too big"),
}


@pytest.fixture(scope="module")
def desks(
    mailstack: MailStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, FaultyDesk]]:
    made: dict[str, FaultyDesk] = {}

    def start(name: str, hide: tuple[str, ...] = ()) -> FaultyDesk:
        if name not in made:
            for other in [n for n in made if n != "_start"]:  # one service per mailbox
                made.pop(other).stop()
            desk = FaultyDesk(mailstack, tmp_path_factory.mktemp(name), hide)
            desk.clear()
            desk.start()
            made[name] = desk
        return made[name]

    made["_start"] = start  # type: ignore[assignment]
    yield made
    for name, desk in made.items():
        if name != "_start":
            desk.stop()


def _desk(
    desks: dict[str, FaultyDesk], name: str = "move", hide: tuple[str, ...] = ()
) -> FaultyDesk:
    return desks["_start"](name, hide)  # type: ignore[operator]


@pytest.mark.parametrize(("verb", "kind"), IMAP_CASES, ids=[f"imap-{v}-{k}" for v, k in IMAP_CASES])
def test_imap_fault(desks: dict[str, FaultyDesk], verb: str, kind: str) -> None:
    desk = _desk(desks)
    desk.clear()
    desk.imap.arm(Fault(verb, **{"drop": DROP, "no": NO, "delay": SLOW, "drop-after": AFTER}[kind]))
    expected = desk.deliver(f"imap {verb} {kind}")
    desk.check_invariants(len(expected), desk.settle(expected))


@pytest.mark.parametrize("verb", ["COPY", "EXPUNGE"])
@pytest.mark.parametrize("kind", ["drop", "no", "drop-after"])
def test_imap_fault_without_move(desks: dict[str, FaultyDesk], verb: str, kind: str) -> None:
    desk = _desk(desks, "nomove", hide=("MOVE",))
    desk.clear()
    desk.imap.arm(Fault(verb, **{"drop": DROP, "no": NO, "drop-after": AFTER}[kind]))
    expected = desk.deliver(f"imap {verb} {kind} without MOVE")
    desk.check_invariants(len(expected), desk.settle(expected))


@pytest.mark.parametrize(
    ("stage", "kind"), SMTP_CASES, ids=[f"smtp-{s}-{k}" for s, k in SMTP_CASES]
)
def test_smtp_fault(desks: dict[str, FaultyDesk], stage: str, kind: str) -> None:
    desk = _desk(desks)
    desk.clear()
    if kind == "drop":
        fault = Fault(stage, "drop", times=2)
    elif kind == "delay":
        fault = Fault(stage, "delay", delay=2.0, times=3)
    else:
        temporary, permanent = REFUSALS[stage]
        fault = Fault(stage, "reply", reply=temporary if kind == "4xx" else permanent, times=3)
    desk.smtp.arm(fault)
    customers = desk.deliver(f"smtp {stage} {kind}")
    refused_for_good = kind == "5xx" and stage not in RELAY_WIDE
    if not refused_for_good:
        desk.check_invariants(len(customers), desk.settle(customers))
        return
    # A 5xx for one message: exactly the messages it hit have no acknowledgment, recorded
    # as failed; everybody else has one; `responder requeue` then sends the failed ones.
    desk.settle([], timeout=5)
    acks = desk.settle([c for c in customers if c not in _failed_recipients(desk)])
    missing = [c for c in customers if not acks[c]]
    assert len(missing) == fault.fired == 3, (missing, fault.fired)
    assert set(missing) == _failed_recipients(desk)
    desk.smtp.disarm()
    result = desk.responder("requeue", "--failed")
    assert result.returncode == 0 and "3 acknowledgment" in result.stdout, result
    wake = desk.deliver("wake up", ["customer1@example.test"])  # the next pass sends them
    desk.check_invariants(len(customers) + len(wake), desk.settle(customers))


def _failed_recipients(desk: FaultyDesk) -> set[str]:
    import sqlite3

    db = sqlite3.connect(f"file:{desk.service.state_dir / 'ledger.sqlite3'}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT ack_to FROM messages WHERE ack_state = 'failed'").fetchall()
    finally:
        db.close()
    return {row[0] for row in rows}


def test_matrix_covers_every_step() -> None:
    """The matrix is the issue's list: a renamed cue must not silently drop a step."""
    imap_steps = {verb for verb, _ in IMAP_CASES} | {"COPY", "EXPUNGE"}
    assert imap_steps == {"FETCH", "STORE", "MOVE", "COPY", "EXPUNGE", "APPEND", "IDLE"}
    smtp_steps = {stage for stage, _ in SMTP_CASES}
    assert smtp_steps == {"CONNECT", "EHLO", "AUTH", "MAIL", "RCPT", "DATA", "EOD"}
    assert len(CUSTOMERS) == 50
