"""The shared folder watcher against a real Dovecot (CONDSTORE), and its fallback without it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from servicekit import customer_mail

from responder.devstack.mailstack import MailStack
from responder.service.watcher import FolderWatcher, SeenMessage

pytestmark = pytest.mark.stack
USER = "support@example.test"
CUSTOMER = "customer1@example.test"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def connector(stack: MailStack, log: list[str], condstore: bool = True) -> Callable[[], Any]:
    """Sessions whose EXAMINEs are counted (an unchanged folder must cost one STATUS only)."""

    def connect() -> Any:
        client = stack.imap(USER)
        select = client.select_folder
        has = client.has_capability

        def counted(folder: str, readonly: bool = False) -> Any:
            log.append(folder)
            assert readonly, "the watcher must EXAMINE, never SELECT"
            return select(folder, readonly=readonly)

        client.select_folder = counted  # type: ignore[method-assign]
        if not condstore:
            client.has_capability = lambda name: name != "CONDSTORE" and has(name)  # type: ignore[method-assign]
        return client

    return connect


@pytest.fixture
def stack(make_mailstack: Callable[..., MailStack]) -> MailStack:
    stack = make_mailstack(users=[USER, CUSTOMER])
    with stack.imap(USER) as client:
        for folder in ("Queues/billing", "Queues/orders"):
            client.create_folder(folder)
    return stack


def append(stack: MailStack, folder: str, subject: str, **headers: str) -> str:
    raw = customer_mail(CUSTOMER, USER, subject, "Hello", **headers)
    with stack.imap(USER) as client:
        client.append(folder, raw)
    return raw.split(b"Message-ID: <", 1)[1].split(b">", 1)[0].decode()


def by_id(seen: list[SeenMessage]) -> dict[str | None, SeenMessage]:
    return {m.message_id: m for m in seen}


@pytest.mark.parametrize("condstore", [True, False], ids=["condstore", "no-condstore"])
def test_arrivals_flags_and_moves_once_each(
    stack: MailStack, tmp_path: Path, condstore: bool
) -> None:
    db = sqlite3.connect(tmp_path / "ledger.sqlite3", isolation_level=None)
    clock, examined = Clock(), []
    watcher = FolderWatcher(connector(stack, examined, condstore), db, clock, min_interval=60)
    watcher.watch("Sent", "Queues/billing", "Queues/orders")
    history = append(stack, "Queues/billing", "Old mail")
    assert watcher.poll() == []  # baseline: history is never replayed
    assert examined == ["Sent", "Queues/billing", "Queues/orders"]  # once, for the baseline
    examined.clear()

    reply_id = append(stack, "Sent", "Re: Old mail", In_Reply_To=f"<{history}>")
    assert watcher.poll() == []  # within min_interval: no look at all
    clock.now += 60
    seen = watcher.poll()
    assert [(m.folder, m.message_id, m.new) for m in seen] == [("Sent", reply_id, True)]
    assert f"<{history}>".encode() in seen[0].header and b"Subject: Re: Old mail" in seen[0].header
    assert examined == ["Sent"]  # the unchanged queue folders cost one STATUS each

    clock.now += 60
    examined.clear()
    assert watcher.poll() == [] and examined == []

    with stack.imap(USER) as client:
        client.select_folder("Queues/billing")
        uid = client.search(["HEADER", "Message-ID", history])[0]
        client.add_flags([uid], [b"\\Answered", b"$PromiseWarn"])
    clock.now += 300  # past the fallback's FLAGS sweep interval too
    seen = watcher.poll(force=True)
    flagged = by_id(seen)[history]
    assert flagged.folder == "Queues/billing" and not flagged.new
    assert {"\\Answered", "$PromiseWarn"} <= flagged.flags

    with stack.imap(USER) as client:
        client.select_folder("Queues/billing")
        client.move([uid], "Queues/orders")
    clock.now += 300
    moved = [m for m in watcher.poll(force=True) if m.message_id == history and m.new]
    assert [m.folder for m in moved] == ["Queues/orders"]
    assert "\\Answered" in moved[0].flags


def test_a_crash_before_the_next_poll_reports_the_same_changes_again(
    stack: MailStack, tmp_path: Path
) -> None:
    path = tmp_path / "ledger.sqlite3"
    clock = Clock()
    first = FolderWatcher(connector(stack, []), sqlite3.connect(path, isolation_level=None), clock)
    first.watch("Sent")
    first.poll()
    first.close()  # a clean stop commits the baseline
    message_id = append(stack, "Sent", "Re: something")
    assert [m.message_id for m in first.poll(force=True)] == [message_id]
    # ...and the process dies before its consumers finish: nothing was committed.
    again = FolderWatcher(connector(stack, []), sqlite3.connect(path, isolation_level=None), clock)
    again.watch("Sent")
    assert [m.message_id for m in again.poll()] == [message_id]
    assert again.poll(force=True) == []  # handled this time: committed by the next poll


def test_backfill_and_a_recreated_folder(stack: MailStack, tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "ledger.sqlite3", isolation_level=None)
    existing = append(stack, "Queues/orders", "Already there")
    watcher = FolderWatcher(connector(stack, []), db, Clock())
    watcher.watch("Queues/orders", backfill=True)
    watcher.watch("Queues/returns")  # does not exist yet: skipped, not an error
    assert [m.message_id for m in watcher.poll()] == [existing]
    with stack.imap(USER) as client:
        client.delete_folder("Queues/orders")
        client.create_folder("Queues/orders")
    append(stack, "Queues/orders", "After the UIDVALIDITY change")
    assert watcher.poll(force=True) == []  # a new UIDVALIDITY is a new baseline
    later = append(stack, "Queues/orders", "Later")
    assert [m.message_id for m in watcher.poll(force=True)] == [later]
    with stack.imap(USER) as client:  # a folder created since the last look: all of it is new
        client.create_folder("Queues/returns")
    returned = append(stack, "Queues/returns", "Moved here by an agent")
    assert [(m.message_id, m.new) for m in watcher.poll(force=True)] == [(returned, True)]


def test_another_consumer_shares_the_service_watcher(stack: MailStack, tmp_path: Path) -> None:
    """Learning from agents' moves subscribes to the same watcher, even with promises off."""
    import dataclasses

    from promisekit import load_config

    from responder.service.escalation import PromiseKeeper
    from responder.service.ledger import Ledger

    config = load_config(stack, tmp_path)
    config = dataclasses.replace(
        config, promises=dataclasses.replace(config.promises, enabled=False)
    )
    ledger = Ledger.in_state_dir(tmp_path / "state")
    clock = Clock()
    keeper = PromiseKeeper(config, ledger, ("billing", "orders"), clock)
    assert keeper.interval == float("inf")  # nobody watching: the loop may idle for long
    batches: list[list[SeenMessage]] = []
    keeper.subscribe(batches.append, "Queues/orders")
    assert keeper.interval == config.promises.check_interval
    keeper.tick()  # baseline
    moved = append(stack, "Queues/orders", "Moved by an agent")
    clock.now += 60
    keeper.tick()
    assert [[m.message_id for m in batch] for batch in batches] == [[moved]]
    assert watched(keeper) == ["Queues/orders"]  # promises off: only what the consumer asked
    keeper.close()
    ledger.close()


def watched(keeper: Any) -> list[str]:
    return list(keeper.watcher.folders)
