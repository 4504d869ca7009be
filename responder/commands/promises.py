"""`responder promises`: the promises that still need a person, by due time, from the ledger.

Read-only (the service may be running). Each line: when it is due (in the promise's calendar
zone), how it stands, the queue, the customer, the reference, and what evidence we have.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from responder.config import Config
from responder.config.promises import calendars
from responder.errors import ResponderError
from responder.service.ledger import Ledger
from responder.service.promises import Promise, PromiseBook

SOON = 3600.0  # due within the hour


@dataclass(frozen=True)
class Row:
    promise: Promise
    status: str  # breached | due soon | at risk | on track | answered (unverified)
    due_local: str

    def as_json(self) -> dict[str, object]:
        p = self.promise
        return {
            "id": p.id,
            "status": self.status,
            "state": p.state,
            "due": datetime.fromtimestamp(p.due_at, UTC).isoformat(),
            "due_local": self.due_local,
            "queue": p.queue,
            "priority": p.priority,
            "customer": p.customer,
            "reference": p.conversation,
            "subject": p.subject,
            "update": p.is_update,
            "folder": p.folder,
            "evidence": p.evidence,
            "flagged_at": _iso(p.warned_at),
            "supervisor_notified_at": _iso(p.notified_at),
        }


def status(p: Promise, now: float) -> str:
    if p.state == "answered-unverified":
        return "answered (unverified)"
    if p.state == "broken" or now >= p.due_at:
        return "breached"
    if now >= p.due_at - SOON or (p.notify_due is not None and now >= p.notify_due):
        return "due soon"
    if p.warn_due is not None and now >= p.warn_due:
        return "at risk"
    return "on track"


def open_book(config: Config) -> PromiseBook:
    ledger = Ledger.read_only(config.state_dir())
    book = PromiseBook(ledger.db)
    try:
        book.all("0")
    except sqlite3.OperationalError:
        raise ResponderError(
            f"the ledger in {config.state_dir()} has no promises yet (start the service once)"
        ) from None
    return book


def rows(config: Config, book: PromiseBook, now: float) -> list[Row]:
    zones = {
        name: spec.timezone
        for name, spec in calendars(config.promises, config.reply.timezone).items()
    }
    found = book.all(
        "state IN ('open', 'answered-unverified', 'broken') AND (state != 'broken' OR due_at >= ?)",
        (now - 7 * 86400,),
    )
    result = []
    for p in found:
        zone = ZoneInfo(zones.get(p.calendar, config.reply.timezone))
        local = datetime.fromtimestamp(p.due_at, UTC).astimezone(zone)
        result.append(Row(p, status(p, now), local.strftime("%a %Y-%m-%d %H:%M %Z")))
    return result


def show(config: Config, as_json: bool, now: float | None = None) -> int:
    now = datetime.now(UTC).timestamp() if now is None else now
    listed = rows(config, open_book(config), now)
    if as_json:
        print(json.dumps([row.as_json() for row in listed], ensure_ascii=False))
        return 0
    if not listed:
        print("no open promises")
        return 0
    for row in listed:
        p = row.promise
        evidence = p.evidence or (f"in {p.folder}" if p.folder else "no answer seen")
        print(
            f"{row.due_local:<26} {row.status:<22} {p.queue:<10} {p.customer:<32}"
            f" [#{p.conversation}]{' update' if p.is_update else ''}  {evidence}"
        )
    return 0


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC).isoformat()
