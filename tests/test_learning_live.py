"""Learning from agents' moves against the real Dovecot, through the real service.

Route 200 messages; a script moves 40 misrouted ones between queue folders as an agent would;
the service notices (the shared folder watcher) and learns; after a restart, 200 similar new
messages are routed better than the rules alone route them, and no message the rules were
confident about is routed differently.
"""

from __future__ import annotations

import random
import sqlite3
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from servicekit import RunningService, wait_until

from responder import config
from responder.commands.routing import learn_from_folders, render_report
from responder.devstack.demo import environment_for
from responder.devstack.mailstack import MailStack
from responder.devstack.routing_corpus import LabelledMail
from responder.devstack.routing_mailgen import mixed_stream
from responder.pipeline.decide import Pipeline
from responder.pipeline.parse import parse
from responder.service.learning import MODEL_FILE, load_model
from responder.service.ledger import Ledger

pytestmark = pytest.mark.stack
SUPPORT = "support@example.test"
QUEUE_PREFIX = "Queues/"
MOVES = 40


def deliver(stack: MailStack, mails: list[LabelledMail], first: int) -> dict[str, LabelledMail]:
    """Each from its own customer (no sender cap, no conversation joins); by Message-ID."""
    raws = [mail.as_eml(sender=f"shopper{first + n}@example.test") for n, mail in enumerate(mails)]
    stack.deliver_many(SUPPORT, raws, mail_from="shopper@example.test")
    return {str(parse(raw).message_id): mail for raw, mail in zip(raws, mails, strict=True)}


def placement(stack: MailStack) -> dict[str, tuple[str, int]]:
    """Message-ID -> (queue folder, UID), for every message in a queue folder."""
    found = {}
    with stack.imap(SUPPORT) as client:
        for _flags, _delimiter, folder in client.list_folders(QUEUE_PREFIX, "*"):
            client.select_folder(folder, readonly=True)
            uids = client.search("ALL")
            for uid, item in (client.fetch(uids, ["ENVELOPE"]) if uids else {}).items():
                found[item[b"ENVELOPE"].message_id.decode()] = (folder, uid)
    return found


def filed_all(stack: MailStack, labels: dict[str, LabelledMail]) -> dict[str, tuple[str, int]]:
    found = placement(stack)
    return found if set(labels) <= set(found) else {}


def move_as_an_agent(stack: MailStack, moves: list[tuple[str, int, str]]) -> None:
    with stack.imap(SUPPORT) as client:
        for folder, uid, target in moves:
            client.select_folder(folder)
            client.move([uid], target)


def accuracy(placed: dict[str, tuple[str, int]], labels: dict[str, LabelledMail]) -> float:
    right = sum(placed[mid][0] == QUEUE_PREFIX + mail.queue for mid, mail in labels.items())
    return right / len(labels)


def examples(state_dir: Path) -> int:
    db = sqlite3.connect(f"file:{state_dir / 'ledger.sqlite3'}?mode=ro", uri=True)
    try:
        return int(db.execute("SELECT count(*) FROM routing_examples").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        db.close()


def test_the_service_learns_from_moves_and_keeps_it_after_a_restart(
    make_mailstack: Callable[..., MailStack], tmp_path: Path
) -> None:
    stack = make_mailstack(users=[SUPPORT])
    stream = mixed_stream(seed=7, count=400, shop_share=0.75)
    env = {
        "RESPONDER_PROMISES_CHECK_INTERVAL": "5",
        # The service subprocess must run this tree, not whichever one pip installed.
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        "RESPONDER_LIMITS_PER_SENDER": "1000",
        "RESPONDER_LIMITS_GLOBAL_PER_HOUR": "100000",
    }
    service = RunningService(stack, tmp_path, SUPPORT, env=env)
    service.start()
    try:
        first = deliver(stack, stream[:200], 0)
        placed = wait_until(
            lambda: filed_all(stack, first),
            120,
            "the first 200 messages filed",
            interval=1,
        )
        rules_first = accuracy(placed, first)
        wrong = [mid for mid, mail in first.items() if placed[mid][0] != QUEUE_PREFIX + mail.queue]
        chosen = random.Random(3).sample(wrong, MOVES)
        move_as_an_agent(stack, [(*placed[mid], QUEUE_PREFIX + first[mid].queue) for mid in chosen])
        try:
            wait_until(
                lambda: examples(service.state_dir) >= MOVES, 90, "40 corrections learned", 1
            )
        except AssertionError:
            notes = [
                ln
                for ln in service.log().splitlines()
                if ": uid " not in ln and "acknowledgment" not in ln
            ]
            raise AssertionError("\n".join(notes[-30:])) from None
        assert examples(service.state_dir) == MOVES, service.log()
        service.stop()
        assert (service.state_dir / MODEL_FILE).exists()

        service.start()  # what was learned must come back from the state directory
        second = deliver(stack, stream[200:], 200)
        placed = wait_until(
            lambda: filed_all(stack, second),
            120,
            "the next 200 messages filed",
            interval=1,
        )
    finally:
        service.stop()
    learned = accuracy(placed, second)
    rules = Pipeline(config.load(None, environ={}))  # the same rules, no model
    verdicts = {mid: rules.decide(mail.as_eml()) for mid, mail in second.items()}
    rules_only = sum(v.queue == second[mid].queue for mid, v in verdicts.items()) / len(second)
    print(
        f"rules on the first 200: {rules_first:.1%}; on the next 200: rules alone "
        f"{rules_only:.1%}, with {MOVES} corrections learned {learned:.1%}"
    )
    assert learned >= rules_only + 0.10, (rules_only, learned)
    # Confident rules were never overridden by the model.
    for mid, verdict in verdicts.items():
        if verdict.routing is not None and verdict.routing.source == "rules":
            assert placed[mid][0] == QUEUE_PREFIX + verdict.queue, second[mid]
    # The admin's report: the 40 moves, and the rules that fired on them.
    db = sqlite3.connect(f"file:{service.state_dir / 'ledger.sqlite3'}?mode=ro", uri=True)
    try:
        report = render_report(db)
    finally:
        db.close()
    assert "Moved by agents to another queue: 40 (10.0% of 400)" in report, report
    assert "filed in \\ moved to" in report and "Rules that gave evidence" in report


def test_routing_learn_from_folders_bootstraps_the_model(
    make_mailstack: Callable[..., MailStack], tmp_path: Path
) -> None:
    """Mail already in the queue folders is labelled data; our queue keyword marks the moved."""
    stack = make_mailstack(users=[SUPPORT])
    mails = mixed_stream(seed=11, count=30, shop_share=1.0)
    with stack.imap(SUPPORT) as client:
        for n, mail in enumerate(mails):
            folder = QUEUE_PREFIX + mail.queue
            if not client.folder_exists(folder):
                client.create_folder(folder)
            keyword = "general" if n % 3 == 0 else mail.queue  # we filed a third in general
            client.append(folder, mail.as_eml(sender=f"c{n}@example.test"), flags=[keyword])
    settings = config.load(None, environ=environment_for(stack, tmp_path / "state", SUPPORT))
    assert learn_from_folders(settings) == 0
    model = load_model(tmp_path / "state" / MODEL_FILE)
    assert model.examples == 30
    assert model.docs == dict(Counter(mail.queue for mail in mails))
    ledger = Ledger.read_only(tmp_path / "state")
    try:
        report = render_report(ledger.db)
    finally:
        ledger.close()
    moved = sum(1 for n, mail in enumerate(mails) if n % 3 == 0 and mail.queue != "general")
    assert f"Moved by agents to another queue: {moved}" in report, report
    assert "Labelled examples the learned router knows: 30" in report
