"""An in-process service with an injected clock against a real mail stack, for promise tests."""

from __future__ import annotations

import email
import email.policy
import time
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

from responder.config import Config, load
from responder.devstack.demo import environment_for
from responder.devstack.mailstack import MailStack
from responder.pipeline.decide import Pipeline
from responder.service.ledger import Ledger
from responder.service.loop import Service
from responder.service.promises import Promise

SUPPORT = "support@example.test"
AGENT = "agent@example.test"
BOSS = "boss@example.test"
COLLEAGUE = "colleague@example.test"
CUSTOMERS = tuple(f"customer{i}@example.test" for i in range(1, 5))
USERS = (SUPPORT, AGENT, BOSS, COLLEAGUE, *CUSTOMERS)
BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAY = '["09:00-12:00", "13:00-17:00"]'
CONFIG = f"""
[promises]
calendar = "berlin"
supervisor = "{BOSS}"
senior = "Maria Keller"
agent_addresses = ["{AGENT}"]
[promises.calendars.berlin]
timezone = "Europe/Berlin"
holidays = "DE"
subdivision = "BE"
hours = {{ mon = {WEEKDAY}, tue = {WEEKDAY}, wed = {WEEKDAY}, thu = {WEEKDAY}, fri = {WEEKDAY} }}
"""


def berlin(*args: int) -> float:
    return datetime(*args, tzinfo=BERLIN).timestamp()  # type: ignore[misc]


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def write_config(directory: Path) -> Path:
    path = directory / "responder.toml"
    path.write_text(CONFIG)
    return path


def load_config(stack: MailStack, directory: Path) -> Config:
    env = environment_for(stack, directory / "state", SUPPORT)
    return load(write_config(directory), environ=env)


class Desk:
    """The support desk at a given (injected) time: the service, its ledger, its promises."""

    def __init__(self, stack: MailStack, directory: Path, start: float) -> None:
        self.stack = stack
        self.clock = Clock(start)
        self.config = load_config(stack, directory)
        self.ledger = Ledger.in_state_dir(self.config.state_dir())
        self.service = Service(self.config, self.ledger, Pipeline(self.config, clock=self.clock))
        self.keeper = self.service.promises
        self.service.connect()
        self.keeper.tick()  # the service's first pass: the watcher takes its baseline

    def receive(self, raw: bytes, sender: str) -> None:
        """A customer's mail arrives and the service handles it (ack sent, message filed)."""
        before = self.inbox_count()
        self.stack.deliver(SUPPORT, raw, sender)
        assert self.inbox_count() == before + 1
        self.drain()

    def drain(self) -> None:
        """As the loop does after IDLE: the NOOP lets the selected INBOX see new arrivals."""
        self.service.mailbox._call("noop", lambda client: client.noop())
        self.service.drain()

    def inbox_count(self) -> int:
        with self.stack.imap(SUPPORT) as client:
            return int(client.select_folder("INBOX", readonly=True)[b"EXISTS"])

    def at(self, when: float) -> None:
        """Move the clock and let the keeper run, as the service loop does between IDLE rounds."""
        self.clock.now = when
        self.drain()
        self.keeper.tick()

    def promises(self) -> list[Promise]:
        return self.keeper.book.all()

    def close(self) -> None:
        self.keeper.close()
        self.service.mailbox.close()
        self.service.senders.close()
        self.ledger.close()


def mailbox(stack: MailStack, user: str, folder: str = "INBOX") -> list[EmailMessage]:
    with stack.imap(user) as client:
        if not client.folder_exists(folder):
            return []
        client.select_folder(folder, readonly=True)
        uids = client.search("ALL")
        data = client.fetch(uids, ["BODY.PEEK[]"]) if uids else {}
    return [
        email.message_from_bytes(data[uid][b"BODY[]"], policy=email.policy.default)  # type: ignore[misc]
        for uid in sorted(data)
    ]


def settle(seconds: float = 1.0) -> None:
    """Mail that Postfix has accepted reaches Dovecot within this (a second message would too)."""
    time.sleep(seconds)
